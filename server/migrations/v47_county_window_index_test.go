package migrations

import (
	"fmt"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
)

// TestV47WindowIndex: the step makes the index of county, kind and date; on a SQLite database
// analyzed before, the index gets its statistics too (a planner with statistics for every index
// but this one guesses its cost); a re-run after a crash does not fail.
func TestV47WindowIndex(t *testing.T) {
	ctx, db := openBefore(t, 47)
	for id, region := range []string{"131127105203", "131127105204", "130229000000"} {
		err := db.Exec(`INSERT INTO records (id, kind, client_id, body_hash, author_id, unit_id, region_code, title, occurred_at, received_at, status, updated_at)
			VALUES (?, 'tip', ?, 'h', 1, 1, ?, 't', '2026-06-01 00:00:00', '2026-06-01 00:00:00', 'submitted', '2026-06-01 00:00:00')`,
			id+1, fmt.Sprintf("00000000-0000-4000-8000-%012d", id+1), region).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	if db.Dialect == database.SQLite {
		if err := db.Exec("ANALYZE").Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	const name = "idx_records_county_kind_occurred"
	if !db.Migrator().HasIndex("records", name) {
		t.Fatalf("no index %s", name)
	}
	if db.Dialect == database.SQLite {
		var stat string
		if err := db.Raw("SELECT stat FROM sqlite_stat1 WHERE idx = ?", name).Scan(&stat).Error; err != nil {
			t.Fatal(err)
		}
		// Three rows; two in one county.
		if stat == "" || stat[0] != '3' {
			t.Errorf("statistics of %s: %q, want those of its 3 rows", name, stat)
		}
	}
	if err := v47(db.DB, db.Dialect); err != nil {
		t.Fatalf("second run: %v", err)
	}
}
