package migrations

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
)

// TestV36CountsTheInstructorsTrained: attendance recorded before the step makes one row per
// instructor, year (of the session's start in Beijing time) and region, counting their sessions;
// absences count nothing; running the step again counts nothing twice.
func TestV36CountsTheInstructorsTrained(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "m.db"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, upTo(t, 30)); err != nil {
		t.Fatal(err)
	}
	// Session 1 starts on 31 December 2024 at 20:00 UTC: 1 January 2025 in Beijing.
	for id, start := range map[int]time.Time{
		1: time.Date(2024, 12, 31, 20, 0, 0, 0, time.UTC),
		2: time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC),
		3: time.Date(2024, 6, 1, 1, 0, 0, 0, time.UTC),
	} {
		if err := db.Exec(`INSERT INTO training_sessions (id, region_code, title, method, mode, starts_at, ends_at, hours_tenths,
			created_at, updated_at) VALUES (?, '130100000000', 't', 'lecture', 'offline', ?, ?, 30, ?, ?)`,
			id, start, start.Add(3*time.Hour), start, start).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []struct {
		session, instructor int
		region, status      string
	}{
		{1, 1, "130102001001", "attended"},
		{2, 1, "130102001001", "attended"},
		{3, 1, "130102001001", "attended"},
		{1, 2, "130104001001", "absent"},
		{2, 3, "130104001001", "attended"},
		{3, 3, "130104001001", "enrolled"},
	} {
		if err := db.Exec(`INSERT INTO training_enrolments (session_id, instructor_id, unit_id, region_code, status,
			enrolled_by, recorded_by, created_at, updated_at) VALUES (?, ?, 1, ?, ?, 1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
			e.session, e.instructor, e.region, e.status).Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	type trainee struct {
		Year         int
		InstructorID int64
		RegionCode   string
		Attended     int64
	}
	want := []trainee{{2024, 1, "130102001001", 1}, {2025, 1, "130102001001", 2}, {2025, 3, "130104001001", 1}}
	for run := range 2 {
		var got []trainee
		if err := db.Table("training_trainees").Order("year, instructor_id").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("run %d: %+v", run, got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("run %d: %+v, want %+v", run, got[i], want[i])
			}
		}
		if err := v36(db.DB, db.Dialect); err != nil {
			t.Fatalf("second run: %v", err)
		}
	}
}
