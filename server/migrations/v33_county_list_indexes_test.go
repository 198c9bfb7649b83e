package migrations

import (
	"fmt"
	"testing"
)

// TestV33CountyCodeAndListIndexes: on a table that already holds records, the step adds the
// county code, computed by the database for old and new rows alike, and the four list indexes;
// a re-run after a crash between its statements (the column made, an index missing) completes
// it without failing.
func TestV33CountyCodeAndListIndexes(t *testing.T) {
	ctx, db := openBefore(t, 33)
	insert := func(id int, region string) {
		t.Helper()
		err := db.Exec(`INSERT INTO records (id, kind, client_id, body_hash, author_id, unit_id, region_code, title, occurred_at, received_at, status, updated_at)
			VALUES (?, 'tip', ?, 'h', 1, 1, ?, 't', '2026-06-01 00:00:00', '2026-06-01 00:00:00', 'submitted', '2026-06-01 00:00:00')`,
			id, fmt.Sprintf("00000000-0000-4000-8000-%012d", id), region).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	insert(1, "131127105203")
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	insert(2, "130229000000")
	var codes []string
	if err := db.Raw("SELECT county_code FROM records ORDER BY id").Scan(&codes).Error; err != nil {
		t.Fatal(err)
	}
	if len(codes) != 2 || codes[0] != "131127" || codes[1] != "130229" {
		t.Errorf("county codes %v, want [131127 130229]", codes)
	}
	for _, ix := range v33Indexes {
		if !db.Migrator().HasIndex("records", ix.name) {
			t.Errorf("no index %s", ix.name)
		}
	}
	// A crash after the column and before the last index.
	if err := db.Migrator().DropIndex("records", "idx_records_author"); err != nil {
		t.Fatal(err)
	}
	if err := v33(db.DB, db.Dialect); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !db.Migrator().HasIndex("records", "idx_records_author") {
		t.Error("the second run did not make the missing index")
	}
}
