package migrations

import (
	"context"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// TestV11ReplacesRecordIndexes: the list indexes exist after the step, the three they extend are
// gone, and running the step again (after a crash between DDL statements) changes nothing.
func TestV11ReplacesRecordIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "m"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	m := db.Migrator()
	for _, name := range []string{"idx_records_region_occurred", "idx_records_occurred_region", "idx_records_kind_region", "idx_records_kind_status_region", "idx_records_author_kind"} {
		if !m.HasIndex("records", name) {
			t.Errorf("no index %s", name)
		}
	}
	for _, name := range []string{"idx_records_region", "idx_records_occurred", "idx_records_kind_status"} {
		if m.HasIndex("records", name) {
			t.Errorf("index %s is still there", name)
		}
	}
	if err := v11(db.DB, db.Dialect); err != nil {
		t.Fatalf("second run: %v", err)
	}
}
