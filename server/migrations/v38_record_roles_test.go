package migrations

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
)

// TestV38GivesRecordsTheirDefaultRole: the records stored before the step take the default role
// of their kind and visit type and no tags, and the statistics are asked to recount; running the
// step again changes nothing.
func TestV38GivesRecordsTheirDefaultRole(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "m.db"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, upTo(t, 37)); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("DELETE FROM stats_state").Error; err != nil {
		t.Fatal(err)
	}
	want := map[int]string{}
	insert := func(id int, kind, visitKind, role string) {
		t.Helper()
		err := db.Exec(`INSERT INTO records (id, kind, client_id, body_hash, author_id, unit_id, region_code, title, occurred_at, received_at, status, updated_at)
			VALUES (?, ?, ?, 'h', 1, 1, '130102001001', 't', '2026-06-01 00:00:00', '2026-06-01 00:00:00', 'submitted', '2026-06-01 00:00:00')`,
			id, kind, fmt.Sprintf("00000000-0000-4000-8000-%012d", id)).Error
		if err == nil && visitKind != "" {
			err = db.Exec(`INSERT INTO record_visits (record_id, visit_kind, households, people, ethnicities, content, follow_up_needed)
				VALUES (?, ?, 0, 0, '', 'c', false)`, id, visitKind).Error
		}
		if err != nil {
			t.Fatal(err)
		}
		want[id] = role
	}
	insert(1, "visit", "policy_publicity", "policy_publicist")
	insert(2, "visit", "activity", "activity_organizer")
	insert(3, "visit", "condolence", "sentiment_liaison")
	insert(4, "visit", "help_service", "sentiment_liaison")
	insert(5, "visit", "home_visit", "sentiment_liaison")
	insert(6, "visit", "other", "political_guide")
	insert(7, "sentiment", "", "sentiment_liaison")
	insert(8, "tip", "", "stability_mediator")
	insert(9, "mediation", "", "stability_mediator")
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		var rows []struct {
			ID         int
			Role, Tags string
		}
		if err := db.Table("records").Select("id, role, tags").Order("id").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want) {
			t.Fatalf("run %d: %+v", run, rows)
		}
		for _, r := range rows {
			if r.Role != want[r.ID] || r.Tags != "" {
				t.Errorf("run %d: record %d has role %q and tags %q, want %q", run, r.ID, r.Role, r.Tags, want[r.ID])
			}
		}
		var n int64
		if err := db.Table("stats_state").Where("name = 'rebuild'").Count(&n).Error; err != nil || n != 1 {
			t.Errorf("run %d: %d rebuild rows (%v)", run, n, err)
		}
		if err := v38(db.DB, db.Dialect); err != nil {
			t.Fatalf("second run: %v", err)
		}
	}
}
