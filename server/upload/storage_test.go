package upload_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/upload"
	"github.com/shiliu/shiliu/server/upload/s3test"
)

// store is what the contract needs of a store: Storage, with sizes and a listing.
type store interface {
	upload.Sized
	Walk(ctx context.Context, fn func(key string, size int64) error) error
}

// eachStore runs the test on the directory store and on the object store (SeaweedFS in CI).
func eachStore(t *testing.T, test func(t *testing.T, s store)) {
	t.Run("disk", func(t *testing.T) {
		d, err := upload.NewDisk(filepath.Join(t.TempDir(), "files"))
		if err != nil {
			t.Fatal(err)
		}
		test(t, d)
	})
	t.Run("s3", func(t *testing.T) { test(t, s3test.Store(t)) })
}

// eachFixture runs the test on an upload service storing in a directory, and on one storing in
// the object store.
func eachFixture(t *testing.T, test func(t *testing.T, f fixture)) {
	t.Run("disk", func(t *testing.T) { test(t, newFixture(t)) })
	t.Run("s3", func(t *testing.T) { test(t, newFixtureOn(t, s3test.Store(t))) })
}

// failingReader gives n bytes, then fails, as a client connection that breaks.
type failingReader struct {
	r io.Reader
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

// sized declares a length it does not deliver.
type sized struct {
	io.Reader
	n int
}

func (s sized) Len() int { return s.n }

func keysOf(t *testing.T, s store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	if err := s.Walk(context.Background(), func(k string, n int64) error {
		out[k] = n
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStorageContract(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		data := make([]byte, 100_000)
		for i := range data {
			data[i] = byte(i * 7)
		}
		const key = "2026/05/01/0123456789abcdef"
		if err := s.Put(ctx, key, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Size(ctx, key); err != nil || n != int64(len(data)) {
			t.Fatalf("size %d, %v", n, err)
		}
		body, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v", len(got), err)
		}
		// Downloads answer ranges by seeking: anywhere, from the end, back to the start.
		rs, ok := body.(io.ReadSeeker)
		if !ok {
			t.Fatalf("%T is not an io.ReadSeeker: no range requests", body)
		}
		if end, err := rs.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
			t.Fatalf("seek end: %d, %v", end, err)
		}
		if _, err := rs.Seek(40_000, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		part := make([]byte, 10)
		if _, err := io.ReadFull(rs, part); err != nil || !bytes.Equal(part, data[40_000:40_010]) {
			t.Fatalf("range read % x, %v", part, err)
		}
		if _, err := rs.Seek(-5, io.SeekCurrent); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(rs, part); err != nil || !bytes.Equal(part, data[40_005:40_015]) {
			t.Fatalf("relative read % x, %v", part, err)
		}
		if _, err := rs.Seek(-3, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		if tail, err := io.ReadAll(rs); err != nil || !bytes.Equal(tail, data[len(data)-3:]) {
			t.Fatalf("tail % x, %v", tail, err)
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		if again, err := io.ReadAll(rs); err != nil || !bytes.Equal(again, data) {
			t.Fatalf("read again: %d bytes, %v", len(again), err)
		}
		body.Close()

		// Missing keys, bad keys.
		if _, err := s.Open(ctx, "2026/05/01/ffff"); !errors.Is(err, upload.ErrNotStored) {
			t.Fatalf("open missing: %v", err)
		}
		if _, err := s.Size(ctx, "2026/05/01/ffff"); !errors.Is(err, upload.ErrNotStored) {
			t.Fatalf("size missing: %v", err)
		}
		for _, bad := range []string{"../etc/passwd", "a//b", "/abs", "A/B", ""} {
			if err := s.Put(ctx, bad, strings.NewReader("x")); err == nil {
				t.Errorf("bad key %q stored", bad)
			}
		}

		// A client whose connection breaks leaves nothing under the key, whether or not the
		// store was told the length.
		const broken, brokenSized = "2026/05/01/b0", "2026/05/01/b1"
		if err := s.Put(ctx, broken, &failingReader{r: bytes.NewReader(data[:70_000])}); err == nil {
			t.Fatal("a broken upload was stored")
		}
		if err := s.Put(ctx, brokenSized, sized{Reader: &failingReader{r: bytes.NewReader(data[:70_000])}, n: len(data)}); err == nil {
			t.Fatal("a broken upload of declared length was stored")
		}
		for _, k := range []string{broken, brokenSized} {
			if _, err := s.Open(ctx, k); !errors.Is(err, upload.ErrNotStored) {
				t.Fatalf("half a file under %s: %v", k, err)
			}
		}

		// A reader that is neither sized nor a file (streamed) is stored whole.
		const streamed = "2026/05/02/aa"
		if err := s.Put(ctx, streamed, io.MultiReader(bytes.NewReader(data[:10]), bytes.NewReader(data[10:500]))); err != nil {
			t.Fatal(err)
		}
		if err := s.CheckWritable(ctx); err != nil {
			t.Fatal(err)
		}
		// The listing shows the keys, not temporaries nor check files.
		if got := keysOf(t, s); len(got) != 2 || got[key] != int64(len(data)) || got[streamed] != 500 {
			t.Fatalf("listed %v", got)
		}

		// Delete, and again: both succeed, the key is gone.
		for range 2 {
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, upload.ErrNotStored) {
			t.Fatalf("open deleted: %v", err)
		}
	})
}

// TestStorageLargeFile: a file of the largest allowed kind of size (over the object store's
// 16 MiB single-request limit, so sent in parts) comes back the same, from a file as the
// migration sends it.
func TestStorageLargeFile(t *testing.T) {
	eachStore(t, func(t *testing.T, s store) {
		ctx := context.Background()
		data := make([]byte, 20<<20)
		for i := range data {
			data[i] = byte(i ^ i>>9)
		}
		p := filepath.Join(t.TempDir(), "big")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := s.Put(ctx, "2026/05/03/big", f); err != nil {
			t.Fatal(err)
		}
		body, err := s.Open(ctx, "2026/05/03/big")
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		h := sha256.New()
		if _, err := io.Copy(h, body); err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatal("large file differs")
		}
	})
}

// TestS3Outages: a store that refuses or does not answer is an outage (503 with Retry-After)
// the upload service reports, as a full or read-only disk is.
func TestS3Outages(t *testing.T) {
	good := s3test.URL(t)
	u, _ := url.Parse(good)
	ctx := context.Background()
	check := func(raw string) error {
		s, err := upload.NewS3(raw)
		if err != nil {
			t.Fatal(err)
		}
		f := newFixtureOn(t, s)
		return f.svc.CheckStorage(ctx)
	}
	if err := check(good); err != nil {
		t.Fatalf("good store: %v", err)
	}

	wrongKey := *u
	wrongKey.User = url.UserPassword("nobody", "wrong-secret")
	err := check(wrongKey.String())
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Status != 503 || !strings.Contains(ae.Message, "无法写入") {
		t.Fatalf("wrong credentials: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := *u
	closed.Host = l.Addr().String()
	l.Close()
	err = check(closed.String())
	if !errors.As(err, &ae) || ae.Status != 503 || !strings.Contains(ae.Message, "无法连接") {
		t.Fatalf("unreachable store: %v", err)
	}

	noBucket := *u
	noBucket.Path = "/no-such-bucket-shiliu"
	if err := check(noBucket.String()); err == nil || !strings.Contains(err.Error(), "no-such-bucket-shiliu") {
		t.Fatalf("missing bucket: %v", err)
	}
}

func TestParseS3URL(t *testing.T) {
	loc, err := upload.ParseS3URL("s3://AK:S%2Fcret@oss.example.com:9000/photos/shiliu/prod?region=cn-north-1&secure=false&lookup=path")
	if err != nil || loc.Endpoint != "oss.example.com:9000" || loc.AccessKey != "AK" || loc.SecretKey != "S/cret" ||
		loc.Bucket != "photos" || loc.Prefix != "shiliu/prod/" || loc.Region != "cn-north-1" || loc.Secure {
		t.Fatalf("%+v %v", loc, err)
	}
	if loc, err := upload.ParseS3URL("s3://AK:S@host/b"); err != nil || !loc.Secure || loc.Prefix != "" {
		t.Fatalf("defaults: %+v %v", loc, err)
	}
	for _, bad := range []string{"http://AK:S@host/b", "s3://AK:S@host", "s3://AK:S@host/", "s3:///b",
		"s3://AK:S@host/b?secure=maybe", "s3://AK:S@host/b?lookup=x", "s3://AK:S@host/b?colour=red"} {
		if _, err := upload.ParseS3URL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestMigrateIsResumable: files copied from the directory to the bucket under the same keys;
// after an interruption (some already copied, one left wrong) a second run copies only what is
// missing or differs, and a third nothing.
func TestMigrateIsResumable(t *testing.T) {
	ctx := context.Background()
	src, err := upload.NewDisk(filepath.Join(t.TempDir(), "files"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := range 12 {
		k := "2026/04/" + string(rune('a'+i)) + "0/" + strings.Repeat(string(rune('a'+i)), 8)
		want[k] = bytes.Repeat([]byte{byte(i)}, 1000+i*333)
		if err := src.Put(ctx, k, bytes.NewReader(want[k])); err != nil {
			t.Fatal(err)
		}
	}
	// Leftovers of a crashed Disk.Put are not files to copy.
	if err := os.WriteFile(filepath.Join(src.String(), "2026", ".put-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := s3test.Store(t)
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The interrupted first run: five copied, one object of the wrong size.
	for _, k := range keys[:5] {
		if err := dst.Put(ctx, k, bytes.NewReader(want[k])); err != nil {
			t.Fatal(err)
		}
	}
	if err := dst.Put(ctx, keys[5], bytes.NewReader(want[keys[5]][:10])); err != nil {
		t.Fatal(err)
	}
	res, err := upload.Migrate(ctx, src, dst, 3, false, nil)
	if err != nil || res.Copied != 7 || res.Skipped != 5 || res.Failed != 0 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	for k, b := range want {
		body, err := dst.Open(ctx, k)
		if err != nil {
			t.Fatal(k, err)
		}
		got, _ := io.ReadAll(body)
		body.Close()
		if !bytes.Equal(got, b) {
			t.Fatalf("%s: %d bytes, want %d", k, len(got), len(b))
		}
	}
	res, err = upload.Migrate(ctx, src, dst, 3, true, nil)
	if err != nil || res.Copied != 0 || res.Skipped != 12 || res.Removed != 12 {
		t.Fatalf("third run: %+v, %v", res, err)
	}
	if left := keysOf(t, src); len(left) != 0 {
		t.Fatalf("local files left after --remove-local: %v", left)
	}
}
