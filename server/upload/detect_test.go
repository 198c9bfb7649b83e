package upload_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/shiliu/shiliu/server/upload"
)

func TestDetect(t *testing.T) {
	withGPS, plain := jpegWithGPS(t, 6)
	heic, _, _, _ := heicWithMetadata()
	webp, _ := webpWithMetadata()
	cases := []struct {
		name string
		data []byte
		mime string // "" = refused
	}{
		{"jpeg", plain, "image/jpeg"},
		{"jpeg with exif", withGPS, "image/jpeg"},
		{"png", pngWithMetadata(t), "image/png"},
		{"webp", webp, "image/webp"},
		{"heic", heic, "image/heic"},
		{"heif generic brand", append(bmffBox("ftyp", []byte("mif1"), u32(0), []byte("mif1")), heic[len(bmffBox("ftyp", []byte("heic"), u32(0), []byte("mif1heic"))):]...), "image/heif"},
		{"avif", bmffBox("ftyp", []byte("avif"), u32(0), []byte("mif1avif")), ""},
		{"avif under mif1", bmffBox("ftyp", []byte("mif1"), u32(0), []byte("mif1avif")), ""},
		{"m4a", m4a("M4A ", "soun"), "audio/mp4"},
		{"mp4 audio only", m4a("isom", "soun"), "audio/mp4"},
		{"mp4 video", m4a("isom", "vide", "soun"), ""},
		{"mp4 without moov", bmffBox("ftyp", []byte("M4A "), u32(0), []byte("M4A ")), ""},
		{"mp3", mp3Frames(3), "audio/mpeg"},
		{"mp3 single frame", mp3Frames(1), "audio/mpeg"},
		{"mp3 with id3", id3(mp3Frames(2)), "audio/mpeg"},
		{"aac adts", adtsFrames(3), "audio/aac"},
		{"aac with id3", id3(adtsFrames(2)), "audio/aac"},
		{"text renamed .jpg", []byte("这不是图片,只是一段文字。\nnot an image at all\n"), ""},
		{"html", []byte("<!doctype html><script>alert(1)</script>"), ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ""},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), ""},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), ""},
		{"empty", nil, ""},
		{"ff bytes", bytes.Repeat([]byte{0xFF}, 64), ""},
		{"broken mp3 sync", append(mp3Frames(1), 0x00, 0x11, 0x22, 0x33, 0x44), ""},
		{"id3 without audio", id3([]byte("just text after a tag")), ""},
	}
	for _, c := range cases {
		got, ok := upload.Detect(c.data)
		if c.mime == "" {
			if ok {
				t.Errorf("%s: detected as %+v, want refused", c.name, got)
			}
			continue
		}
		if !ok || got.MIME != c.mime {
			t.Errorf("%s: got %+v %v, want %s", c.name, got, ok, c.mime)
		}
	}
}

// exifSegments lists the payloads of the APP1 segments of a JPEG, checking its structure.
func app1Segments(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			t.Fatalf("no marker at %d", i)
		}
		m := b[i+1]
		if m == 0xDA { // the scan: metadata comes before it in our fixtures
			break
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if m == 0xE1 {
			out = append(out, b[i+4:i+2+n])
		}
		i += 2 + n
	}
	return out
}

func TestCleanJPEGRemovesGPSAndKeepsOrientation(t *testing.T) {
	withGPS, plain := jpegWithGPS(t, 6)
	if !bytes.Contains(withGPS, gpsLatitude) {
		t.Fatal("fixture has no GPS")
	}
	typ, _ := upload.Detect(withGPS)
	out, err := upload.Clean(typ, append([]byte(nil), withGPS...))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{gpsLatitude, gpsLongitude, []byte("GPSLatitude"), []byte("38.0459N"), []byte("TRAILER"), {0x88, 0x25}} {
		if bytes.Contains(out, bad) {
			t.Errorf("output still contains %q", bad)
		}
	}
	app1 := app1Segments(t, out)
	if len(app1) != 1 {
		t.Fatalf("want exactly the orientation Exif segment, got %d APP1 segments", len(app1))
	}
	exif := app1[0]
	if !bytes.HasPrefix(exif, []byte("Exif\x00\x00MM")) || len(exif) != 6+8+2+12+4 {
		t.Fatalf("orientation segment: % x", exif)
	}
	if tag, value := binary.BigEndian.Uint16(exif[16:]), binary.BigEndian.Uint16(exif[24:]); tag != 0x0112 || value != 6 {
		t.Fatalf("orientation tag %#x = %d, want 0x112 = 6", tag, value)
	}
	// The picture itself is untouched: same pixels as the JPEG before metadata was added.
	a, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("cleaned JPEG does not decode: %v", err)
	}
	b, _ := jpeg.Decode(bytes.NewReader(plain))
	if !samePixels(a, b) {
		t.Fatal("pixels changed")
	}

	// Without an orientation (or orientation 1) no Exif is written at all.
	upright, _ := jpegWithGPS(t, 1)
	out, err = upload.Clean(typ, upright)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(app1Segments(t, out)); n != 0 {
		t.Fatalf("%d APP1 segments left", n)
	}
	// A JPEG without metadata passes through unchanged.
	out, err = upload.Clean(typ, append([]byte(nil), plain...))
	if err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("plain JPEG changed (err %v)", err)
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

func TestCleanJPEGRefusesBrokenFiles(t *testing.T) {
	withGPS, _ := jpegWithGPS(t, 6)
	typ, _ := upload.Detect(withGPS)
	for name, b := range map[string][]byte{
		"truncated in a segment": withGPS[:40],
		"no EOI":                 withGPS[:len(withGPS)-len("TRAILER with GPS 38.0459N")-2],
		"bad length":             append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01}, withGPS[6:]...),
		"garbage after SOI":      []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0x41, 0x42},
	} {
		if _, err := upload.Clean(typ, append([]byte(nil), b...)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCleanPNG(t *testing.T) {
	in := pngWithMetadata(t)
	typ, _ := upload.Detect(in)
	out, err := upload.Clean(typ, append([]byte(nil), in...))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{[]byte("eXIf"), []byte("iTXt"), []byte("tEXt"), gpsLatitude, []byte("GPS")} {
		if bytes.Contains(out, bad) {
			t.Errorf("output still contains %q", bad)
		}
	}
	a, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("cleaned PNG does not decode: %v", err)
	}
	if !samePixels(a, testImage()) {
		t.Fatal("pixels changed")
	}
	if _, err := upload.Clean(typ, in[:60]); err == nil {
		t.Fatal("truncated PNG accepted")
	}
}

func TestCleanWebP(t *testing.T) {
	in, image := webpWithMetadata()
	typ, _ := upload.Detect(in)
	out, err := upload.Clean(typ, append([]byte(nil), in...))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("EXIF")) || bytes.Contains(out, []byte("XMP ")) || bytes.Contains(out, gpsLatitude) {
		t.Fatalf("metadata left: %q", out)
	}
	if got := int(binary.LittleEndian.Uint32(out[4:])); got != len(out)-8 {
		t.Fatalf("RIFF size %d, want %d", got, len(out)-8)
	}
	if string(out[12:16]) != "VP8X" || out[20] != 0x10 {
		t.Fatalf("VP8X flags %#x, want alpha only", out[20])
	}
	if !bytes.Contains(out, image) {
		t.Fatal("image chunk lost")
	}
	if _, err := upload.Clean(typ, in[:20]); err == nil {
		t.Fatal("truncated WebP accepted")
	}
}

func TestCleanHEIC(t *testing.T) {
	in, img, exif, xmp := heicWithMetadata()
	orig := append([]byte(nil), in...)
	typ, _ := upload.Detect(in)
	out, err := upload.Clean(typ, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(orig) {
		t.Fatal("length changed")
	}
	if bytes.Contains(out, gpsLatitude) || bytes.Contains(out, []byte("GPSLatitude")) {
		t.Fatal("GPS left")
	}
	for _, r := range [][2]int{exif, xmp} {
		if !bytes.Equal(out[r[0]:r[1]], make([]byte, r[1]-r[0])) {
			t.Errorf("metadata at %v not cleared", r)
		}
	}
	// Everything else, the image data first, is as it was.
	for i := range out {
		inMeta := (i >= exif[0] && i < exif[1]) || (i >= xmp[0] && i < xmp[1])
		if !inMeta && out[i] != orig[i] {
			t.Fatalf("byte %d changed (image data is %v)", i, img)
		}
	}

	// A HEIC whose metadata cannot be located is refused, not stored with its location.
	broken := append([]byte(nil), orig...)
	i := bytes.Index(broken, []byte("iloc"))
	copy(broken[i:], "free")
	if _, err := upload.Clean(typ, broken); err == nil {
		t.Fatal("HEIC without iloc accepted")
	}
	truncated := append([]byte(nil), orig[:len(orig)-10]...)
	if _, err := upload.Clean(typ, truncated); err == nil {
		t.Fatal("truncated HEIC accepted")
	}
}

func TestCleanName(t *testing.T) {
	long := ""
	for i := 0; i < 120; i++ {
		long += "照"
	}
	cases := map[string]string{
		"IMG_0001.jpg":                "IMG_0001.jpg",
		"../../etc/passwd":            "passwd",
		`C:\Users\王\Desktop\走访.jpg`:   "走访.jpg",
		"a\x00b\x1b[31m.jpg":          "ab[31m.jpg",
		"evil\u202egnp.exe":           "evilgnp.exe",
		"quote\".jpg":                 "quote.jpg",
		"":                            "",
		"..":                          "",
		long + ".jpeg":                long[:len("照")*95] + ".jpeg",
		"wxfile://tmp_abc123.jpg":     "tmp_abc123.jpg",
		"http://tmp/wx5e8d3c6f1a.mp3": "wx5e8d3c6f1a.mp3",
	}
	for in, want := range cases {
		if got := upload.CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
