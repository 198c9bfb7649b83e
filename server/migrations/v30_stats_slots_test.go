package migrations

import (
	"testing"
)

// TestV30SpreadsCellsOverSlots: counts made before the step keep their values in slot 0, two
// slots of one cell can be written without a conflict, and the step can run again after a crash
// at any point (the copy left half made, the old table already gone) without losing a count.
func TestV30SpreadsCellsOverSlots(t *testing.T) {
	ctx, db := openBefore(t, 30)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Exec("INSERT INTO stats_monthly (grain, region_code, month, metric, n) VALUES (3, '131028000000', 202612, 'r:tip', 7), (2, '131000000000', 202612, 'r:tip', 9)").Error)
	// A crash after the copy was created: the step starts the copy again.
	must(db.Migrator().CreateTable(&v30Count{}))
	must(db.Exec("INSERT INTO stats_monthly_v30 (grain, region_code, month, metric, slot, n) VALUES (3, '131028000000', 202612, 'r:tip', 0, 1)").Error)
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	must(db.Exec("INSERT INTO stats_monthly (grain, region_code, month, metric, slot, n) VALUES (3, '131028000000', 202612, 'r:tip', 5, 2)").Error)
	sum := func() (n int64) {
		must(db.Raw("SELECT COALESCE(SUM(n), 0) FROM stats_monthly WHERE grain = 3 AND region_code = '131028000000'").Scan(&n).Error)
		return n
	}
	if got := sum(); got != 9 {
		t.Fatalf("county cell after the step and one more slot: %d, want 9", got)
	}
	if !db.Migrator().HasIndex("stats_monthly", "idx_stats_monthly_month") {
		t.Fatal("the province index is gone")
	}
	// Run again: nothing changes.
	must(v30(db.DB, db.Dialect))
	// A crash after the old table was dropped, before the rename.
	must(db.Migrator().RenameTable("stats_monthly", "stats_monthly_v30"))
	must(v30(db.DB, db.Dialect))
	if got := sum(); got != 9 {
		t.Fatalf("after a re-run from the rename: %d, want 9", got)
	}
}
