package migrations

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"gorm.io/gorm"
)

// TestV45FillsTheRosterIndexResumably: units and instructors stored before the step are indexed
// by name, a batch at a time; a fill cut short after its first batch goes on from there when the
// step runs, and the indexes then find names by one, two and more characters within a county.
func TestV45FillsTheRosterIndexResumably(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "m45"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, upTo(t, 44)); err != nil {
		t.Fatal(err)
	}
	rows := []struct{ region, unit, person string }{
		{"131127105203", "东张庄村", "张伟"},
		{"131127105203", "西张庄村", "李建国"},
		{"130229000000", "张家口社区", "张建华"},
	}
	for i, r := range rows {
		if err := db.Exec(`INSERT INTO units (id, name, kind, region_code, address, created_at, updated_at)
			VALUES (?, ?, 'village', ?, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, i+1, r.unit, r.region).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO instructors (id, unit_id, region_code, name, gender, ethnicity, phone_enc, phone_hash, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'male', '01', 'x', ?, 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, i+1, i+1, r.region, r.person, fmt.Sprint("h", i)).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, src := range []*fulltext.Source{fulltext.Units, fulltext.Instructors} {
		engine, err := src.Ensure(db.DB)
		if err != nil {
			t.Fatal(err)
		}
		if engine == fulltext.None {
			t.Fatalf("no full-text index of %s on %s (MariaDB needs the Mroonga plugin: mariadb-plugin-mroonga)", src.Table, db.Dialect)
		}
	}
	defer func(b int64) { fulltext.FillBatch = b }(fulltext.FillBatch)
	fulltext.FillBatch = 1
	cut, cancel := context.WithCancel(ctx)
	err = fulltext.Instructors.Fill(cut, db.DB, func(last, _ int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("fill cut short: %v", err)
	}
	progress := func(table string) (last int64) {
		db.Raw("SELECT last_id FROM " + table).Scan(&last)
		return last
	}
	if last := progress("instructor_search_fill"); last != 1 {
		t.Fatalf("progress after one batch: %d, want 1", last)
	}
	if last := progress("unit_search_fill"); last != 0 {
		t.Fatalf("units filled before the step: %d", last)
	}
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"unit_search_fill", "instructor_search_fill"} {
		if last := progress(table); last != 3 {
			t.Fatalf("%s after the step: %d, want 3", table, last)
		}
	}
	for _, c := range []struct {
		src             *fulltext.Source
		keyword, county string
		want            []int64
	}{
		{fulltext.Units, "张庄", "", []int64{2, 1}},
		{fulltext.Units, "张", "130229", []int64{3}},
		{fulltext.Units, "东张庄村", "", []int64{1}},
		{fulltext.Units, "社区", "131127", nil},
		{fulltext.Instructors, "张", "", []int64{3, 1}},
		{fulltext.Instructors, "建国", "", []int64{2}},
		{fulltext.Instructors, "张建华", "131127", nil},
		{fulltext.Instructors, "建", "131127", []int64{2}},
	} {
		q := fulltext.Query{Keyword: c.keyword, Prefix: c.county, Limit: 10}
		if c.county != "" {
			q.Scope = func(tx *gorm.DB) *gorm.DB { return tx.Where("county_code = ?", c.county) }
		}
		got, err := fulltext.NewFor(db.DB, c.src).Candidates(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s: %q in %q: %v, want %v", c.src.Table, c.keyword, c.county, got, c.want)
		}
	}
}
