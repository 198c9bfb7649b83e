package migrations

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/shiliu/shiliu/server/fulltext"
	"gorm.io/gorm"
)

// TestV44FillsTheIndexResumably: records stored before the step are indexed by it, a batch at a
// time; a fill cut short after its first batch goes on from there when the step runs, and the
// index then finds Chinese keywords of one, two and more characters within a county.
func TestV44FillsTheIndexResumably(t *testing.T) {
	ctx, db := openBefore(t, 44)
	texts := []struct{ region, title, text string }{
		{"131127105203", "宅基地纠纷调解", "两户村民因宅基地边界发生口角"},
		{"131127105203", "入户走访", "协助群众办理低保申请材料"},
		{"130229000000", "宅基地审批", "群众反映宅基地审批进度慢"},
	}
	for i, r := range texts {
		err := db.Exec(`INSERT INTO records (id, kind, client_id, body_hash, author_id, unit_id, region_code, title, search_text, occurred_at, received_at, status, updated_at)
			VALUES (?, 'visit', ?, 'h', 1, 1, ?, ?, ?, '2026-06-01 00:00:00', '2026-06-01 00:00:00', 'submitted', '2026-06-01 00:00:00')`,
			i+1, fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), r.region, r.title, r.text).Error
		if err != nil {
			t.Fatal(err)
		}
	}
	engine, err := fulltext.Ensure(db.DB)
	if err != nil {
		t.Fatal(err)
	}
	if engine == fulltext.None {
		t.Fatalf("no full-text index on %s (MariaDB needs the Mroonga plugin: mariadb-plugin-mroonga)", db.Dialect)
	}
	defer func(b int64) { fulltext.FillBatch = b }(fulltext.FillBatch)
	fulltext.FillBatch = 1
	cut, cancel := context.WithCancel(ctx)
	err = fulltext.Fill(cut, db.DB, func(last, _ int64) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("fill cut short: %v", err)
	}
	var last int64
	db.Raw("SELECT last_id FROM record_search_fill").Scan(&last)
	if last != 1 {
		t.Fatalf("progress after one batch: %d, want 1", last)
	}
	if _, err := db.Migrate(ctx, All); err != nil {
		t.Fatal(err)
	}
	db.Raw("SELECT last_id FROM record_search_fill").Scan(&last)
	if last != 3 {
		t.Fatalf("progress after the step: %d, want 3", last)
	}
	ix := fulltext.New(db.DB)
	for _, c := range []struct {
		keyword, prefix string
		want            []int64
	}{
		{"宅基地", "", []int64{3, 1}},
		{"宅基地", "131127", []int64{1}},
		{"低保", "", []int64{2}},
		{"审", "", []int64{3}},
		{"保申请", "131127", []int64{2}},
		{"马建国", "", nil},
		{"基地审批", "", []int64{3}},
	} {
		q := fulltext.Query{Keyword: c.keyword, Prefix: c.prefix, Limit: 10}
		if c.prefix != "" {
			q.Scope = func(tx *gorm.DB) *gorm.DB { return tx.Where("county_code = ?", c.prefix) }
		}
		got, err := ix.Candidates(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%q in %q: %v, want %v", c.keyword, c.prefix, got, c.want)
		}
	}
}
