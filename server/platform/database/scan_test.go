package database_test

import (
	"context"
	"reflect"
	"strings"
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
	got, err := database.Find[scannedRow](list.Session(&gorm.Session{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 2 || want[0].MaybeAt == nil || want[1].MaybeAt != nil || want[0].OwnerName != "马某某" {
		t.Fatalf("GORM read %+v: the seed is not what this test means", want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Find read\n%+v\nGORM read\n%+v", got, want)
	}

	_, err = database.Find[scannedRow](db.Table("scanned").Select("id, 1 AS nowhere"))
	if err == nil || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Errorf("a column without a field: %v", err)
	}
	none, err := database.Find[scannedRow](db.Table("scanned").Select("id").Where("id < 0"))
	if err != nil || len(none) != 0 {
		t.Errorf("no rows: %v %v", none, err)
	}
}
