package migrations

import (
	"fmt"
	"testing"

	"github.com/shiliu/shiliu/server/platform/database"
)

// TestV46MovesTheMarkToTheNewestRecord: on SQLite the records written after migration 44 (their
// entries written in their transactions) are not indexed again: the mark of the newest indexed
// record moves to the newest record. On MySQL the step changes nothing.
func TestV46MovesTheMarkToTheNewestRecord(t *testing.T) {
	ctx, db := openBefore(t, 46)
	for i := 1; i <= 3; i++ {
		err := db.Exec(`INSERT INTO records (id, kind, client_id, body_hash, author_id, unit_id, region_code, title, search_text, occurred_at, received_at, status, updated_at)
			VALUES (?, 'visit', ?, 'h', 1, 1, '131127105203', '入户走访', '', '2026-06-01 00:00:00', '2026-06-01 00:00:00', 'submitted', '2026-06-01 00:00:00')`,
			i, fmt.Sprintf("00000000-0000-4000-8000-%012d", i)).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	var last0 []int64
	db.Raw("SELECT last_id FROM record_search_fill WHERE id = 1").Scan(&last0)
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	var last []int64
	db.Raw("SELECT last_id FROM record_search_fill WHERE id = 1").Scan(&last)
	want := last0
	if db.Dialect == database.SQLite {
		want = []int64{3}
	}
	if fmt.Sprint(last) != fmt.Sprint(want) {
		t.Errorf("last_id %v after the step, want %v", last, want)
	}
}
