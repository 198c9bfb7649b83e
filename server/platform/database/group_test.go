package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
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
				// A transaction nested in a call is a savepoint of the group's transaction: one
				// that fails is rolled back alone, one that succeeds stays with its call.
				if i%10 == 1 || i%10 == 2 {
					nested := tx.Transaction(func(tx *gorm.DB) error {
						if err := tx.Exec("INSERT INTO items (name) VALUES (?)", fmt.Sprintf("nested %d", i)).Error; err != nil {
							return err
						}
						if i%10 == 1 {
							return errOdd
						}
						return nil
					})
					if (i%10 == 1) != errors.Is(nested, errOdd) {
						return fmt.Errorf("nested transaction of call %d: %v", i, nested)
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
		if i%10 == 1 || i%10 == 2 {
			var nested int64
			if err := db.Raw("SELECT COUNT(*) FROM items WHERE name = ?", fmt.Sprintf("nested %d", i)).Scan(&nested).Error; err != nil {
				t.Fatal(err)
			}
			if want := int64(i%10 - 1); i%50 != 7 && i%100 != 9 && nested != want {
				t.Errorf("call %d: %d rows of its nested transaction stored, want %d", i, nested, want)
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

// The group's connection keeps what it prepared, up to maxKeptStmts statements, and answers
// each statement right whether it was kept or not.
func TestKeptStatementsAreBounded(t *testing.T) {
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "k.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pool, _ := db.DB.DB()
	conn, err := pool.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	k := &keptStmts{conn: conn, stmts: map[string]*sql.Stmt{}}
	defer k.close()
	ctx := context.Background()
	for round := range 2 {
		for i := range maxKeptStmts + 44 {
			var got int
			// A different statement for each i (as an IN list of i+1 values would be).
			if err := k.QueryRowContext(ctx, fmt.Sprintf("SELECT ? + %d", i), round).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != round+i {
				t.Fatalf("SELECT %d + %d gave %d", round, i, got)
			}
			if len(k.stmts) > maxKeptStmts {
				t.Fatalf("%d statements kept, at most %d wanted", len(k.stmts), maxKeptStmts)
			}
		}
	}
	before := len(k.stmts)
	var got int
	if err := k.QueryRowContext(ctx, "SELECT ? + 299", 1).Scan(&got); err != nil || got != 300 {
		t.Fatal(got, err)
	}
	if len(k.stmts) != before {
		t.Errorf("a kept statement was prepared again: %d kept, %d before", len(k.stmts), before)
	}
}

// BenchmarkGroupedWrites: callers at once (-cpu sets how many per CPU, b.RunParallel), each
// call a small transaction of ten inserts into an indexed table, as a submission's rows are.
//
//	go test -run x -bench GroupedWrites -benchtime 20000x ./server/platform/database/
func BenchmarkGroupedWrites(b *testing.B) {
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "b.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE rows (id INTEGER PRIMARY KEY AUTOINCREMENT, caller INTEGER NOT NULL, part INTEGER NOT NULL, body TEXT NOT NULL)",
		"CREATE INDEX idx_rows_caller ON rows (caller, id)",
		"CREATE INDEX idx_rows_part ON rows (part, caller)",
	} {
		if err := db.Exec(q).Error; err != nil {
			b.Fatal(err)
		}
	}
	var callers atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		caller := callers.Add(1)
		for pb.Next() {
			if err := Grouped(context.Background(), db.DB, func(tx *gorm.DB) error {
				for part := range 10 {
					if err := tx.Exec("INSERT INTO rows (caller, part, body) VALUES (?, ?, ?)", caller, part, "石榴籽紧紧抱在一起").Error; err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
