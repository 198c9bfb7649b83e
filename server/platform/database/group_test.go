package database

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"gorm.io/gorm"
)

// Calls grouped into shared transactions behave as if each had its own: all that succeed are
// stored, a failing one leaves nothing and gets its own error, a panicking one panics in its
// caller, a call whose context ended before it ran is not run.
func TestGroupedCallsCommitAndFailAlone(t *testing.T) {
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO items (name) VALUES ('taken')").Error; err != nil {
		t.Fatal(err)
	}
	errOdd := errors.New("odd call fails after its insert")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	const n = 300
	results := make([]error, n)
	panics := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			ctx := context.Background()
			if i%50 == 7 {
				ctx = cancelled
			}
			results[i] = Grouped(ctx, db.DB, func(tx *gorm.DB) error {
				if err := tx.Exec("INSERT INTO items (name) VALUES (?)", fmt.Sprintf("item %d", i)).Error; err != nil {
					return err
				}
				// A second insert of a name taken: a unique violation inside the group's
				// transaction.
				if i%10 == 3 {
					if err := tx.Exec("INSERT INTO items (name) VALUES ('taken')").Error; err != nil {
						return err
					}
				}
				switch {
				case i%10 == 5:
					return errOdd
				case i%100 == 9:
					panic("boom")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i := range n {
		var stored int64
		if err := db.Raw("SELECT COUNT(*) FROM items WHERE name = ?", fmt.Sprintf("item %d", i)).Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		switch {
		case i%50 == 7:
			if !errors.Is(results[i], context.Canceled) || stored != 0 {
				t.Errorf("call %d with an ended context: %v, stored %d", i, results[i], stored)
			}
		case i%10 == 3:
			if !IsUniqueViolation(results[i]) || stored != 0 {
				t.Errorf("call %d with a unique violation: %v, stored %d", i, results[i], stored)
			}
		case i%10 == 5:
			if !errors.Is(results[i], errOdd) || stored != 0 {
				t.Errorf("failing call %d: %v, stored %d", i, results[i], stored)
			}
		case i%100 == 9:
			if panics[i] != "boom" || stored != 0 {
				t.Errorf("panicking call %d: %v, stored %d", i, panics[i], stored)
			}
		default:
			if results[i] != nil || panics[i] != nil || stored != 1 {
				t.Errorf("call %d: %v %v, stored %d", i, results[i], panics[i], stored)
			}
		}
	}
	pool, _ := db.DB.DB()
	g, _ := groups.Load(pool)
	tx, calls := g.(*group).transactions.Load(), g.(*group).calls.Load()
	t.Logf("%d calls in %d transactions", calls, tx)
	if calls != n || tx >= n {
		t.Errorf("%d calls in %d transactions: none grouped", calls, tx)
	}
	// And the group goes on afterwards.
	if err := Grouped(context.Background(), db.DB, func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO items (name) VALUES ('after')").Error
	}); err != nil {
		t.Fatal(err)
	}
}
