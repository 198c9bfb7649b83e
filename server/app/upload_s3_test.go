package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/upload"
	"github.com/shiliu/shiliu/server/upload/s3test"
)

// TestUploadsInObjectStore: with uploads.storage_url set, a photo sent to one instance lands in
// the bucket (not in uploads.dir), and a second instance on the same bucket serves it whole and
// by range; an unsatisfiable range keeps the API's error format. Not parallel: two servers.
func TestUploadsInObjectStore(t *testing.T) {
	storageURL := s3test.URL(t)
	e := apitest.Shared(t)
	dir := t.TempDir()
	inBucket := func(c *config.Config) {
		c.Uploads.StorageURL = storageURL
		c.Uploads.Dir = filepath.Join(dir, "never-used")
	}
	one := apitest.Another(t, e.Clock, inBucket)
	two := apitest.Another(t, e.Clock, inBucket)

	a := e.Area(t)
	staff := one.Staff(t, "county_staff", a.County)
	ins, _ := one.InstructorClient(t, staff, staff.Unit("village", a.Township()))
	data := pngImage(t)
	v := mustUpload(t, ins, "s3.png", data)

	store, err := upload.NewS3(storageURL)
	must(t, err)
	n := 0
	must(t, store.Walk(context.Background(), func(string, int64) error { n++; return nil }))
	if n != 1 {
		t.Fatalf("%d objects in the bucket, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "never-used")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(dir, "never-used"))
		if len(entries) > 0 {
			t.Fatalf("uploads.dir used although storage_url is set: %v", entries)
		}
	}

	var fresh uploadView
	two.As(t, ins.Token).Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/uploads/%d", v.ID), nil).JSON(t, &fresh)
	if got := two.Anon(t).Must(http.StatusOK, "GET", fresh.URL, nil).Body; !bytes.Equal(got, data) {
		t.Fatalf("served %d bytes, want %d", len(got), len(data))
	}
	get := func(rng string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", two.URL+fresh.URL, nil)
		req.Header.Set("Range", rng)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if r, b := get("bytes=5-14"); r.StatusCode != http.StatusPartialContent || !bytes.Equal(b, data[5:15]) {
		t.Fatalf("range 5-14: %d % x", r.StatusCode, b)
	}
	if r, b := get("bytes=-4"); r.StatusCode != http.StatusPartialContent || !bytes.Equal(b, data[len(data)-4:]) {
		t.Fatalf("suffix range: %d % x", r.StatusCode, b)
	}
	if r, _ := get("bytes=99999999-"); r.StatusCode != http.StatusRequestedRangeNotSatisfiable || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("bad range: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	// Readiness asks the store.
	if r, err := http.Get(two.URL + "/readyz"); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", r, err)
	}
}
