package audit

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"gorm.io/gorm"
)

// testDB is a database with the whole schema: a SQLite file by default, a MariaDB/MySQL database
// of its own with SHILIU_TEST_DATABASE_DSN (as server/apitest does).
func testDB(t *testing.T) *gorm.DB {
	t.Helper()
	ctx := context.Background()
	dsn := dbtest.DSN(t, "audit")
	db, err := database.Open(ctx, dsn, database.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, migrations.All); err != nil {
		t.Fatal(err)
	}
	return db.DB
}

// entries writes n audit entries created at this time and returns their ids.
func entries(t *testing.T, db *gorm.DB, n int, at time.Time) []int64 {
	t.Helper()
	rows := make([]Entry, n)
	for i := range rows {
		sid := int64(i + 1)
		rows[i] = Entry{AccountID: 7, Role: "county_staff", RegionCode: "130102000000", Action: "GET /api/v1/tips/{id}",
			SubjectType: "tip", SubjectID: &sid, Status: 200, RequestID: "req", ClientIP: "10.0.0.1", CreatedAt: at}
	}
	if err := db.CreateInBatches(rows, 500).Error; err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, n)
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

func left(t *testing.T, db *gorm.DB, ids []int64) int {
	t.Helper()
	var n int64
	if err := db.Model(&Entry{}).Where("id IN ?", ids).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// TestPruneDeletesOldEntriesOnly: entries created before the cutoff go, in more than one batch;
// younger ones, and one at the cutoff itself, stay.
func TestPruneDeletesOldEntriesOnly(t *testing.T) {
	db := testDB(t)
	cutoff := now.Add(-184 * day)
	old := entries(t, db, 2*PruneBatch+3, cutoff.Add(-time.Second))
	older := entries(t, db, 4, now.Add(-3*365*day))
	atCutoff := entries(t, db, 1, cutoff)
	young := entries(t, db, 5, now.Add(-day))

	n, err := Prune(context.Background(), db, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(old)+len(older)) {
		t.Fatalf("pruned %d, want %d", n, len(old)+len(older))
	}
	if left(t, db, old) != 0 || left(t, db, older) != 0 {
		t.Fatal("old entries left")
	}
	if left(t, db, atCutoff) != 1 || left(t, db, young) != 5 {
		t.Fatal("entries not older than the cutoff were deleted")
	}
	if n, err := Prune(context.Background(), db, cutoff); err != nil || n != 0 {
		t.Fatalf("second pass: %d, %v", n, err)
	}
	// A cut-short context stops between batches with what it did so far.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Prune(ctx, db, now); err == nil {
		t.Fatal("a cancelled prune reported success")
	}
}

// TestConcurrentPrunesDeleteEachEntryOnce: instances pruning at once split the work without an
// error, and between them delete every old entry exactly once.
func TestConcurrentPrunesDeleteEachEntryOnce(t *testing.T) {
	db := testDB(t)
	cutoff := now.Add(-200 * day)
	old := entries(t, db, 3*PruneBatch+17, cutoff.Add(-day))
	young := entries(t, db, 3, now)

	const instances = 4
	counts := make([]int64, instances)
	errs := make([]error, instances)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			<-start
			counts[i], errs[i] = Prune(context.Background(), db, cutoff)
		})
	}
	close(start)
	wg.Wait()
	t.Logf("deleted by each instance: %v", counts)
	var sum int64
	for i := range instances {
		if errs[i] != nil {
			t.Errorf("instance %d: %v", i, errs[i])
		}
		sum += counts[i]
	}
	if sum != int64(len(old)) {
		t.Fatalf("instances deleted %d in all (%v), want %d", sum, counts, len(old))
	}
	if left(t, db, old) != 0 || left(t, db, young) != 3 {
		t.Fatal("wrong entries left after the concurrent prunes")
	}
}
