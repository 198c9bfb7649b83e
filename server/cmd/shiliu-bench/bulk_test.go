package main

import (
	"context"
	"database/sql"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/region"
)

// TestBulkSeedLeavesWhatTheOrdinarySeedLeaves: the same seed written with -bulk (indexes dropped
// and rebuilt, several connections, the Mroonga index filled offline) and without it (indexes
// kept, one connection, fulltext.Fill) leaves the same tables, the same index entries and the
// same fill state, and the index finds the same records.
var regexpAutoInc = regexp.MustCompile(` AUTO_INCREMENT=[0-9]+`)

func TestBulkSeedLeavesWhatTheOrdinarySeedLeaves(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	_, key := config.NewSecrets()
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	seed := func(name string, bulk bool) *sql.DB {
		db, err := database.Open(ctx, dbtest.DSN(t, name), database.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if db.Dialect != database.MySQL {
			t.Skip("-bulk is for MySQL/MariaDB")
		}
		if _, err := db.Migrate(ctx, migrations.All); err != nil {
			t.Fatal(err)
		}
		if _, err := region.Load(ctx, db.DB); err != nil {
			t.Fatal(err)
		}
		if e, err := fulltext.Detect(db.DB); err != nil || e != fulltext.Mroonga {
			t.Fatalf("no Mroonga index (%q, %v): MariaDB needs mariadb-plugin-mroonga", e, err)
		}
		sqlDB, err := db.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		s := newSeeder(sqlDB, db.Dialect, box, now, t.Logf)
		s.rowsPerInsert, s.insertsPerTx = 100, 3
		counties, err := s.counties(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ins, err := s.roster(ctx, counties, 300)
		if err != nil {
			t.Fatal(err)
		}
		var rebuild func(context.Context) error
		if bulk {
			if rebuild, err = database.DropSecondaryIndexes(ctx, sqlDB, seededTables...); err != nil {
				t.Fatal(err)
			}
			s.conns = 3
		}
		if _, err := s.skewed(ctx, counties, ins, 3000, 1000, busyCounty); err != nil {
			t.Fatal(err)
		}
		if bulk {
			if err := rebuild(ctx); err != nil {
				t.Fatal(err)
			}
			if err := fillOffline(ctx, sqlDB, 700); err != nil {
				t.Fatal(err)
			}
		} else if err := fulltext.Fill(ctx, db.DB, nil); err != nil {
			t.Fatal(err)
		}
		return sqlDB
	}
	bulk, plain := seed("bulka", true), seed("bulkp", false)

	rows := func(db *sql.DB, q string) []string {
		t.Helper()
		r, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cols, _ := r.Columns()
		var out []string
		for r.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var line []string
			for _, v := range vals {
				line = append(line, v.String)
			}
			out = append(out, strings.Join(line, "|"))
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	same := func(what, q string) {
		t.Helper()
		a, b := rows(bulk, q), rows(plain, q)
		if len(a) == 0 {
			t.Errorf("%s: nothing to compare", what)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s differ:\n-bulk: %.2000s\nplain: %.2000s", what, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
	for _, tbl := range append(slices.Clone(seededTables), "record_search") {
		// The definitions, without the next auto-increment value (the seed writes its ids).
		a, b := rows(bulk, "SHOW CREATE TABLE "+tbl), rows(plain, "SHOW CREATE TABLE "+tbl)
		strip := func(s []string) string {
			return strings.Join(strings.Fields(regexpAutoInc.ReplaceAllString(strings.Join(s, ""), "")), " ")
		}
		if strip(a) != strip(b) {
			t.Errorf("%s's definition differs:\n-bulk: %s\nplain: %s", tbl, strip(a), strip(b))
		}
	}
	same("records", "SELECT id, kind, author_id, region_code, title, search_text, status, version FROM records ORDER BY id")
	same("index entries", "SELECT record_id, version, kind, region_code, county_code, author_id, MD5(body) FROM record_search ORDER BY record_id")
	same("fill state", "SELECT id, last_id, (SELECT COUNT(*) FROM record_search_pending) FROM record_search_fill")
	for _, k := range []string{"宅基地", "低保", "宗教事务", "民族"} {
		same("matches of "+k, "SELECT record_id FROM record_search WHERE MATCH(body) AGAINST('+\""+k+"\"' IN BOOLEAN MODE) ORDER BY record_id DESC")
	}
}
