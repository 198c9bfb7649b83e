package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// openBatchTestDB opens a fresh database on the MySQL server of SHILIU_TEST_DATABASE_DSN (the
// dbtest package imports this one), with a table of unique names.
func openBatchTestDB(t *testing.T) *DB {
	db, _ := openBatchTestDBs(t)
	return db
}

// openBatchTestDBs is openBatchTestDB with a connection of the server's admin (not in the
// database's pools).
func openBatchTestDBs(t *testing.T) (*DB, *DB) {
	t.Helper()
	base := os.Getenv("SHILIU_TEST_DATABASE_DSN")
	if base == "" {
		t.Skip("MySQL only: on SQLite Grouped writes groups (TestGroupedCallsCommitAndFailAlone)")
	}
	admin, err := Open(context.Background(), base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "shiliu_batch_" + hex.EncodeToString(b)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name) })
	_, driverDSN, _ := Parse(base)
	cfg, err := mysqldrv.ParseDSN(driverDSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	db, err := Open(context.Background(), cfg.FormatDSN(), Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Exec("CREATE TABLE items (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO items (name) VALUES ('taken')").Error; err != nil {
		t.Fatal(err)
	}
	return db, admin
}

type item struct {
	ID   int64
	Name string
}

func itemNames(t *testing.T, db *DB) []string {
	t.Helper()
	var names []string
	if err := db.Raw("SELECT name FROM items WHERE name <> 'taken' ORDER BY id").Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

// A grouped transaction on MySQL sends the statements run through Later with the next statement
// that answers, or with the COMMIT; what it writes is what the same statements one by one write.
func TestGroupedSendsLaterStatementsTogether(t *testing.T) {
	db := openBatchTestDB(t)
	ctx := context.Background()
	before := batchRoundTrips.Load()
	var c item
	var seen int64
	err := Grouped(ctx, db.DB, func(tx *gorm.DB) error {
		if err := Later(tx).Create(&item{Name: "a"}).Error; err != nil {
			return err
		}
		if err := Later(tx).Exec("INSERT INTO items (name) VALUES (?)", "b; DROP TABLE items").Error; err != nil {
			return err
		}
		c = item{Name: "c"}
		if err := tx.Create(&c).Error; err != nil { // its id is read: sent now, with a and b
			return err
		}
		if err := tx.Raw("SELECT COUNT(*) FROM items").Scan(&seen).Error; err != nil {
			return err
		}
		// A transaction nested in the call is a savepoint.
		_ = tx.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&item{Name: "rolled back"}).Error; err != nil {
				return err
			}
			return errors.New("roll the savepoint back")
		})
		return Later(tx).Create(&item{Name: "d"}).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := itemNames(t, db); len(got) != 4 || got[0] != "a" || got[1] != "b; DROP TABLE items" || got[2] != "c" || got[3] != "d" {
		t.Fatalf("stored %q, want a, b…, c, d", got)
	}
	if seen != 4 {
		t.Errorf("the query in the transaction saw %d rows, want 4 (taken, a, b, c)", seen)
	}
	var cID int64
	db.Raw("SELECT id FROM items WHERE name = 'c'").Scan(&cID)
	if c.ID == 0 || c.ID != cID {
		t.Errorf("c's id in the transaction %d, stored %d", c.ID, cID)
	}
	// START TRANSACTION with a, b and c; the query; the savepoint, its insert and its rollback
	// (GORM's, each answered); d with the COMMIT.
	if n := batchRoundTrips.Load() - before; n != 6 {
		t.Errorf("%d round trips, want 6", n)
	}
}

// A statement sent later that fails fails the whole transaction, whether its caller's code sees
// the error or not; a statement that answers fails as in any transaction.
func TestGroupedLaterFailuresCommitNothing(t *testing.T) {
	db := openBatchTestDB(t)
	ctx := context.Background()
	cases := []struct {
		name string
		fn   func(tx *gorm.DB) error
	}{
		{"later duplicate, seen by the next statement", func(tx *gorm.DB) error {
			if err := Later(tx).Create(&item{Name: "x1"}).Error; err != nil {
				return err
			}
			if err := Later(tx).Create(&item{Name: "taken"}).Error; err != nil {
				return err
			}
			return tx.Create(&item{Name: "x2"}).Error
		}},
		{"later duplicate, error ignored", func(tx *gorm.DB) error {
			_ = Later(tx).Create(&item{Name: "taken"}).Error
			_ = tx.Create(&item{Name: "y1"}).Error
			return nil
		}},
		{"later duplicate, sent with the COMMIT", func(tx *gorm.DB) error {
			if err := tx.Create(&item{Name: "z1"}).Error; err != nil {
				return err
			}
			return Later(tx).Create(&item{Name: "taken"}).Error
		}},
		{"duplicate answered at once", func(tx *gorm.DB) error {
			if err := Later(tx).Create(&item{Name: "w1"}).Error; err != nil {
				return err
			}
			return tx.Create(&item{Name: "taken"}).Error
		}},
	}
	for _, tc := range cases {
		err := Grouped(ctx, db.DB, tc.fn)
		if !IsUniqueViolation(err) {
			t.Errorf("%s: got %v, want the unique violation", tc.name, err)
		}
		if got := itemNames(t, db); len(got) != 0 {
			t.Errorf("%s: stored %q, want nothing", tc.name, got)
		}
	}
	// The pool's connections are fine afterwards.
	if err := Grouped(ctx, db.DB, func(tx *gorm.DB) error { return Later(tx).Create(&item{Name: "after"}).Error }); err != nil {
		t.Fatal(err)
	}
	if got := itemNames(t, db); len(got) != 1 || got[0] != "after" {
		t.Fatalf("stored %q, want after", got)
	}
}

// The batch pool goes with the pool it serves.
func TestBatchPoolClosesWithItsPool(t *testing.T) {
	db := openBatchTestDB(t)
	if err := Grouped(context.Background(), db.DB, func(tx *gorm.DB) error { return tx.Create(&item{Name: "one"}).Error }); err != nil {
		t.Fatal(err)
	}
	pool, _ := db.DB.DB()
	v, ok := batchPools.Load(pool)
	if !ok || v.(*batchPool).db == nil {
		t.Fatal("no batch pool opened")
	}
	bdb := v.(*batchPool).db
	db.Close()
	if _, ok := batchPools.Load(pool); ok {
		t.Error("the batch pool is still registered")
	}
	if err := bdb.Ping(); err == nil {
		t.Error("the batch pool still answers")
	}
}

// A batch pool's idle connections that the server ended (a restart, wait_timeout) are replaced,
// not handed to a submission that would fail on them.
func TestGroupedAfterTheServerEndedItsConnections(t *testing.T) {
	db, admin := openBatchTestDBs(t)
	ctx := context.Background()
	insert := func(name string) error {
		return Grouped(ctx, db.DB, func(tx *gorm.DB) error {
			if err := Later(tx).Create(&item{Name: name + " later"}).Error; err != nil {
				return err
			}
			return tx.Create(&item{Name: name}).Error
		})
	}
	if err := insert("before"); err != nil {
		t.Fatal(err)
	}
	var dbName string
	db.Raw("SELECT DATABASE()").Scan(&dbName)
	var ids []int64
	if err := admin.Raw("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ?", dbName).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		t.Fatal("no connection of the pools found")
	}
	for _, id := range ids {
		if err := admin.Exec("KILL CONNECTION ?", id).Error; err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if err := insert("after " + string(rune('a'+i))); err != nil {
			t.Fatalf("insert %d after the server ended %d connections: %v", i, len(ids), err)
		}
	}
	if got := itemNames(t, db); len(got) != 8 {
		t.Fatalf("stored %q, want 8 rows", got)
	}
}
