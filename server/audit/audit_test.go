package audit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shiliu/shiliu/server/platform/clock"
	"gorm.io/gorm"
)

// Concurrent reads' entries are written in shared INSERTs, each exactly once, and each caller
// returns only once its own entry is stored.
func TestRecordGroupsConcurrentEntries(t *testing.T) {
	db := testDB(t)
	var inserts atomic.Int64
	if err := db.Callback().Create().After("gorm:create").Register("count_audit_inserts", func(tx *gorm.DB) {
		if tx.Statement.Table == "audit_log" {
			inserts.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	s := NewService(db, clock.NewFake(now))
	const callers, each = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, callers*each)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				rid := fmt.Sprintf("group-%d-%d", c, i)
				if err := s.Record(context.Background(), Entry{AccountID: int64(c + 1), Action: "GET /api/v1/tips", RequestID: rid, Status: 200}); err != nil {
					errs <- err
					return
				}
				// Stored by the time Record returns.
				var n int64
				if err := db.Model(&Entry{}).Where("request_id = ?", rid).Count(&n).Error; err != nil {
					errs <- err
					return
				}
				if n != 1 {
					errs <- fmt.Errorf("entry %s stored %d times when Record returned", rid, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int64
	if err := db.Model(&Entry{}).Where("request_id LIKE ?", "group-%").Count(&total).Error; err != nil {
		t.Fatal(err)
	}
	if total != callers*each {
		t.Fatalf("%d entries stored, want %d", total, callers*each)
	}
	if n := inserts.Load(); n >= callers*each {
		t.Fatalf("%d INSERTs for %d concurrent entries: none were grouped", n, callers*each)
	} else {
		t.Logf("%d entries in %d INSERTs", callers*each, n)
	}
}
