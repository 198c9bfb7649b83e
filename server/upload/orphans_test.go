package upload_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/upload"
)

const week = 7 * 24 * time.Hour

// exists reports whether an upload's row and its file are there.
func (f fixture) exists(t *testing.T, id int64) (row, file bool) {
	t.Helper()
	var key string
	if err := f.db.Raw("SELECT storage_key FROM uploads WHERE id = ?", id).Scan(&key).Error; err != nil {
		t.Fatal(err)
	}
	if key == "" {
		return false, false
	}
	body, err := f.store.Open(context.Background(), key)
	if errors.Is(err, upload.ErrNotStored) {
		return true, false
	}
	if err != nil {
		t.Fatal(err)
	}
	body.Close()
	return true, true
}

func TestDeleteOrphansKeepsAttachedAndYoungUploads(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	me := instructor(1, 11)
	old, attached, used := f.upload(t, me), f.upload(t, me), f.upload(t, me)
	if err := f.attach(me, []int64{attached.ID}, "visit", 1, countyA); err != nil {
		t.Fatal(err)
	}
	if err := f.attach(me, []int64{used.ID}, "task_report", 2, countyA); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(6 * 24 * time.Hour)
	young := f.upload(t, me)
	f.clock.Advance(24*time.Hour + time.Second) // old is a week and a second old, young a day

	n, err := f.svc.DeleteOrphans(ctx, week)
	if err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if row, file := f.exists(t, old.ID); row || file {
		t.Fatalf("old orphan: row %v, file %v", row, file)
	}
	for name, id := range map[string]int64{"attached": attached.ID, "attached to a task report": used.ID, "young": young.ID} {
		if row, file := f.exists(t, id); !row || !file {
			t.Errorf("%s upload: row %v, file %v", name, row, file)
		}
	}
	if f.storedFiles(t) != 3 {
		t.Fatalf("%d files left", f.storedFiles(t))
	}
	// Nothing more to do until the young one is old.
	if n, err := f.svc.DeleteOrphans(ctx, week); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
	// An attach of a deleted upload is refused like any unknown id.
	wantAttachErr(t, f.attach(me, []int64{old.ID}, "visit", 3, countyA), "不存在")
}

// TestDeleteOrphansInBatchesOnSeveralInstances: more orphans than one batch, two instances
// sweeping at once: every orphan is deleted once, with its file, and no sweep fails.
func TestDeleteOrphansInBatchesOnSeveralInstances(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	const orphans = 230
	for range orphans {
		f.upload(t, me)
	}
	f.clock.Advance(week + time.Minute)
	second := upload.NewService(f.db.DB, f.store, upload.SigningKey("a test secret of at least 32 bytes!!"), f.clock,
		10*time.Minute, "/api/v1/files", 1<<20, upload.Options{})
	var wg sync.WaitGroup
	counts := make([]int, 4)
	errs := make([]error, 4)
	for i, svc := range []*upload.Service{f.svc, second, f.svc, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = svc.DeleteOrphans(context.Background(), week)
		}()
	}
	wg.Wait()
	total := 0
	for i := range counts {
		if errs[i] != nil {
			t.Fatalf("sweep %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	if rows := f.count(t, "SELECT COUNT(*) FROM uploads"); total != orphans || rows != 0 || f.storedFiles(t) != 0 {
		t.Fatalf("deleted %d of %d, %d rows and %d files left", total, orphans, rows, f.storedFiles(t))
	}
}

// TestSweepRacesAttach: a record attaching old uploads while sweeps run. Every upload ends
// either attached with its file, or deleted with its file and the attach refused: never
// attached without a file.
func TestSweepRacesAttach(t *testing.T) {
	f := newFixture(t)
	me := instructor(1, 11)
	const n = 40
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = f.upload(t, me).ID
	}
	f.clock.Advance(week + time.Minute)
	second := upload.NewService(f.db.DB, f.store, upload.SigningKey("a test secret of at least 32 bytes!!"), f.clock,
		10*time.Minute, "/api/v1/files", 1<<20, upload.Options{})
	attachErrs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			attachErrs[i] = f.attach(me, []int64{ids[i]}, "visit", int64(1000+i), countyA)
		}()
	}
	sweepErrs := make([]error, 2)
	for i, svc := range []*upload.Service{f.svc, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, sweepErrs[i] = svc.DeleteOrphans(context.Background(), week)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range sweepErrs {
		if err != nil {
			t.Fatalf("sweep: %v", err)
		}
	}
	kept := 0
	for i, id := range ids {
		row, file := f.exists(t, id)
		switch err := attachErrs[i]; {
		case err == nil:
			kept++
			if !row || !file {
				t.Errorf("upload %d attached but row %v, file %v", id, row, file)
			}
		default:
			if e, ok := apperr.As(err); !ok || e.Status != 400 || e.Details[0].Field != "attachments" {
				t.Errorf("upload %d: attach failed with %v", id, err)
			}
			if row || file {
				t.Errorf("upload %d: attach refused but row %v, file %v", id, row, file)
			}
		}
	}
	if f.storedFiles(t) != kept {
		t.Fatalf("%d files for %d kept uploads", f.storedFiles(t), kept)
	}
	t.Logf("%d of %d uploads attached before the sweep reached them", kept, n)
}
