package app_test

import (
	"context"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// uploadForm is the body wx.uploadFile sends with formData {client_id}; the field comes before
// the file or after it.
func uploadForm(t *testing.T, clientID string, clientIDFirst bool, name string, data []byte) (string, []byte) {
	t.Helper()
	var b strings.Builder
	w := multipart.NewWriter(&b)
	field := func() {
		if err := w.WriteField("client_id", clientID); err != nil {
			t.Fatal(err)
		}
	}
	if clientIDFirst {
		field()
	}
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	if !clientIDFirst {
		field()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), []byte(b.String())
}

func uploadWithID(t *testing.T, c *apitest.Client, clientID string, clientIDFirst bool, data []byte) *apitest.Response {
	t.Helper()
	ct, body := uploadForm(t, clientID, clientIDFirst, "现场.png", data)
	return c.DoRaw("POST", "/api/v1/uploads", ct, body)
}

// storedFiles counts the files in the uploads directory (not half-written temporaries).
func storedFiles(t *testing.T, e *apitest.Env) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(e.Config.Uploads.Dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".put-") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// uploadState reports whether an upload's row and its file exist.
func uploadState(t *testing.T, e *apitest.Env, id int64) (row, file bool) {
	t.Helper()
	var key string
	if err := e.DB().Raw("SELECT storage_key FROM uploads WHERE id = ?", id).Scan(&key).Error; err != nil {
		t.Fatal(err)
	}
	if key == "" {
		return false, false
	}
	_, err := os.Stat(filepath.Join(e.Config.Uploads.Dir, filepath.FromSlash(key)))
	return true, err == nil
}

// Not parallel: it counts every file in the uploads directory.
func TestUploadRetryWithClientIDReturnsTheFirstUpload(t *testing.T) {
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	id := apitest.ClientID()
	files := storedFiles(t, e)

	var first, again uploadView
	r := uploadWithID(t, ins, id, true, pngImage(t))
	if r.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &first)
	// The answer was lost; the phone sends the photo again (compressed again: other bytes), with
	// the field after the file this time, and the id in capitals.
	r = uploadWithID(t, ins, strings.ToUpper(id), false, jpegWithGPS(t))
	if r.Status != http.StatusOK {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &again)
	if again.ID != first.ID || again.MIME != "image/png" || again.Size != first.Size {
		t.Fatalf("retry answered %+v, first was %+v", again, first)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM uploads WHERE client_id = ?", id); n != 1 || storedFiles(t, e) != files+1 {
		t.Fatalf("%d rows, %d new files", n, storedFiles(t, e)-files)
	}
	// Another uploader's id is theirs: the same id stores their own file.
	if r := uploadWithID(t, staff, id, true, pngImage(t)); r.Status != http.StatusCreated || apitest.ID(t, r) == first.ID {
		t.Fatalf("another uploader: %d %s", r.Status, r.Body)
	}
	// The upload is attached as usual, and a retry after that still answers with it.
	body := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	body["attachments"] = []int64{first.ID}
	ins.Submit("visit", body)
	if r := uploadWithID(t, ins, id, true, pngImage(t)); r.Status != http.StatusOK || apitest.ID(t, r) != first.ID {
		t.Fatalf("retry after attach: %d %s", r.Status, r.Body)
	}

	// A client_id that is not a UUID is refused, naming the field; nothing is stored.
	files = storedFiles(t, e)
	for _, bad := range []string{"draft-1", "undefined", strings.ReplaceAll(id, "-", "")} {
		r := uploadWithID(t, ins, bad, true, pngImage(t))
		if r.Status != http.StatusBadRequest {
			t.Fatalf("%q: %d %s", bad, r.Status, r.Body)
		}
		eb := r.Err(t)
		if eb.Code != "invalid_argument" || len(eb.Details) != 1 || eb.Details[0].Field != "client_id" || !strings.Contains(eb.Details[0].Message, "UUID") {
			t.Fatalf("%q: %+v", bad, eb)
		}
	}
	if storedFiles(t, e) != files {
		t.Fatal("a refused upload left a file")
	}
	// An empty field is no id: a new upload each time.
	a, b := uploadWithID(t, ins, "", true, pngImage(t)), uploadWithID(t, ins, "", true, pngImage(t))
	if a.Status != http.StatusCreated || b.Status != http.StatusCreated || apitest.ID(t, a) == apitest.ID(t, b) {
		t.Fatalf("empty client_id: %d, %d", a.Status, b.Status)
	}
}

// TestConcurrentUploadRetriesStoreOne: retries of one upload racing on two instances end as one
// row and one file; every answer carries its id. The instances let one account send that many at
// once (by default it may send two, see TestUploadsAreCappedPerAccount).
// Not parallel: it counts every file in the uploads directory.
func TestConcurrentUploadRetriesStoreOne(t *testing.T) {
	e := apitest.Shared(t)
	roomy := func(c *config.Config) { c.Uploads.MaxPerAccount = c.Uploads.MaxConcurrent }
	first, second := apitest.Another(t, e.Clock, roomy), apitest.Another(t, e.Clock, roomy)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	clients := []*apitest.Client{first.As(t, ins.Token), second.As(t, ins.Token)}
	id := apitest.ClientID()
	files := storedFiles(t, e)

	const n = 12
	statuses, ids := make([]int, n), make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := uploadWithID(t, clients[i%2], id, i%3 != 0, pngImage(t))
			statuses[i] = r.Status
			if r.Status < 300 {
				ids[i] = apitest.ID(t, r)
			}
		}()
	}
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("attempt %d: status %d", i, s)
		}
		if ids[i] != ids[0] {
			t.Fatalf("attempt %d got upload %d, attempt 0 got %d", i, ids[i], ids[0])
		}
	}
	rows := countRows(t, e, "SELECT COUNT(*) FROM uploads WHERE client_id = ?", id)
	if created != 1 || rows != 1 || storedFiles(t, e) != files+1 {
		t.Fatalf("created %d, rows %d, new files %d; want 1 each (%v)", created, rows, storedFiles(t, e)-files, statuses)
	}
}

// TestOrphanUploadsAreSwept: an instance's sweep (run by App.Run) deletes an upload nobody
// attached for a week, row and file, and keeps an attached one and a young one.
// Not parallel: servers days ahead sweep every test's unattached uploads.
func TestOrphanUploadsAreSwept(t *testing.T) {
	e := apitest.Shared(t)
	t0 := e.Clock.Now()
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	old := mustUpload(t, ins, "old.png", pngImage(t))
	attached := mustUpload(t, ins, "kept.png", pngImage(t))
	body := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	body["attachments"] = []int64{attached.ID}
	ins.Submit("visit", body)
	// Six days later a staff member uploads a photo for a bulletin not yet written.
	mid := apitest.Another(t, clock.NewFake(t0.Add(6*24*time.Hour)))
	young := mustUpload(t, mid.Staff(t, "county_staff", apitest.CountyA1), "young.png", pngImage(t))

	// Eight days after the first uploads, an instance sweeping every second.
	later := apitest.Another(t, clock.NewFake(t0.Add(8*24*time.Hour)), func(c *config.Config) {
		c.Uploads.SweepInterval = time.Second
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if row, _ := uploadState(t, e, old.ID); !row {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the orphan upload was not swept within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if row, file := uploadState(t, e, old.ID); row || file {
		t.Fatalf("orphan: row %v, file %v", row, file)
	}
	for name, id := range map[string]int64{"attached": attached.ID, "young": young.ID} {
		if row, file := uploadState(t, e, id); !row || !file {
			t.Errorf("%s upload: row %v, file %v", name, row, file)
		}
	}
	// The deleted upload can no longer be attached.
	late := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	late["attachments"] = []int64{old.ID}
	if eb := ins.Must(http.StatusBadRequest, "POST", "/api/v1/visits", late).Err(t); eb.Details[0].Field != "attachments" {
		t.Fatalf("attaching a swept upload: %+v", eb)
	}
	// Operators see the count.
	resp, err := http.Get(later.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(text), "shiliu_uploads_orphans_deleted_total") || strings.Contains(string(text), "shiliu_uploads_orphans_deleted_total 0\n") {
		t.Fatalf("metrics do not count the sweep:\n%s", grepLines(string(text), "shiliu_uploads"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestUploadsAreCappedPerInstance: with room for one upload, a second one (from another account)
// arriving while the first is still being received waits briefly, then gets 503 with
// Retry-After; the first completes, and the place is free again afterwards.
func TestUploadsAreCappedPerInstance(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	capped := apitest.Another(t, e.Clock, func(c *config.Config) {
		c.Uploads.MaxConcurrent = 1
		c.Uploads.MaxPerAccount = 1
		c.Uploads.QueueWait = 50 * time.Millisecond
	})
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	other, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	c := capped.As(t, ins.Token)

	// The first upload sends half its body and stalls, as a phone on a weak network does.
	ct, body := uploadForm(t, apitest.ClientID(), true, "slow.png", pngImage(t))
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(context.Background(), "POST", capped.URL+"/api/v1/uploads", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+ins.Token)
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	defer pw.Close()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for capped.App.Uploads.InFlight() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first upload never took its place")
		}
		time.Sleep(5 * time.Millisecond)
	}

	r := uploadFile(t, capped.As(t, other.Token), "second.png", pngImage(t))
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("second upload while full: %d %s", r.Status, r.Body)
	}
	if eb := r.Err(t); eb.Code != "unavailable" || !strings.Contains(eb.Message, "稍后") {
		t.Fatalf("busy answer: %+v", eb)
	}
	if ra := r.Header.Get("Retry-After"); ra != "5" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Other requests are not held up by the cap.
	c.Must(http.StatusOK, "GET", "/api/v1/me", nil)

	// The first upload finishes and is stored.
	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if res := <-done; res.err != nil || res.status != http.StatusCreated {
		t.Fatalf("the held upload: %d %v", res.status, res.err)
	}
	if n := capped.App.Uploads.InFlight(); n != 0 {
		t.Fatalf("%d uploads in flight after the first finished", n)
	}
	mustUpload(t, c, "third.png", pngImage(t))
}
