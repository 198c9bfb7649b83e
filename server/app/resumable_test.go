package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// tus is a client of the resumable uploads: every request carries Tus-Resumable.
func tus(c *apitest.Client) *apitest.Client { return c.With("Tus-Resumable", "1.0.0") }

// noisyPNG is a PNG of about n bytes that no compressor shrinks (random grey pixels).
func noisyPNG(t *testing.T, side int, seed int64) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewSource(seed))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Intn(256))
	}
	img.Set(0, 0, color.Gray{Y: 1})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tusMeta(kv ...string) string {
	out := ""
	for i := 0; i < len(kv); i += 2 {
		if out != "" {
			out += ","
		}
		out += kv[i] + " " + base64.StdEncoding.EncodeToString([]byte(kv[i+1]))
	}
	return out
}

// createResumable starts a resumable upload and returns its URL path.
func createResumable(t *testing.T, c *apitest.Client, length int, clientID string) (string, *apitest.Response) {
	t.Helper()
	r := tus(c).With("Upload-Length", strconv.Itoa(length)).With("Upload-Metadata", tusMeta("filename", "现场.png", "client_id", clientID)).
		DoRaw("POST", "/api/v1/uploads/resumable", "", nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	loc := r.Header.Get("Location")
	if loc == "" || r.Header.Get("Upload-Offset") == "" || r.Header.Get("Upload-Expires") == "" {
		t.Fatalf("create answered headers %v", r.Header)
	}
	return loc, r
}

// offsetOf asks where an upload stands (HEAD).
func offsetOf(t *testing.T, c *apitest.Client, loc string) (int, int) {
	t.Helper()
	r := tus(c).DoRaw("HEAD", loc, "", nil)
	if r.Status != http.StatusOK {
		return -1, r.Status
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("HEAD without Cache-Control: no-store: %v", r.Header)
	}
	n, err := strconv.Atoi(r.Header.Get("Upload-Offset"))
	if err != nil {
		t.Fatalf("HEAD Upload-Offset %q", r.Header.Get("Upload-Offset"))
	}
	return n, r.Status
}

// patchChunk sends data at offset, as PATCH or (override) as POST with X-HTTP-Method-Override.
func patchChunk(c *apitest.Client, loc string, offset int, data []byte, override bool) *apitest.Response {
	c = tus(c).With("Upload-Offset", strconv.Itoa(offset))
	if override {
		return c.With("X-HTTP-Method-Override", "PATCH").DoRaw("POST", loc, "application/offset+octet-stream", data)
	}
	return c.DoRaw("PATCH", loc, "application/offset+octet-stream", data)
}

// cutChunk sends a PATCH whose body stops after `sent` of its declared length bytes, then drops
// the connection: a phone losing its signal in the middle of a chunk.
func cutChunk(t *testing.T, e *apitest.Env, token, loc string, offset int, chunk []byte, sent int) {
	t.Helper()
	u, _ := url.Parse(e.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Upload-Offset: %d\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: %d\r\n\r\n",
		loc, u.Host, token, offset, len(chunk))
	if _, err := conn.Write(chunk[:sent]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the bytes reach the server before the connection goes
	conn.Close()
}

// partialFiles counts the stored chunks of partial uploads.
func partialFiles(t *testing.T, e *apitest.Env, id string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.Config.Uploads.Dir, "partial", id))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range entries {
		if d.Type().IsRegular() && d.Name()[0] != '.' {
			n++
		}
	}
	return n
}

// A photo goes up in chunks; the connection drops in the middle of one (what arrived is kept), the
// app restarts and goes on against another instance sharing the database and the uploads
// directory; the finished upload's bytes are the photo's, a retried completion and a retried
// POST /uploads with the same client_id answer the same upload. Not parallel: it starts a second
// instance.
func TestResumableUploadSurvivesADroppedConnectionAndARestart(t *testing.T) {
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	photo := noisyPNG(t, 200, 7)
	clientID := apitest.ClientID()
	const chunk = 16 << 10

	// discovery needs no login
	if r := e.Anon(t).DoRaw("OPTIONS", "/api/v1/uploads/resumable", "", nil); r.Status != http.StatusNoContent ||
		r.Header.Get("Tus-Version") != "1.0.0" || r.Header.Get("Tus-Max-Size") != strconv.FormatInt(e.Config.Uploads.MaxBytes, 10) {
		t.Fatalf("OPTIONS: %d %v", r.Status, r.Header)
	}

	loc, _ := createResumable(t, ins, len(photo), clientID)
	id := filepath.Base(loc)
	if r := patchChunk(ins, loc, 0, photo[:chunk], false); r.Status != http.StatusNoContent || r.Header.Get("Upload-Offset") != strconv.Itoa(chunk) {
		t.Fatalf("first chunk: %d %v %s", r.Status, r.Header, r.Body)
	}
	// The creation's answer was lost: creating again with the same client_id finds the same upload.
	if again, r := createResumable(t, ins, len(photo), clientID); again != loc || r.Header.Get("Upload-Offset") != strconv.Itoa(chunk) {
		t.Fatalf("creation retried: %s at %s, want %s", again, r.Header.Get("Upload-Offset"), loc)
	}

	// The signal goes 5000 bytes into the second chunk: the server keeps those.
	cutChunk(t, e, ins.Token, loc, chunk, photo[chunk:2*chunk], 5000)
	want := chunk + 5000
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := offsetOf(t, ins, loc)
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the cut the server stands at %d, want %d (the bytes that arrived)", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The app restarts and meets another instance.
	other := apitest.Another(t, clock.NewFake(time.Now()))
	ins2 := other.As(t, ins.Token)
	off, _ := offsetOf(t, ins2, loc)
	if off != want {
		t.Fatalf("the other instance says %d, want %d", off, want)
	}
	// A chunk for a stale offset (the phone's own idea of it) is refused, naming where it stands.
	r := patchChunk(ins2, loc, chunk, photo[chunk:2*chunk], true)
	if r.Status != http.StatusConflict || r.Err(t).Code != "upload_offset_mismatch" || r.Header.Get("Upload-Offset") != strconv.Itoa(want) {
		t.Fatalf("stale offset: %d %v %s", r.Status, r.Header, r.Body)
	}
	// Someone else's token cannot see or feed it.
	if _, status := offsetOf(t, staff, loc); status != http.StatusNotFound {
		t.Fatalf("another account's HEAD: %d", status)
	}
	if r := patchChunk(staff, loc, want, photo[want:want+10], false); r.Status != http.StatusNotFound || r.Err(t).Code != "upload_not_found" {
		t.Fatalf("another account's PATCH: %d %s", r.Status, r.Body)
	}

	var done uploadView
	for off < len(photo) {
		end := min(off+chunk, len(photo))
		r := patchChunk(ins2, loc, off, photo[off:end], off%2 == 0)
		if end < len(photo) {
			if r.Status != http.StatusNoContent {
				t.Fatalf("chunk at %d: %d %s", off, r.Status, r.Body)
			}
		} else {
			if r.Status != http.StatusOK {
				t.Fatalf("last chunk: %d %s", r.Status, r.Body)
			}
			r.JSON(t, &done)
		}
		off = end
	}
	if done.ID == 0 || done.MIME != "image/png" || done.Size != int64(len(photo)) || done.Name != "现场.png" {
		t.Fatalf("finished upload %+v", done)
	}
	// The stored bytes are the photo's.
	got := e.Anon(t).Do("GET", done.URL, nil)
	if got.Status != http.StatusOK || !bytes.Equal(got.Body, photo) {
		t.Fatalf("download: %d, %d bytes, identical %v", got.Status, len(got.Body), bytes.Equal(got.Body, photo))
	}
	// A completion whose answer was lost: the empty chunk at the end answers the same upload, on
	// either instance; so does the normal upload route with the same client_id.
	for _, c := range []*apitest.Client{ins, ins2} {
		var v uploadView
		r := patchChunk(c, loc, len(photo), []byte{}, false)
		if r.Status != http.StatusOK {
			t.Fatalf("retried completion: %d %s", r.Status, r.Body)
		}
		if r.JSON(t, &v); v.ID != done.ID {
			t.Fatalf("retried completion made upload %d, first was %d", v.ID, done.ID)
		}
	}
	if r := uploadWithID(t, ins, clientID, true, pngImage(t)); r.Status != http.StatusOK || apitest.ID(t, r) != done.ID {
		t.Fatalf("POST /uploads with the same client_id: %d %s", r.Status, r.Body)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM uploads WHERE client_id = ?", clientID); n != 1 {
		t.Fatalf("%d uploads with the client_id", n)
	}
	if n := partialFiles(t, e, id); n != 0 {
		t.Fatalf("%d chunk files left after completion", n)
	}
	// It is attached as any upload.
	body := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	body["attachments"] = []int64{done.ID}
	ins.Submit("visit", body)
}

// The refusals speak the API's error format with stable codes; an abandoned partial upload is
// deleted with its chunks once expired; termination deletes at once. Not parallel: it moves a
// second instance's clock a day on and sweeps.
func TestResumableUploadRefusalsAndExpiry(t *testing.T) {
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))

	if r := ins.DoRaw("POST", "/api/v1/uploads/resumable", "", nil); r.Status != http.StatusPreconditionFailed ||
		r.Err(t).Code != "tus_version_unsupported" || r.Header.Get("Tus-Version") != "1.0.0" {
		t.Fatalf("without Tus-Resumable: %d %s", r.Status, r.Body)
	}
	for _, c := range []struct {
		length, meta string
		status       int
		code, field  string
	}{
		{"", "", 400, "invalid_argument", "Upload-Length"},
		{"0", "", 400, "invalid_argument", "Upload-Length"},
		{"abc", "", 400, "invalid_argument", "Upload-Length"},
		{strconv.FormatInt(e.Config.Uploads.MaxBytes+1, 10), "", 413, "file_too_large", "file"},
		{"100", "client_id !!!", 400, "invalid_argument", "Upload-Metadata"},
		{"100", tusMeta("client_id", "draft-1"), 400, "invalid_argument", "client_id"},
	} {
		r := tus(ins).With("Upload-Length", c.length).With("Upload-Metadata", c.meta).DoRaw("POST", "/api/v1/uploads/resumable", "", nil)
		eb := r.Err(t)
		if r.Status != c.status || eb.Code != c.code || len(eb.Details) != 1 || eb.Details[0].Field != c.field {
			t.Errorf("length %q meta %q: %d %s", c.length, c.meta, r.Status, r.Body)
		}
	}

	text := []byte("这不是图片,只是一段文字。这不是图片,只是一段文字。")
	loc, _ := createResumable(t, ins, len(text), apitest.ClientID())
	for _, c := range []struct {
		ct     string
		offset string
		data   []byte
		status int
		code   string
	}{
		{"application/octet-stream", "0", text, 415, "unsupported_media_type"},
		{"application/offset+octet-stream", "-1", text, 400, "invalid_argument"},
		{"application/offset+octet-stream", "5", text[:5], 409, "upload_offset_mismatch"},
		{"application/offset+octet-stream", "0", append(append([]byte{}, text...), 'x'), 413, "upload_length_exceeded"},
		// all bytes arrive, but they are no photo: the normal upload path refuses them
		{"application/offset+octet-stream", "0", text, 415, "unsupported_file_type"},
	} {
		r := tus(ins).With("Upload-Offset", c.offset).DoRaw("PATCH", loc, c.ct, c.data)
		if r.Status != c.status || r.Err(t).Code != c.code {
			t.Errorf("PATCH %s at %s: %d %s", c.ct, c.offset, r.Status, r.Body)
		}
	}
	if r := tus(ins).DoRaw("POST", loc, "application/offset+octet-stream", text); r.Status != http.StatusMethodNotAllowed || r.Err(t).Code != "method_not_allowed" {
		t.Fatalf("POST without override: %d %s", r.Status, r.Body)
	}
	// A file refused at completion is let go of by the phone (DELETE).
	if r := tus(ins).DoRaw("DELETE", loc, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if r := tus(ins).DoRaw("DELETE", loc, "", nil); r.Status != http.StatusNotFound || r.Err(t).Code != "upload_not_found" {
		t.Fatalf("DELETE again: %d %s", r.Status, r.Body)
	}
	if _, status := offsetOf(t, ins, "/api/v1/uploads/resumable/"+"0123456789abcdef0123456789abcdef"); status != http.StatusNotFound {
		t.Fatalf("unknown upload: %d", status)
	}

	// Termination deletes the partial and its chunks at once.
	photo := noisyPNG(t, 120, 3)
	loc, _ = createResumable(t, ins, len(photo), apitest.ClientID())
	if r := patchChunk(ins, loc, 0, photo[:1000], false); r.Status != http.StatusNoContent {
		t.Fatalf("chunk: %d %s", r.Status, r.Body)
	}
	if n := partialFiles(t, e, filepath.Base(loc)); n != 1 {
		t.Fatalf("%d chunk files, want 1", n)
	}
	if r := tus(ins).With("X-HTTP-Method-Override", "DELETE").DoRaw("POST", loc, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if _, status := offsetOf(t, ins, loc); status != http.StatusNotFound || partialFiles(t, e, filepath.Base(loc)) != 0 {
		t.Fatalf("after DELETE: HEAD %d, %d chunk files", status, partialFiles(t, e, filepath.Base(loc)))
	}

	// Abandoned: a day later (on an instance whose clock is a day on) the sweep deletes it.
	loc, _ = createResumable(t, ins, len(photo), apitest.ClientID())
	if r := patchChunk(ins, loc, 0, photo[:1000], false); r.Status != http.StatusNoContent {
		t.Fatalf("chunk: %d %s", r.Status, r.Body)
	}
	clk := clock.NewFake(time.Now())
	later := apitest.Another(t, clk)
	n, err := later.App.Uploads.DeleteExpiredPartials(context.Background())
	if err != nil || countRows(t, e, "SELECT COUNT(*) FROM upload_partials WHERE id = ?", filepath.Base(loc)) != 1 {
		t.Fatalf("a fresh partial was swept (%d, %v)", n, err)
	}
	clk.Advance(25 * time.Hour)
	if n, err := later.App.Uploads.DeleteExpiredPartials(context.Background()); err != nil || n < 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if countRows(t, e, "SELECT COUNT(*) FROM upload_partials WHERE id = ?", filepath.Base(loc)) != 0 ||
		countRows(t, e, "SELECT COUNT(*) FROM upload_chunks WHERE partial_id = ?", filepath.Base(loc)) != 0 ||
		partialFiles(t, e, filepath.Base(loc)) != 0 {
		t.Fatal("the expired partial, its chunk rows or its files are still there")
	}
	if _, status := offsetOf(t, ins, loc); status != http.StatusNotFound {
		t.Fatalf("a swept partial answered HEAD %d", status)
	}
}

// Two instances receive the same chunk at once (a phone's retry reaching another instance while
// the first try is still being read): exactly one counts, the other is told the offset moved, and
// the stored file is the photo. Not parallel: it starts a second instance.
func TestResumableUploadSameChunkOnTwoInstances(t *testing.T) {
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	other := apitest.Another(t, clock.NewFake(time.Now()))
	photo := noisyPNG(t, 100, 11)
	half := len(photo) / 2
	for round := 0; round < 5; round++ {
		loc, _ := createResumable(t, ins, len(photo), apitest.ClientID())
		statuses := make(chan int, 2)
		for _, c := range []*apitest.Client{ins, other.As(t, ins.Token)} {
			go func() { statuses <- patchChunk(c, loc, 0, photo[:half], false).Status }()
		}
		a, b := <-statuses, <-statuses
		if min(a, b) != http.StatusNoContent || max(a, b) != http.StatusConflict {
			t.Fatalf("round %d: the two chunks answered %d and %d, want one 204 and one 409", round, a, b)
		}
		if n := partialFiles(t, e, filepath.Base(loc)); n != 1 {
			t.Fatalf("round %d: %d chunk files, want 1", round, n)
		}
		r := patchChunk(ins, loc, half, photo[half:], true)
		if r.Status != http.StatusOK {
			t.Fatalf("round %d: last chunk: %d %s", round, r.Status, r.Body)
		}
		var v uploadView
		r.JSON(t, &v)
		if got := e.Anon(t).Do("GET", v.URL, nil); !bytes.Equal(got.Body, photo) {
			t.Fatalf("round %d: stored bytes differ from the photo", round)
		}
	}
}

// Only the chunk that completes a resumable upload is in the audit trail, filed under the upload
// it became; the chunks before it are not changes of their own.
func TestResumableUploadAuditsTheCompletion(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	a := e.Area(t)
	staff := e.Staff(t, "county_staff", a.County)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", a.Township()))
	photo := noisyPNG(t, 90, 5)
	loc, _ := createResumable(t, ins, len(photo), apitest.ClientID())
	if r := patchChunk(ins, loc, 0, photo[:1000], false); r.Status != http.StatusNoContent {
		t.Fatalf("chunk: %d %s", r.Status, r.Body)
	}
	r := patchChunk(ins, loc, 1000, photo[1000:], true)
	if r.Status != http.StatusOK {
		t.Fatalf("last chunk: %d %s", r.Status, r.Body)
	}
	id := apitest.ID(t, r)
	var rows []struct {
		Action    string
		SubjectID *int64
		Status    int
	}
	if err := e.DB().Raw("SELECT action, subject_id, status FROM audit_log WHERE action LIKE ? AND account_id = (SELECT id FROM accounts WHERE instructor_id = (SELECT instructor_id FROM uploads WHERE id = ?)) ORDER BY id",
		"%/uploads/resumable%", id).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Action != "POST /api/v1/uploads/resumable" ||
		rows[1].Action != "POST /api/v1/uploads/resumable/{id}" || rows[1].SubjectID == nil || *rows[1].SubjectID != id || rows[1].Status != 200 {
		t.Fatalf("audit entries %+v, want the creation and the completing chunk (upload %d)", rows, id)
	}
}
