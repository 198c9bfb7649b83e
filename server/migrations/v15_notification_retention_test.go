package migrations

import (
	"context"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// TestV15IndexesFinishedNotifications: the retention index exists after the step, and running
// the step again (after a crash) changes nothing.
func TestV15IndexesFinishedNotifications(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "m"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	if !db.Migrator().HasIndex("notifications", "idx_notifications_finished") {
		t.Fatal("no index idx_notifications_finished")
	}
	if err := v15(db.DB, db.Dialect); err != nil {
		t.Fatalf("second run: %v", err)
	}
}
