package migrations

import (
	"context"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// TestV7BackfillsTerms: instructors entered before terms were recorded get a term from the day
// they were entered, in China.
func TestV7BackfillsTerms(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "m"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, All[:6]); err != nil {
		t.Fatal(err)
	}
	// Entered at 20:00 UTC on 30 April: 1 May in China.
	created := time.Date(2024, 4, 30, 20, 0, 0, 0, time.UTC)
	if err := db.Exec(`INSERT INTO instructors (unit_id, region_code, name, gender, ethnicity, phone_enc, phone_hash, status, created_at, updated_at)
		VALUES (1, '130102001000', '张三', 'male', '01', 'x', 'h', 'active', ?, ?)`, created, created).Error; err != nil {
		t.Fatal(err)
	}
	applied, err := db.Migrate(ctx, All)
	if err != nil || len(applied) != len(All)-6 {
		t.Fatalf("migrate: %v %v", applied, err)
	}
	var row struct {
		TermStart time.Time
		TermEnd   time.Time
	}
	if err := db.Raw("SELECT term_start, term_end FROM instructors").Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.TermStart.Format("2006-01-02") != "2024-05-01" || row.TermEnd.Format("2006-01-02") != "2027-05-01" {
		t.Fatalf("backfilled term: %+v", row)
	}
}
