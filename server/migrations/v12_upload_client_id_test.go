package migrations

import (
	"context"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// TestV12AddsUploadClientID: uploads stored before the step keep working without an id, any
// number of uploads of one account may have none, an id is unique per account only, and running
// the step again (after a crash between DDL statements) changes nothing.
func TestV12AddsUploadClientID(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "m"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := upTo(t, 11)
	if _, err := db.Migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	insert := func(account int, key string, clientID any) error {
		return db.Exec(`INSERT INTO uploads (account_id, kind, mime, size, sha256, storage_key, created_at, client_id)
			VALUES (?, 'image', 'image/png', 1, 'x', ?, CURRENT_TIMESTAMP, ?)`, account, key, clientID).Error
	}
	if err := db.Exec(`INSERT INTO uploads (account_id, kind, mime, size, sha256, storage_key, created_at)
		VALUES (1, 'image', 'image/png', 1, 'x', 'k0', CURRENT_TIMESTAMP)`).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	if err := insert(1, "k1", nil); err != nil {
		t.Fatalf("a second upload without an id: %v", err)
	}
	id := "3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17"
	if err := insert(1, "k2", id); err != nil {
		t.Fatal(err)
	}
	if err := insert(2, "k3", id); err != nil {
		t.Fatalf("the same id from another account: %v", err)
	}
	if err := insert(1, "k4", id); !database.IsUniqueViolation(err) {
		t.Fatalf("the same id twice from one account: %v", err)
	}
	if err := v12(db.DB, db.Dialect); err != nil {
		t.Fatalf("second run: %v", err)
	}
}
