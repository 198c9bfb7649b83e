package upload_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// Fixtures built byte by byte, so the tests show exactly what metadata goes in and comes out.

// gpsLatitude is 38°2'45.12" (石家庄) as three EXIF RATIONALs: a byte pattern that must not survive.
var gpsLatitude = []byte{0, 0, 0, 38, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0x11, 0xA0, 0, 0, 0, 100}

// gpsLongitude is 114°30'36.00".
var gpsLongitude = []byte{0, 0, 0, 114, 0, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0, 1, 0, 0, 0x0E, 0x10, 0, 0, 0, 100}

func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for x := 0; x < 16; x++ {
		for y := 0; y < 8; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 32), 128, 255})
		}
	}
	return img
}

// exifWithGPS is a big-endian TIFF structure: IFD0 with Orientation and a GPS IFD pointer, and a
// GPS IFD with latitude and longitude.
func exifWithGPS(orientation uint16) []byte {
	be := binary.BigEndian
	var b bytes.Buffer
	b.WriteString("MM\x00\x2a\x00\x00\x00\x08")
	entry := func(tag, typ uint16, count, value uint32) {
		var e [12]byte
		be.PutUint16(e[0:], tag)
		be.PutUint16(e[2:], typ)
		be.PutUint32(e[4:], count)
		be.PutUint32(e[8:], value)
		b.Write(e[:])
	}
	// IFD0 at 8: 2 entries → 2 + 24 + 4 = 30 bytes; GPS IFD at 38.
	b.Write([]byte{0, 2})
	entry(0x0112, 3, 1, uint32(orientation)<<16)
	entry(0x8825, 4, 1, 38)
	b.Write([]byte{0, 0, 0, 0})
	// GPS IFD at 38: 4 entries → 2 + 48 + 4 = 54 bytes; values at 92 and 116.
	b.Write([]byte{0, 4})
	entry(0x0001, 2, 2, uint32('N')<<24)
	entry(0x0002, 5, 3, 92)
	entry(0x0003, 2, 2, uint32('E')<<24)
	entry(0x0004, 5, 3, 116)
	b.Write([]byte{0, 0, 0, 0})
	b.Write(gpsLatitude)
	b.Write(gpsLongitude)
	return b.Bytes()
}

func segment(marker byte, payload []byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
}

// jpegWithGPS is a real JPEG from image/jpeg with an Exif segment carrying GPS, an XMP segment
// with a location, a comment, and a trailer after EOI.
func jpegWithGPS(t testing.TB, orientation uint16) (withGPS, plain []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	plain = buf.Bytes()
	var out bytes.Buffer
	out.Write(plain[:2]) // SOI
	out.Write(segment(0xE1, append([]byte("Exif\x00\x00"), exifWithGPS(orientation)...)))
	out.Write(segment(0xE1, []byte(`http://ns.adobe.com/xap/1.0/`+"\x00"+`<x:xmpmeta><rdf:Description exif:GPSLatitude="38,2.752N"/></x:xmpmeta>`)))
	out.Write(segment(0xFE, []byte("taken at 38.0459N 114.51E")))
	out.Write(plain[2:])
	out.WriteString("TRAILER with GPS 38.0459N")
	return out.Bytes(), plain
}

func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// pngWithMetadata is a real PNG with eXIf, an XMP iTXt and a tEXt chunk inserted before IDAT.
func pngWithMetadata(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage()); err != nil {
		t.Fatal(err)
	}
	p := buf.Bytes()
	ihdrEnd := 8 + 12 + 13
	var out bytes.Buffer
	out.Write(p[:ihdrEnd])
	out.Write(pngChunk("eXIf", exifWithGPS(1)))
	out.Write(pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta exif:GPSLatitude=\"38,2.752N\"/>")))
	out.Write(pngChunk("tEXt", []byte("Comment\x00GPS 38.0459N")))
	out.Write(p[ihdrEnd:])
	return out.Bytes()
}

func riffChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString(typ)
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	if len(data)%2 == 1 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

// webpWithMetadata is an extended WebP container: VP8X (alpha, EXIF and XMP flags), an image
// chunk, an odd-sized EXIF chunk and an XMP chunk.
func webpWithMetadata() (file, image []byte) {
	vp8x := []byte{0x10 | 0x08 | 0x04, 0, 0, 0, 15, 0, 0, 7, 0, 0}
	image = riffChunk("VP8L", []byte{0x2F, 1, 2, 3, 4, 5, 6})
	var body bytes.Buffer
	body.WriteString("WEBP")
	body.Write(riffChunk("VP8X", vp8x))
	body.Write(image)
	body.Write(riffChunk("EXIF", append([]byte("MM"), exifWithGPS(1)[2:]...)[:len(exifWithGPS(1))-1]))
	body.Write(riffChunk("XMP ", []byte(`<x:xmpmeta exif:GPSLatitude="38,2.752N"/>`)))
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes(), image
}

func bmffBox(typ string, payload ...[]byte) []byte {
	n := 8
	for _, p := range payload {
		n += len(p)
	}
	b := make([]byte, 8, n)
	binary.BigEndian.PutUint32(b, uint32(n))
	copy(b[4:], typ)
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

func fullBox(typ string, version byte, payload ...[]byte) []byte {
	return bmffBox(typ, append([][]byte{{version, 0, 0, 0}}, payload...)...)
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// heicWithMetadata is the skeleton of an iPhone HEIC: ftyp, meta (hdlr, iinf with an image item,
// an Exif item and an XMP item, iloc, idat) and mdat. The Exif item lives in mdat (construction
// method 0), the XMP item in idat (method 1). It returns the file and the ranges of the image
// bytes, the Exif bytes and the XMP bytes.
func heicWithMetadata() (file []byte, img, exif, xmp [2]int) {
	imageData := []byte("HEVC-IMAGE-DATA-NOT-REAL")
	exifData := append([]byte{0, 0, 0, 6, 'E', 'x', 'i', 'f', 0, 0}, exifWithGPS(6)...)
	xmpData := []byte(`<x:xmpmeta exif:GPSLatitude="38,2.752N"/>`)

	ftyp := bmffBox("ftyp", []byte("heic"), u32(0), []byte("mif1heic"))
	hdlr := fullBox("hdlr", 0, u32(0), []byte("pict"), make([]byte, 12), []byte{0})
	infe := func(id int, typ string, extra []byte) []byte {
		return fullBox("infe", 2, u16(id), u16(0), []byte(typ), []byte{0}, extra)
	}
	iinf := fullBox("iinf", 0, u16(3),
		infe(1, "hvc1", nil),
		infe(2, "Exif", nil),
		infe(3, "mime", []byte("application/rdf+xml\x00")))
	idat := bmffBox("idat", xmpData)
	build := func(mdatAt int) []byte {
		// iloc version 1: offset_size 4, length_size 4, base_offset_size 0, index_size 0.
		item := func(id, method, offset, length int) []byte {
			return bytes.Join([][]byte{u16(id), u16(method), u16(0), u16(1), u32(offset), u32(length)}, nil)
		}
		iloc := fullBox("iloc", 1, []byte{0x44, 0x00}, u16(3),
			item(1, 0, mdatAt+8, len(imageData)),
			item(2, 0, mdatAt+8+len(imageData), len(exifData)),
			item(3, 1, 0, len(xmpData)))
		meta := fullBox("meta", 0, hdlr, iinf, iloc, idat)
		return bytes.Join([][]byte{ftyp, meta}, nil)
	}
	head := build(0)
	head = build(len(head)) // offsets do not change the length of iloc
	mdat := bmffBox("mdat", imageData, exifData)
	file = append(head, mdat...)
	at := len(head) + 8
	img = [2]int{at, at + len(imageData)}
	exif = [2]int{img[1], img[1] + len(exifData)}
	x := bytes.Index(file, xmpData)
	xmp = [2]int{x, x + len(xmpData)}
	return file, img, exif, xmp
}

// m4a is an MP4 with the given track handlers ("soun", "vide").
func m4a(major string, handlers ...string) []byte {
	var traks [][]byte
	for _, h := range handlers {
		hdlr := fullBox("hdlr", 0, u32(0), []byte(h), make([]byte, 12), []byte{0})
		traks = append(traks, bmffBox("trak", bmffBox("mdia", bmffBox("mdhd", make([]byte, 24)), hdlr)))
	}
	ftyp := bmffBox("ftyp", []byte(major), u32(0), []byte("isomM4A "))
	moov := bmffBox("moov", append([][]byte{bmffBox("mvhd", make([]byte, 100))}, traks...)...)
	return bytes.Join([][]byte{ftyp, moov, bmffBox("mdat", make([]byte, 64))}, nil)
}

// mp3Frames is n MPEG-1 layer III frames, 128 kbit/s at 44.1 kHz (417 bytes each).
func mp3Frames(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		f := make([]byte, 417)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x64})
		b = append(b, f...)
	}
	return b
}

// adtsFrames is n AAC-LC frames at 44.1 kHz, stereo, 100 bytes each.
func adtsFrames(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		f := make([]byte, 100)
		l := len(f)
		copy(f, []byte{0xFF, 0xF1, 0x50, 0x80 | byte(l>>11), byte(l >> 3), byte(l&7)<<5 | 0x1F, 0xFC})
		b = append(b, f...)
	}
	return b
}

func id3(payload []byte) []byte {
	tag := []byte("ID3\x04\x00\x00\x00\x00\x00\x0a")
	return append(append(tag, make([]byte, 10)...), payload...)
}
