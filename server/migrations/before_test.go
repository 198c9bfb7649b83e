package migrations

import (
	"context"
	"fmt"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// openBefore opens a test database of its own migrated by every step before version: a step's
// test then writes the rows the step finds, and runs it (closed when the test ends).
func openBefore(t *testing.T, version int) (context.Context, *database.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, fmt.Sprintf("m%d", version)), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var before []database.Migration
	for _, m := range All {
		if m.Version < version {
			before = append(before, m)
		}
	}
	if _, err := db.Migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	return ctx, db
}
