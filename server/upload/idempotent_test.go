package upload_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/upload"
)

// storedFiles counts the files the store holds (not half-written temporaries).
func (f fixture) storedFiles(t *testing.T) int {
	t.Helper()
	return len(keysOf(t, f.store))
}

func (f fixture) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

const clientID = "3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17"

func TestCreateWithClientIDIsIdempotentPerUploader(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	me, other := instructor(1, 11), instructor(2, 12)

	first, created, err := f.svc.Create(ctx, me, upload.Input{Name: "a.mp3", ClientID: clientID, Data: mp3Frames(2)})
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	// The retry, in capitals and with other bytes: the first upload, nothing more stored.
	again, created, err := f.svc.Create(ctx, me, upload.Input{Name: "b.mp3", ClientID: " " + strings.ToUpper(clientID), Data: mp3Frames(3)})
	if err != nil || created || again.ID != first.ID || again.Size != first.Size || again.Name != "a.mp3" {
		t.Fatalf("retry: %+v created %v, %v; first %+v", again, created, err, first)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM uploads"); n != 1 || f.storedFiles(t) != 1 {
		t.Fatalf("%d rows, %d files after a retry", n, f.storedFiles(t))
	}
	// The id is the uploader's: someone else's upload with the same id is their own.
	theirs, created, err := f.svc.Create(ctx, other, upload.Input{ClientID: clientID, Data: mp3Frames(2)})
	if err != nil || !created || theirs.ID == first.ID {
		t.Fatalf("other uploader: %+v %v %v", theirs, created, err)
	}
	// Without an id every upload is new, as before.
	for i := 0; i < 2; i++ {
		if _, created, err := f.svc.Create(ctx, me, upload.Input{Data: mp3Frames(2)}); err != nil || !created {
			t.Fatalf("without client_id: %v %v", created, err)
		}
	}
	if n := f.count(t, "SELECT COUNT(*) FROM uploads"); n != 4 || f.storedFiles(t) != 4 {
		t.Fatalf("%d rows, %d files", n, f.storedFiles(t))
	}
	// A retry after the upload was attached still answers with it (attaching it again to the same
	// record is a no-op).
	if err := f.attach(me, []int64{first.ID}, "visit", 5, countyA); err != nil {
		t.Fatal(err)
	}
	if v, created, err := f.svc.Create(ctx, me, upload.Input{ClientID: clientID, Data: mp3Frames(2)}); err != nil || created || v.ID != first.ID {
		t.Fatalf("retry after attach: %+v %v %v", v, created, err)
	}
}

func TestCreateRefusesBadClientID(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"draft-1", "undefined", "3f2b8c1e9d4a4c7b8e215a6f0b9c2d17", clientID + "0", "{" + clientID + "}"} {
		_, _, err := f.svc.Create(context.Background(), instructor(1, 11), upload.Input{ClientID: id, Data: mp3Frames(2)})
		e, ok := apperr.As(err)
		if !ok || e.Status != 400 || e.Code != "invalid_argument" || len(e.Details) != 1 || e.Details[0].Field != "client_id" ||
			!strings.Contains(e.Details[0].Message, "UUID") {
			t.Errorf("%q: %v", id, err)
		}
	}
	if n := f.count(t, "SELECT COUNT(*) FROM uploads"); n != 0 || f.storedFiles(t) != 0 {
		t.Fatalf("%d rows, %d files stored for bad ids", n, f.storedFiles(t))
	}
}

// meetAtPut is the disk store with a rendezvous: Put waits until n uploads have reached it, so
// they all pass the client-id lookup before any inserts its row.
type meetAtPut struct {
	upload.Storage
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (m *meetAtPut) Put(ctx context.Context, key string, r io.Reader) error {
	m.mu.Lock()
	m.arrived++
	if m.arrived == m.n {
		close(m.all)
	}
	m.mu.Unlock()
	select {
	case <-m.all:
	case <-time.After(30 * time.Second):
		return errors.New("not every upload reached the store")
	}
	return m.Storage.Put(ctx, key, r)
}

// TestConcurrentRetriesStoreOneUpload: retries that all passed the lookup meet at the unique key;
// the losers remove their files and answer with the winner.
func TestConcurrentRetriesStoreOneUpload(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	const n = 8
	store := &meetAtPut{Storage: f.store, n: n, all: make(chan struct{})}
	svc := upload.NewService(f.db.DB, store, upload.SigningKey("a test secret of at least 32 bytes!!"), f.clock,
		10*time.Minute, "/api/v1/files", 1<<20, upload.Options{})
	views := make([]upload.View, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			views[i], created[i], errs[i] = svc.Create(context.Background(), me, upload.Input{ClientID: clientID, Data: mp3Frames(2 + i%2)})
		}()
	}
	wg.Wait()
	won := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("attempt %d: %v", i, errs[i])
		}
		if created[i] {
			won++
		}
		if views[i].ID != views[0].ID {
			t.Fatalf("attempt %d got upload %d, attempt 0 got %d", i, views[i].ID, views[0].ID)
		}
	}
	if rows := f.count(t, "SELECT COUNT(*) FROM uploads"); won != 1 || rows != 1 || f.storedFiles(t) != 1 {
		t.Fatalf("%d created, %d rows, %d files; want 1 each", won, rows, f.storedFiles(t))
	}
}

func TestReadFile(t *testing.T) {
	f := newFixture(t)
	data, err := f.svc.ReadFile(bytes.NewReader(mp3Frames(2)))
	if err != nil || !bytes.Equal(data, mp3Frames(2)) {
		t.Fatalf("read: %d bytes, %v", len(data), err)
	}
	if _, err := f.svc.ReadFile(bytes.NewReader(make([]byte, 1<<20+1))); !apperr.Is(err, "file_too_large") {
		t.Fatalf("one byte over: %v", err)
	}
	if _, err := f.svc.ReadFile(&brokenReader{}); !errors.Is(err, upload.ErrIncomplete) {
		t.Fatalf("broken body: %v", err)
	}
}

type brokenReader struct{ n int }

func (r *brokenReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		return 0, errors.New("connection reset")
	}
	r.n++
	return copy(p, "ID3"), nil
}

// TestAdmitBoundsConcurrentUploads: with one place, a second upload waits for it and is refused
// as busy when it does not free up in time; a freed place goes to the one waiting.
func TestAdmitBoundsConcurrentUploads(t *testing.T) {
	f := newFixture(t)
	svc := upload.NewService(f.db.DB, f.store, upload.SigningKey("a test secret of at least 32 bytes!!"), f.clock,
		10*time.Minute, "/api/v1/files", 1<<20, upload.Options{MaxConcurrent: 1, QueueWait: 10 * time.Millisecond})
	ctx := context.Background()
	me := instructor(1, 11)

	if _, err := svc.Admit(ctx, &access.Principal{AccountID: 4, Role: access.RoleInstructor}); !apperr.Is(err, "forbidden") || svc.InFlight() != 0 {
		t.Fatalf("unbound instructor: %v, %d in flight", err, svc.InFlight())
	}
	release, err := svc.Admit(ctx, me)
	if err != nil || svc.InFlight() != 1 {
		t.Fatalf("first: %v, %d in flight", err, svc.InFlight())
	}
	_, err = svc.Admit(ctx, me)
	if e, ok := apperr.As(err); !ok || !errors.Is(err, upload.ErrBusy) || e.Status != 503 || e.Code != "unavailable" {
		t.Fatalf("second while full: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := svc.Admit(cancelled, me); !errors.Is(err, context.Canceled) && !errors.Is(err, upload.ErrBusy) {
		t.Fatalf("cancelled wait: %v", err)
	}

	// A patient upload gets the place once it is released.
	patient := upload.NewService(f.db.DB, f.store, upload.SigningKey("a test secret of at least 32 bytes!!"), f.clock,
		10*time.Minute, "/api/v1/files", 1<<20, upload.Options{MaxConcurrent: 1, QueueWait: time.Hour})
	held, err := patient.Admit(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := patient.Admit(ctx, me)
		if err == nil {
			defer r()
		}
		got <- err
	}()
	held()
	held() // releasing twice frees one place only
	if err := <-got; err != nil {
		t.Fatalf("waiting upload: %v", err)
	}

	release()
	release()
	if svc.InFlight() != 0 {
		t.Fatalf("%d in flight after release", svc.InFlight())
	}
	r, err := svc.Admit(ctx, me)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	r()
}

// TestAdmitBoundsUploadsPerAccount: an account holding its share of the places is refused at
// once with 429 while the instance has room, another account is admitted, and a released place
// counts again for its account.
func TestAdmitBoundsUploadsPerAccount(t *testing.T) {
	f := newFixture(t)
	svc := upload.NewService(f.db.DB, f.store, upload.SigningKey("a test secret of at least 32 bytes!!"), f.clock,
		10*time.Minute, "/api/v1/files", 1<<20, upload.Options{MaxConcurrent: 4, MaxPerAccount: 2, QueueWait: time.Hour})
	ctx := context.Background()
	me, other := instructor(1, 11), instructor(2, 12)
	first, err := svc.Admit(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Admit(ctx, me); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Admit(ctx, me)
	if e, ok := apperr.As(err); !ok || !errors.Is(err, upload.ErrAccountBusy) || e.Status != 429 || e.Code != "rate_limited" || e.RetryAfter <= 0 {
		t.Fatalf("third of one account: %v", err)
	}
	if svc.InFlight() != 2 {
		t.Fatalf("%d in flight after a refusal", svc.InFlight())
	}
	if _, err := svc.Admit(ctx, other); err != nil {
		t.Fatalf("another account: %v", err)
	}
	first()
	first()
	if _, err := svc.Admit(ctx, me); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if _, err := svc.Admit(ctx, me); !errors.Is(err, upload.ErrAccountBusy) {
		t.Fatalf("releasing twice freed two places: %v", err)
	}
}
