package database_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"gorm.io/gorm"
)

type ScannedBase struct {
	ID      int64
	Name    string
	At      time.Time
	MaybeAt *time.Time
	Ratio   *float64
	Flag    bool
	Count   int
	note    string // unexported: never a column
}

type scannedRow struct {
	ScannedBase
	OwnerName string
}

// TestFindReadsWhatGORMReads: database.Find fills the same values as GORM's Find for every kind
// of column a list reads (an embedded struct's fields, NULL and non-NULL pointers, times, bools,
// a joined name), on the database of the run; a column without a field is an error, and no rows
// are an empty answer.
func TestFindReadsWhatGORMReads(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "scan"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	datetime := "DATETIME" // the SQLite driver reads a column as a time by this exact type name
	if db.Dialect == database.MySQL {
		datetime = "DATETIME(3)"
	}
	for _, q := range []string{
		"CREATE TABLE scanned (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, at " + datetime + " NOT NULL, maybe_at " + datetime + " NULL, " +
			"ratio DOUBLE NULL, flag BOOLEAN NOT NULL, count INT NOT NULL, owner_id BIGINT NOT NULL)",
		"CREATE TABLE owners (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL)",
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 12, 6, 2, 3, 4, 5e6, time.UTC)
	if err := db.Exec("INSERT INTO owners (id, name) VALUES (1, '马某某')").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO scanned (id, name, at, maybe_at, ratio, flag, count, owner_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?)",
		1, "石榴籽", at, at.Add(time.Hour), 38.04, true, 7, 1,
		2, "", at, nil, nil, false, 0, 2).Error; err != nil {
		t.Fatal(err)
	}
	list := db.Table("scanned").Select("scanned.id, scanned.name, scanned.at, scanned.maybe_at, scanned.ratio, scanned.flag, scanned.count, owners.name AS owner_name").
		Joins("LEFT JOIN owners ON owners.id = scanned.owner_id").Order("scanned.id")
	var want []scannedRow
	if err := list.Session(&gorm.Session{}).Find(&want).Error; err != nil {
		t.Fatal(err)
	}
	got, err := database.Find[scannedRow](list.Session(&gorm.Session{}), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 2 || want[0].MaybeAt == nil || want[1].MaybeAt != nil || want[0].OwnerName != "马某某" {
		t.Fatalf("GORM read %+v: the seed is not what this test means", want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Find read\n%+v\nGORM read\n%+v", got, want)
	}

	_, err = database.Find[scannedRow](db.Table("scanned").Select("id, 1 AS nowhere"), 0)
	if err == nil || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Errorf("a column without a field: %v", err)
	}
	none, err := database.Find[scannedRow](db.Table("scanned").Select("id").Where("id < 0"), 0)
	if err != nil || len(none) != 0 {
		t.Errorf("no rows: %v %v", none, err)
	}
}

// TestFindBesideWriters: lists read through Find while transactions write the same table, on
// the connections of one pool, which all stay open. On SQLite Find keeps its statements
// prepared; a kept statement that held its connection's read snapshot would make that
// connection's next BEGIN IMMEDIATE fail at once with SQLITE_BUSY (as GORM's PrepareStmt on every
// statement once did in TestSweepRacesAttach), instead of waiting for the writer before it.
func TestFindBesideWriters(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "scanw"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Exec("CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	type item struct {
		ID   int64
		Name string
	}
	const workers, rounds = 4, 60
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		wg.Add(2)
		go func() { // a reader: the newest items, as a list page reads them
			defer wg.Done()
			for range rounds {
				if _, err := database.Find[item](db.WithContext(ctx).Table("items").Order("id DESC").Limit(20), 20); err != nil {
					errs <- fmt.Errorf("read: %w", err)
					return
				}
			}
		}()
		go func() { // a writer, each item in a transaction of its own
			defer wg.Done()
			for i := range rounds {
				err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
					var n int64
					if err := tx.Table("items").Count(&n).Error; err != nil {
						return err
					}
					return tx.Exec("INSERT INTO items (id, name) VALUES (?, ?)", w*rounds+i+1, "条目").Error
				})
				if err != nil {
					errs <- fmt.Errorf("write: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The embedded default keeps its connections, and with them the statements they prepared.
	sqlDB, err := db.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	if st := sqlDB.Stats(); db.Dialect == database.SQLite && st.MaxIdleClosed > 0 {
		t.Errorf("%d connections closed for want of room among the idle ones: each new one parses the schema again", st.MaxIdleClosed)
	}
	got, err := database.Find[item](db.Table("items"), workers*rounds)
	if err != nil || len(got) != workers*rounds {
		t.Fatalf("%d items stored, want %d (%v)", len(got), workers*rounds, err)
	}
}
