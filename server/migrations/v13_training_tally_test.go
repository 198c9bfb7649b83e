package migrations

import (
	"context"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// upTo is the steps up to and including version v.
func upTo(t *testing.T, v int) []database.Migration {
	t.Helper()
	for i, m := range All {
		if m.Version == v {
			return All[:i+1]
		}
	}
	t.Fatalf("no step %d", v)
	return nil
}

// TestV13TalliesRecordedAttendance: attendance recorded before the step is tallied per session
// and county, whole sessions and own hours apart; absences and plain enrolments count nothing;
// running the step again counts nothing twice.
func TestV13TalliesRecordedAttendance(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "m"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, upTo(t, 12)); err != nil {
		t.Fatal(err)
	}
	for i, e := range []struct {
		session int
		region  string
		status  string
		tenths  any
	}{
		{1, "130102001001", "attended", nil},
		{1, "130102002003", "attended", 15},
		{1, "130104001001", "attended", nil},
		{1, "130102001001", "absent", nil},
		{1, "130102001001", "enrolled", nil},
		{2, "130102001001", "attended", 20},
	} {
		if err := db.Exec(`INSERT INTO training_enrolments (session_id, instructor_id, unit_id, region_code, status, hours_tenths,
			enrolled_by, recorded_by, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, 1, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
			e.session, i+1, e.region, e.status, e.tenths).Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	type tally struct {
		SessionID               int64
		CountyCode              string
		Attended, Whole, Tenths int64
	}
	want := []tally{{1, "130102000000", 2, 1, 15}, {1, "130104000000", 1, 1, 0}, {2, "130102000000", 1, 0, 20}}
	for run := range 2 {
		var got []tally
		if err := db.Table("training_tallies").Order("session_id, county_code").Scan(&got).Error; err != nil {
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
		if err := v13(db.DB, db.Dialect); err != nil {
			t.Fatalf("second run: %v", err)
		}
	}
}
