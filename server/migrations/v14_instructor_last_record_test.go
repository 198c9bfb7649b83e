package migrations

import (
	"context"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// TestV14MovesLatestRecordToInstructors: each instructor's latest record moves from
// stats_activity onto the instructor, one without any keeps NULL, and the step can run again.
func TestV14MovesLatestRecordToInstructors(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "m"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, upTo(t, 13)); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 8, 30, 0, 123e6, time.UTC)
	for id := 1; id <= 2; id++ {
		if err := db.Exec(`INSERT INTO instructors (id, unit_id, region_code, name, gender, ethnicity, phone_enc, phone_hash, status,
			created_at, updated_at) VALUES (?, 1, '130102001001', '张三', 'male', '01', 'x', ?, 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
			id, id).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Exec("INSERT INTO stats_activity (instructor_id, last_record_at) VALUES (1, ?)", at).Error; err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		if run == 0 {
			if _, err := db.Migrate(ctx, All); err != nil {
				t.Fatal(err)
			}
		} else if err := v14(db.DB, db.Dialect); err != nil {
			t.Fatalf("second run: %v", err)
		}
		var got []struct {
			ID           int64
			LastRecordAt *time.Time
		}
		if err := db.Table("instructors").Select("id, last_record_at").Order("id").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].LastRecordAt == nil || !got[0].LastRecordAt.Equal(at) || got[1].LastRecordAt != nil {
			t.Errorf("run %d: %+v", run, got)
		}
	}
	for table, ix := range map[string]string{"instructors": "idx_instructors_activity", "units": "idx_units_groups"} {
		if !db.Migrator().HasIndex(table, ix) {
			t.Errorf("no index %s", ix)
		}
	}
	if !db.Migrator().HasIndex("instructors", "idx_instructors_groups") {
		t.Error("no index idx_instructors_groups")
	}
}
