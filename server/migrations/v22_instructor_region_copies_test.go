package migrations

import (
	"context"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// TestV22MendsCopiesOfTransferredInstructors: the account and the unattached upload of an
// instructor moved to another county before the step take the new region; an attached upload,
// a staff account and an instructor who never moved keep theirs.
func TestV22MendsCopiesOfTransferredInstructors(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "m"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, upTo(t, 20)); err != nil {
		t.Fatal(err)
	}
	const a, b = "130102001000", "130104000000"
	for _, q := range []string{
		`INSERT INTO instructors (id, unit_id, region_code, name, gender, ethnicity, phone_enc, phone_hash, status, created_at, updated_at)
			VALUES (1, 1, '` + b + `', '调走的', 'male', '01', 'x', 'h1', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
			(2, 2, '` + a + `', '没动的', 'male', '01', 'x', 'h2', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
		`INSERT INTO accounts (id, role, region_code, instructor_id, created_at, updated_at) VALUES
			(1, 'instructor', '` + a + `', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
			(2, 'instructor', '` + a + `', 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
			(3, 'county_staff', '130102000000', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
		`INSERT INTO uploads (id, account_id, instructor_id, kind, mime, size, sha256, storage_key, owner_kind, owner_id, region_code, created_at) VALUES
			(1, 1, 1, 'image', 'image/png', 1, 'x', 'k1', '', NULL, '` + a + `', CURRENT_TIMESTAMP),
			(2, 1, 1, 'image', 'image/png', 1, 'x', 'k2', 'visit', 9, '` + a + `', CURRENT_TIMESTAMP),
			(3, 2, 2, 'image', 'image/png', 1, 'x', 'k3', '', NULL, '` + a + `', CURRENT_TIMESTAMP)`,
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	for run := range 2 {
		if run == 0 {
			if _, err := db.Migrate(ctx, All); err != nil {
				t.Fatal(err)
			}
		} else if err := v22(db.DB, db.Dialect); err != nil {
			t.Fatalf("second run: %v", err)
		}
		for table, want := range map[string][]string{"accounts": {b, a, "130102000000"}, "uploads": {b, a, a}} {
			var got []string
			if err := db.Table(table).Order("id").Pluck("region_code", &got).Error; err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
				t.Errorf("run %d: %s regions %v, want %v", run, table, got, want)
			}
		}
	}
}
