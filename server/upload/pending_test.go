package upload_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/upload"
	"gorm.io/gorm"
)

// declare runs Declare in a transaction, as the record service does.
func (f fixture) declare(p *access.Principal, cids []string, owner int64) error {
	return database.Transact(context.Background(), f.db.DB, func(tx *gorm.DB) error {
		return f.svc.Declare(tx, p, cids, "record", owner, countyA)
	})
}

func (f fixture) uploadAs(t *testing.T, p *access.Principal, cid string) (upload.View, bool) {
	t.Helper()
	v, created, err := f.svc.Create(context.Background(), p, upload.Input{Name: "p.mp3", ClientID: cid, Data: mp3Frames(2)})
	if err != nil {
		t.Fatal(err)
	}
	return v, created
}

// state is what the owner shows: attached upload ids and pending client ids with their state.
func (f fixture) state(t *testing.T, owner int64) (attached []int64, pending map[string]string) {
	t.Helper()
	ctx := context.Background()
	files, err := f.svc.List(ctx, "record", []int64{owner})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range files[owner] {
		attached = append(attached, v.ID)
	}
	pm, err := f.svc.ListPending(ctx, "record", []int64{owner})
	if err != nil {
		t.Fatal(err)
	}
	pending = map[string]string{}
	for _, v := range pm[owner] {
		pending[v.ClientID] = v.State
	}
	return attached, pending
}

func cid(n int) string { return fmt.Sprintf("3f2b8c1e-9d4a-4c7b-8e21-%012d", n) }

// TestDeclaredAttachmentArrivesInEitherOrder: a record declares its photos by client id; a photo
// uploaded after the record is attached when it arrives, one uploaded before is attached when
// the record declares it; a retried upload changes nothing; the owner's region goes with it.
func TestDeclaredAttachmentArrivesInEitherOrder(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)

	early, _ := f.uploadAs(t, me, cid(2)) // uploaded before the record
	if err := f.declare(me, []string{cid(1), cid(2)}, 7); err != nil {
		t.Fatal(err)
	}
	attached, pending := f.state(t, 7)
	if len(attached) != 1 || attached[0] != early.ID || len(pending) != 1 || pending[cid(1)] != upload.PendingOnTheWay {
		t.Fatalf("after the record: attached %v, pending %v", attached, pending)
	}
	// Declaring again (a retried record) is a no-op.
	if err := f.declare(me, []string{cid(1), cid(2)}, 7); err != nil {
		t.Fatal(err)
	}
	late, created := f.uploadAs(t, me, cid(1)) // the photo after the record
	if !created {
		t.Fatal("late upload not created")
	}
	attached, pending = f.state(t, 7)
	if len(attached) != 2 || len(pending) != 0 {
		t.Fatalf("after the photo: attached %v, pending %v", attached, pending)
	}
	// A duplicate of the upload (its answer was lost) is the same upload, still attached once.
	again, created := f.uploadAs(t, me, cid(1))
	if created || again.ID != late.ID {
		t.Fatalf("retry: %+v created %v", again, created)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM uploads WHERE owner_id = 7 AND region_code = ?", countyA); n != 2 {
		t.Fatalf("%d uploads attached in the owner's region", n)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM uploads"); n != 2 {
		t.Fatalf("%d uploads stored", n)
	}
}

// TestDeclaredAttachmentIsTheAuthorsOwn: another account's upload with the same client id is never
// attached; a client id declared for one record, or an upload attached elsewhere, cannot be
// declared for another.
func TestDeclaredAttachmentIsTheAuthorsOwn(t *testing.T) {
	f := newFixture(t)
	me, other := instructor(1, 11), instructor(2, 12)
	theirs, _ := f.uploadAs(t, other, cid(1))
	if err := f.declare(me, []string{cid(1)}, 7); err != nil {
		t.Fatal(err)
	}
	attached, pending := f.state(t, 7)
	if len(attached) != 0 || pending[cid(1)] != upload.PendingOnTheWay {
		t.Fatalf("someone else's upload: attached %v, pending %v", attached, pending)
	}
	// Their next upload with that id does not reach my record either.
	if _, created := f.uploadAs(t, other, cid(1)); created {
		t.Fatal("their retry stored a second upload")
	}
	if n := f.count(t, "SELECT COUNT(*) FROM uploads WHERE id = ? AND owner_id IS NULL", theirs.ID); n != 1 {
		t.Fatal("their upload was attached to my record")
	}
	// My client id is taken by record 7: record 8 cannot declare it.
	wantDeclareErr(t, f.declare(me, []string{cid(1)}, 8))
	// An upload of mine attached to record 9 cannot be declared by record 10.
	mine, _ := f.uploadAs(t, me, cid(3))
	if err := f.attach(me, []int64{mine.ID}, "record", 9, countyA); err != nil {
		t.Fatal(err)
	}
	wantDeclareErr(t, f.declare(me, []string{cid(3)}, 10))
	if _, pending := f.state(t, 10); len(pending) != 0 {
		t.Fatalf("a refused declaration left %v", pending)
	}
	// Not a UUID.
	wantDeclareErr(t, f.declare(me, []string{"photo-1"}, 11))
}

func wantDeclareErr(t *testing.T, err error) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Status != 400 || len(e.Details) == 0 || e.Details[0].Field != "attachment_client_ids" {
		t.Fatalf("want a 400 naming attachment_client_ids, got %v", err)
	}
}

// TestDeclaredAttachmentNeverArrivingIsMissing: after the orphan window the declaration is shown
// missing; a photo arriving even later is still attached.
func TestDeclaredAttachmentNeverArrivingIsMissing(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	if err := f.declare(me, []string{cid(1), cid(2)}, 7); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(upload.DefaultMissingAfter - time.Second)
	if _, pending := f.state(t, 7); pending[cid(1)] != upload.PendingOnTheWay {
		t.Fatalf("before the window: %v", pending)
	}
	f.clock.Advance(time.Second)
	_, pending := f.state(t, 7)
	if pending[cid(1)] != upload.PendingMissing || pending[cid(2)] != upload.PendingMissing {
		t.Fatalf("after the window: %v", pending)
	}
	pm, _ := f.svc.ListPending(context.Background(), "record", []int64{7})
	if pm[7][0].StateName != "未送达" {
		t.Fatalf("state name %q", pm[7][0].StateName)
	}
	f.uploadAs(t, me, cid(2))
	attached, pending := f.state(t, 7)
	if len(attached) != 1 || len(pending) != 1 {
		t.Fatalf("late arrival: attached %v, pending %v", attached, pending)
	}
}

// TestDeclareAndUploadAtOnce: the record's transaction and the upload race, as on two instances;
// whatever the interleaving, every photo ends attached and nothing stays pending.
func TestDeclareAndUploadAtOnce(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	const n = 12
	for round := 0; round < n; round++ {
		owner := int64(100 + round)
		c := cid(1000 + round)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs[0] = f.declare(me, []string{c}, owner)
		}()
		go func() {
			defer wg.Done()
			_, _, errs[1] = f.svc.Create(context.Background(), me, upload.Input{ClientID: c, Data: mp3Frames(2)})
		}()
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v", round, errs)
		}
		if attached, pending := f.state(t, owner); len(attached) != 1 || len(pending) != 0 {
			t.Fatalf("round %d: attached %v, pending %v", round, attached, pending)
		}
	}
}

// TestDeclaredAttachmentsCountTowardsTheLimit: photos on their way count when more are attached
// by id later (an edit), so an owner never ends with more than MaxAttachments.
func TestDeclaredAttachmentsCountTowardsTheLimit(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	cids := make([]string, upload.MaxAttachments-1)
	for i := range cids {
		cids[i] = cid(i + 1)
	}
	if err := f.declare(me, cids, 7); err != nil {
		t.Fatal(err)
	}
	a, b := f.upload(t, me), f.upload(t, me)
	if err := f.attach(me, []int64{a.ID}, "record", 7, countyA); err != nil {
		t.Fatal(err)
	}
	wantAttachErr(t, f.attach(me, []int64{b.ID}, "record", 7, countyA), "不能超过")
}
