package app_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// uploadView is the API's attachment.
type uploadView struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	MIME      string `json:"mime"`
	Size      int64  `json:"size"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	ExpiresAt string `json:"url_expires_at"`
}

// multipartFile builds the body wx.uploadFile sends: the file in field "file" plus a formData
// field the server does not know (and ignores).
func multipartFile(t *testing.T, field, name string, data []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.WriteField("draft", "draft-1"); err != nil {
		t.Fatal(err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, field, name))
	h.Set("Content-Type", "image/jpeg") // what the client claims; never believed
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), b.Bytes()
}

func uploadFile(t *testing.T, c *apitest.Client, name string, data []byte) *apitest.Response {
	t.Helper()
	ct, body := multipartFile(t, "file", name, data)
	return c.DoRaw("POST", "/api/v1/uploads", ct, body)
}

func mustUpload(t *testing.T, c *apitest.Client, name string, data []byte) uploadView {
	t.Helper()
	r := uploadFile(t, c, name, data)
	if r.Status != http.StatusCreated {
		t.Fatalf("upload %s: %d %s", name, r.Status, r.Body)
	}
	var v uploadView
	r.JSON(t, &v)
	return v
}

// gpsLatitude is 38°2'45.12" as three big-endian EXIF RATIONALs: bytes that must not survive.
var gpsLatitude = []byte{0, 0, 0, 38, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0x11, 0xA0, 0, 0, 0, 100}

// jpegWithGPS is a real JPEG (image/jpeg) with an APP1 Exif segment built by hand: IFD0 holding
// Orientation = 6 and a pointer to a GPS IFD with latitude 38°2'45.12"N.
func jpegWithGPS(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 16))
	for x := 0; x < 32; x++ {
		for y := 0; y < 16; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 16), 200, 255})
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, nil); err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	entry := func(tag, typ uint16, count, value uint32) {
		tiff = be.AppendUint16(tiff, tag)
		tiff = be.AppendUint16(tiff, typ)
		tiff = be.AppendUint32(tiff, count)
		tiff = be.AppendUint32(tiff, value)
	}
	tiff = append(tiff, 0, 2) // IFD0 at 8: 2 entries, next IFD 0 → GPS IFD at 38
	entry(0x0112, 3, 1, 6<<16)
	entry(0x8825, 4, 1, 38)
	tiff = append(tiff, 0, 0, 0, 0)
	tiff = append(tiff, 0, 2) // GPS IFD at 38: 2 entries → value at 38+2+24+4 = 68
	entry(0x0001, 2, 2, uint32('N')<<24)
	entry(0x0002, 5, 3, 68)
	tiff = append(tiff, 0, 0, 0, 0)
	tiff = append(tiff, gpsLatitude...)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := append([]byte{0xFF, 0xE1}, be.AppendUint16(nil, uint16(len(payload)+2))...)
	seg = append(seg, payload...)
	jpg := enc.Bytes()
	out := append(append(append([]byte(nil), jpg[:2]...), seg...), jpg[2:]...)
	if !bytes.Contains(out, gpsLatitude) {
		t.Fatal("fixture without GPS")
	}
	return out
}

func pngImage(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mp3 is three MPEG-1 layer III frames (128 kbit/s, 44.1 kHz) behind an ID3v2 tag.
func mp3() []byte {
	b := []byte("ID3\x04\x00\x00\x00\x00\x00\x00")
	for i := 0; i < 3; i++ {
		f := make([]byte, 417)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x64})
		b = append(b, f...)
	}
	return b
}

func TestUploadAcceptsImagesAndAudioByContent(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))

	for _, c := range []struct {
		name, kind, mime string
		data             []byte
	}{
		{"走访照片.jpg", "image", "image/jpeg", jpegWithGPS(t)},
		{"photo.png", "image", "image/png", pngImage(t)},
		{"录音.mp3", "audio", "audio/mpeg", mp3()},
		// The name says nothing: a PNG called .mp3 is a PNG.
		{"misnamed.mp3", "image", "image/png", pngImage(t)},
	} {
		v := mustUpload(t, ins, c.name, c.data)
		if v.Kind != c.kind || v.MIME != c.mime || v.Name != c.name || v.Size <= 0 || !strings.HasPrefix(v.URL, fmt.Sprintf("/api/v1/files/%d?exp=", v.ID)) {
			t.Errorf("%s: %+v", c.name, v)
		}
	}
	// Staff upload too (bulletins, answers).
	mustUpload(t, staff, "notice.png", pngImage(t))

	// A name with a path (a Windows one, from the desktop WeChat) is cut to its base name.
	if v := mustUpload(t, ins, `C:\fakepath\..\走访照片.png`, pngImage(t)); v.Name != "走访照片.png" {
		t.Errorf("name %q", v.Name)
	}
}

func TestUploadRefusesBadFiles(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	max := e.Config.Uploads.MaxBytes

	cases := []struct {
		name   string
		ct     string
		body   []byte
		status int
		code   string
	}{}
	add := func(name string, status int, code string, field, file string, data []byte) {
		ct, body := multipartFile(t, field, file, data)
		cases = append(cases, struct {
			name   string
			ct     string
			body   []byte
			status int
			code   string
		}{name, ct, body, status, code})
	}
	add("text renamed .jpg", 415, "unsupported_file_type", "file", "photo.jpg", []byte("这是一段文字,不是图片。\n"))
	add("html renamed .png", 415, "unsupported_file_type", "file", "x.png", []byte("<html><script>alert(1)</script></html>"))
	add("gif", 415, "unsupported_file_type", "file", "x.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	add("truncated jpeg", 415, "unsupported_file_type", "file", "x.jpg", jpegWithGPS(t)[:100])
	add("empty file", 400, "invalid_argument", "file", "x.jpg", nil)
	add("wrong field", 400, "invalid_argument", "image", "x.jpg", pngImage(t))
	add("one byte over the limit", 413, "file_too_large", "file", "big.jpg", append(pngImage(t), make([]byte, max)...))
	add("far over the limit", 413, "file_too_large", "file", "huge.jpg", make([]byte, max+200<<10))
	cases = append(cases,
		struct {
			name   string
			ct     string
			body   []byte
			status int
			code   string
		}{"json instead of multipart", "application/json", []byte(`{"file":"x"}`), 415, "unsupported_media_type"},
		struct {
			name   string
			ct     string
			body   []byte
			status int
			code   string
		}{"broken multipart", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8\xff"), 400, "invalid_argument"},
		struct {
			name   string
			ct     string
			body   []byte
			status int
			code   string
		}{"multipart without boundary", "multipart/form-data", []byte("--xyz\r\n"), 400, "invalid_argument"},
	)
	for _, c := range cases {
		r := ins.DoRaw("POST", "/api/v1/uploads", c.ct, c.body)
		if r.Status != c.status {
			t.Errorf("%s: %d, want %d: %.300s", c.name, r.Status, c.status, r.Body)
			continue
		}
		eb := r.Err(t)
		if eb.Code != c.code || len(eb.Details) == 0 || eb.Details[0].Field != "file" {
			t.Errorf("%s: %+v, want %s naming file", c.name, eb, c.code)
		}
	}
	// The limit on this route is the file limit, not the 1 MB JSON limit: 2 MB is fine.
	mustUpload(t, ins, "two-mb.png", append(pngImage(t), make([]byte, 2<<20)...))

	// Anonymous callers are refused before the body is read.
	if r := uploadFile(t, e.Anon(t), "x.png", pngImage(t)); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", r.Status)
	}
	// Nothing of the refused files was kept: the instructor's one upload is the 2 MB photo (stored
	// re-encoded, without the padding).
	var kept []struct {
		MIME string
		Size int64
	}
	e.DB().Raw("SELECT mime, size FROM uploads WHERE account_id = ?", accountID(t, ins)).Scan(&kept)
	if len(kept) != 1 || kept[0].MIME != "image/png" || kept[0].Size <= 0 {
		t.Errorf("uploads stored for the instructor: %+v", kept)
	}
}

func TestUploadedPhotoHasNoGPS(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	in := jpegWithGPS(t)
	v := mustUpload(t, ins, "gps.jpg", in)

	var got uploadView
	ins.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/uploads/%d", v.ID), nil).JSON(t, &got)
	r := e.Anon(t).Must(http.StatusOK, "GET", got.URL, nil)
	out := r.Body
	if bytes.Contains(out, gpsLatitude) || bytes.Contains(out, []byte{0x88, 0x25}) {
		t.Fatal("the stored photo still carries its GPS position")
	}
	if int64(len(out)) != got.Size || got.Size >= int64(len(in)) {
		t.Fatalf("served %d bytes, size %d, uploaded %d", len(out), got.Size, len(in))
	}
	// Orientation survives, in a fresh Exif segment holding nothing else.
	i := bytes.Index(out, []byte("Exif\x00\x00"))
	if i < 0 || binary.BigEndian.Uint16(out[i-2:]) != 2+6+8+2+12+4 || binary.BigEndian.Uint16(out[i+16:]) != 0x0112 || out[i+25] != 6 {
		t.Fatalf("orientation not kept: % x", out[:min(len(out), 64)])
	}
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("served JPEG does not decode: %v", err)
	}
	if r.Header.Get("Content-Type") != "image/jpeg" || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(r.Header.Get("Cache-Control"), "private, max-age=") {
		t.Fatalf("headers: %v", r.Header)
	}
	// Range requests (iOS audio players) get the part asked for.
	req, _ := http.NewRequest("GET", e.URL+got.URL, nil)
	req.Header.Set("Range", "bytes=0-9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || resp.ContentLength != 10 {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, resp.ContentLength)
	}
}

// Not parallel: a server eleven minutes ahead runs its sweeps over every test's data.
func TestSignedLinks(t *testing.T) {
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	v := mustUpload(t, ins, "a.png", pngImage(t))
	anon := e.Anon(t)

	// The link works without a token.
	if r := anon.Must(http.StatusOK, "GET", v.URL, nil); !bytes.Equal(r.Body, pngImage(t)) {
		t.Fatal("served bytes differ")
	}
	exp, err := time.Parse(time.RFC3339Nano, v.ExpiresAt)
	if err != nil || exp.Sub(e.Clock.Now()) < 10*time.Minute || exp.Sub(e.Clock.Now()) > 11*time.Minute {
		t.Fatalf("url_expires_at %q (err %v)", v.ExpiresAt, err)
	}

	// Tampered, missing or moved signatures and stretched expiries are refused.
	base, query, _ := strings.Cut(v.URL, "?")
	sig := query[strings.Index(query, "sig=")+4:]
	flip := "A"
	if strings.HasSuffix(sig, "A") {
		flip = "B"
	}
	other := mustUpload(t, ins, "b.png", pngImage(t))
	for name, u := range map[string]string{
		"tampered signature": v.URL[:len(v.URL)-1] + flip,
		"no signature":       base + "?" + query[:strings.Index(query, "&sig=")],
		"no query":           base,
		"later expiry":       strings.Replace(v.URL, fmt.Sprintf("exp=%d", exp.Unix()), fmt.Sprintf("exp=%d", exp.Unix()+86400), 1),
		"another file":       strings.Replace(v.URL, fmt.Sprintf("/files/%d?", v.ID), fmt.Sprintf("/files/%d?", other.ID), 1),
		"bad exp":            base + "?exp=soon&sig=" + sig,
	} {
		if eb := anon.Must(http.StatusForbidden, "GET", u, nil).Err(t); eb.Code != "link_invalid" {
			t.Errorf("%s: %+v", name, eb)
		}
	}
	anon.Must(http.StatusNotFound, "GET", "/api/v1/files/abc?exp=1&sig=x", nil).Err(t)

	// The same link seen eleven minutes later, by a second instance, has expired.
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(11*time.Minute)))
	if eb := later.Anon(t).Must(http.StatusForbidden, "GET", v.URL, nil).Err(t); eb.Code != "link_expired" {
		t.Fatalf("expired link: %+v", eb)
	}
	// A fresh link from there works again.
	var fresh uploadView
	later.As(t, ins.Token).Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/uploads/%d", v.ID), nil).JSON(t, &fresh)
	later.Anon(t).Must(http.StatusOK, "GET", fresh.URL, nil)

	// An unsatisfiable range is answered in the error format.
	r := func() *http.Response {
		req, _ := http.NewRequest("GET", e.URL+v.URL, nil)
		req.Header.Set("Range", "bytes=99999999-")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}()
	defer r.Body.Close()
	if r.StatusCode != http.StatusRequestedRangeNotSatisfiable || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("bad range: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
}

func TestUploadScope(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	countyIn := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, countyIn, countyIn.Unit("village", apitest.TownshipA1))
	v := mustUpload(t, ins, "a.jpg", jpegWithGPS(t))
	path := fmt.Sprintf("/api/v1/uploads/%d", v.ID)

	otherCounty := e.Staff(t, "county_staff", apitest.CountyA2)
	otherIns, _ := e.InstructorClient(t, otherCounty, otherCounty.Unit("village", apitest.CountyA2))
	sameUnitIns, _ := e.InstructorClient(t, countyIn, countyIn.Unit("school", apitest.TownshipA1))
	for name, c := range map[string]struct {
		client *apitest.Client
		status int
	}{
		"uploader":                 {ins, 200},
		"county in":                {countyIn, 200},
		"city in":                  {e.Staff(t, "city_staff", apitest.CityA), 200},
		"province":                 {e.Staff(t, "province_staff", apitest.Province), 200},
		"county out":               {otherCounty, 404},
		"city out":                 {e.Staff(t, "city_staff", apitest.CityB), 404},
		"instructor elsewhere":     {otherIns, 404},
		"instructor same township": {sameUnitIns, 404},
		"anonymous":                {e.Anon(t), 401},
	} {
		r := c.client.Do("GET", path, nil)
		if r.Status != c.status {
			t.Errorf("%s: %d, want %d", name, r.Status, c.status)
			continue
		}
		if c.status == 404 {
			if eb := r.Err(t); eb.Code != "upload_not_found" {
				t.Errorf("%s: %+v", name, eb)
			}
		}
	}
	countyIn.Must(http.StatusNotFound, "GET", "/api/v1/uploads/99999999", nil).Err(t)
	countyIn.Must(http.StatusNotFound, "GET", "/api/v1/uploads/x", nil).Err(t)
}
