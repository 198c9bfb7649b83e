package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/platform/sheet"
	"github.com/shiliu/shiliu/server/record"
)

// TestKeywordSearchThroughTheFullTextIndex: the keyword search of the record lists reads the
// full-text index (FTS5 on SQLite, Mroonga on MariaDB), finds Chinese keywords of any length
// within the caller's scope only, and follows edits of the title and the text and withdrawals.
// Not parallel: it makes every search of the test binary skip the probe (fulltext.ShrinkProbe).
func TestKeywordSearchThroughTheFullTextIndex(t *testing.T) {
	w := newRecordWorld(t)
	e := w.e
	ctx := context.Background()
	// Every search goes to the index, not to the LIKE over the newest records of the scope that
	// answers first otherwise (the other tests' searches give the same results either way).
	defer fulltext.ShrinkProbe(0)()
	engine, err := fulltext.Detect(e.DB())
	if err != nil {
		t.Fatal(err)
	}
	if engine == fulltext.None {
		t.Fatal("no full-text index: the search below would pass on LIKE alone (MariaDB needs mariadb-plugin-mroonga)")
	}
	u := apitest.Unique()
	first := "堤坝" + u + "渗水"
	body := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	body["visit"].(map[string]any)["content"] = "查看了村东" + first + "的情况,群众担心汛期安全"
	id := w.author.Submit("visit", body)
	path := recordPath("visit", id)

	settled := func(ids ...int64) { t.Helper(); waitIndexed(t, e, engine, ids...) }
	settled(id)
	idCol := map[fulltext.Engine]string{fulltext.FTS5: "rowid", fulltext.Mroonga: "record_id", fulltext.Ngram: "record_id"}[engine]
	var entries int64
	e.DB().Raw("SELECT COUNT(*) FROM record_search WHERE "+idCol+" = ?", id).Scan(&entries)
	if entries != 1 {
		t.Fatalf("%d index entries for record %d, want 1", entries, id)
	}

	search := func(who, q, extra string) recordList {
		t.Helper()
		var l recordList
		w.callers[who].Must(http.StatusOK, "GET", "/api/v1/records?limit=100&q="+url.QueryEscape(q)+extra, nil).JSON(t, &l)
		return l
	}
	expect := func(q, extra string, in, out []string) {
		t.Helper()
		for _, who := range in {
			if !search(who, q, extra).has(id) {
				t.Errorf("%s searching %q%s does not find record %d", who, q, extra, id)
			}
		}
		for _, who := range out {
			if search(who, q, extra).has(id) {
				t.Errorf("%s searching %q%s finds record %d", who, q, extra, id)
			}
		}
	}
	everyone := []string{"author", "county_in", "city_in", "province"}
	outsiders := []string{"county_out", "city_out", "instructor_other"}
	expect(first, "", everyone, outsiders)
	// Substrings of two characters or more, across Chinese and letters or digits, and lower case.
	mine := fmt.Sprintf("&author_id=%d", w.ins)
	expect("坝"+u, mine, everyone, nil)
	expect(u[2:]+"渗", mine, everyone, nil)
	expect("渗水", mine, everyone, nil)
	expect("堤坝"+strings.ToLower(u), mine, []string{"county_in"}, nil)
	// One character: the author's own records narrow it.
	expect("堤", mine, []string{"author", "county_in"}, nil)
	// Runs that are not adjacent are no match (the LIKE on the records decides).
	expect("堤坝 渗水", mine, nil, []string{"author", "county_in"})
	expect("马建国"+u, "", nil, []string{"author", "county_in", "province"})

	// An edit of the text: the old words are gone, the new ones found.
	second := "桥梁" + u + "裂缝"
	w.author.Must(http.StatusOK, "PATCH", path, map[string]any{"visit": map[string]any{"content": "发现" + second}})
	settled(id)
	expect(first, "", nil, everyone)
	expect(second, "", everyone, outsiders)
	// An edit of the title.
	third := "标题" + u + "更正"
	w.author.Must(http.StatusOK, "PATCH", path, map[string]any{"title": "走访" + third})
	settled(id)
	expect(third, "", everyone, outsiders)
	expect(second, "", everyone, nil)

	// A withdrawn record is found with its new status, not with its old one.
	w.author.Must(http.StatusOK, "POST", path+"/withdraw", map[string]any{"reason": "重复填报"})
	settled(id)
	expect(second, "&status=withdrawn", everyone, outsiders)
	expect(second, "&status=submitted", nil, everyone)

	// Pages of a search follow the cursor, newest first.
	fourth := "灌渠" + u
	var many []int64
	for i := 0; i < 3; i++ {
		b := apitest.RecordBody("sentiment", phoneTime(e, -time.Duration(i)*time.Minute))
		b["sentiment"].(map[string]any)["content"] = fmt.Sprintf("村民反映%s第%d段淤堵", fourth, i)
		many = append(many, w.author.Submit("sentiment", b))
	}
	settled(many...)
	var seen []int64
	next := ""
	for range 5 {
		var l recordList
		w.staff.Must(http.StatusOK, "GET", "/api/v1/records?limit=1&q="+url.QueryEscape(fourth)+"&cursor="+next, nil).JSON(t, &l)
		for _, it := range l.Items {
			seen = append(seen, it.ID)
		}
		if next = l.NextCursor; next == "" {
			break
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint([]int64{many[2], many[1], many[0]}) {
		t.Errorf("pages %v, want %v", seen, []int64{many[2], many[1], many[0]})
	}

	// Mroonga is written after commit: an entry a crash left pending is written by the sweep.
	if engine == fulltext.Mroonga {
		db := e.DB()
		if err := db.Exec("DELETE FROM record_search WHERE record_id = ?", many[0]).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("INSERT INTO record_search_pending (record_id, version) VALUES (?, 1)", many[0]).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := fulltext.New(db).Repair(ctx); err != nil {
			t.Fatal(err)
		}
		var pending int64
		db.Raw("SELECT COUNT(*) FROM record_search WHERE record_id = ?", many[0]).Scan(&entries)
		db.Raw("SELECT COUNT(*) FROM record_search_pending WHERE record_id = ?", many[0]).Scan(&pending)
		if entries != 1 || pending != 0 {
			t.Errorf("after the repair: %d entries, %d pending", entries, pending)
		}
	}
}

// waitIndexed waits until the full-text entries of ids are written. MySQL 8 writes them in the
// record's transaction; Mroonga a moment after the commit (fulltext.Index.Run, kicked by the
// change), and so does SQLite for a new record (an edit's entry is written in its transaction).
func waitIndexed(t *testing.T, e *apitest.Env, engine fulltext.Engine, ids ...int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left int64
		switch engine {
		case fulltext.Mroonga:
			e.DB().Raw("SELECT COUNT(*) FROM record_search_pending WHERE record_id IN ?", ids).Scan(&left)
		case fulltext.FTS5:
			e.DB().Raw("SELECT COUNT(*) FROM records WHERE id IN ? AND id > (SELECT last_id FROM record_search_fill WHERE id = 1)", ids).Scan(&left)
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("records %v still not in the full-text index after 10 s", ids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestJustSentRecordFoundBeforeItsIndexEntry: the full-text entry of a new record is written a
// moment after its commit (Mroonga; SQLite in batches), but a keyword search finds the record at
// once: the LIKE over the scope's newest records finds it, and the index answers only below them.
// Not parallel: it lowers the probe's size for the whole test binary.
func TestJustSentRecordFoundBeforeItsIndexEntry(t *testing.T) {
	w := newRecordWorld(t)
	e := w.e
	defer fulltext.ShrinkProbe(2)()
	engine, err := fulltext.Detect(e.DB())
	if err != nil {
		t.Fatal(err)
	}
	if engine == fulltext.None {
		t.Fatal("no full-text index (MariaDB needs mariadb-plugin-mroonga)")
	}
	keyword := "涵洞" + apitest.Unique() + "塌陷"
	submit := func(text string, ago time.Duration) int64 {
		body := apitest.RecordBody("visit", phoneTime(e, -ago))
		body["visit"].(map[string]any)["content"] = text
		return w.author.Submit("visit", body)
	}
	older := submit("村北"+keyword+"已修复", 4*time.Hour)
	submit("走访了五户群众", 3*time.Hour)
	submit("调解了一起邻里纠纷", 2*time.Hour)
	sent := submit("村南"+keyword+"需要处理", time.Hour)
	waitIndexed(t, e, engine, older, sent)
	// As if the writer had not come to it yet: the record is newer than the probe's floor (the
	// author's 2nd newest record), so without its entry only the LIKE probe can find it.
	idCol := map[fulltext.Engine]string{fulltext.FTS5: "rowid", fulltext.Mroonga: "record_id", fulltext.Ngram: "record_id"}[engine]
	if err := e.DB().Exec("DELETE FROM record_search WHERE "+idCol+" = ?", sent).Error; err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"author", "county_in"} {
		var l recordList
		w.callers[who].Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/records?limit=20&author_id=%d&q=%s", w.ins, url.QueryEscape(keyword)), nil).JSON(t, &l)
		var got []int64
		for _, it := range l.Items {
			got = append(got, it.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint([]int64{sent, older}) {
			t.Errorf("%s searching %q: %v, want %v (the one just sent, then the older one from the index)", who, keyword, got, []int64{sent, older})
		}
	}
}

// TestRecordExportWithKeywordThroughTheIndex: an export with q finds its records through the
// full-text index, not with LIKE over the scope: the same records as the list's search, newest
// first, within the caller's scope, and refused over the cap as before.
// Not parallel: it makes every search of the test binary skip the probe (fulltext.ShrinkProbe).
func TestRecordExportWithKeywordThroughTheIndex(t *testing.T) {
	w := newRecordWorld(t)
	e := w.e
	defer fulltext.ShrinkProbe(0)()
	if engine, err := fulltext.Detect(e.DB()); err != nil || engine == fulltext.None {
		t.Fatalf("no full-text index (%v): the export below would pass on LIKE alone", err)
	}
	u := apitest.Unique()
	keyword := "排洪沟" + u
	var mine []int64
	for i := range 3 {
		b := apitest.RecordBody("sentiment", phoneTime(e, -time.Duration(3-i)*time.Minute))
		b["sentiment"].(map[string]any)["content"] = fmt.Sprintf("村民反映%s第%d段堵塞", keyword, i)
		mine = append(mine, w.author.Submit("sentiment", b))
	}
	w.author.Submit("sentiment", apitest.RecordBody("sentiment", phoneTime(e, -time.Minute)))
	ob := apitest.RecordBody("visit", phoneTime(e, -time.Minute))
	ob["visit"].(map[string]any)["content"] = "走访时看到" + keyword + "已清理"
	other := w.callers["instructor_other"].Submit("visit", ob)
	engine, _ := fulltext.Detect(e.DB())
	waitIndexed(t, e, engine, append(mine, other)...)
	exported := func(who string, q string) []int64 {
		t.Helper()
		r := w.callers[who].Must(http.StatusOK, "GET", exportPath("", url.Values{"q": {q}}), nil)
		return readExport(t, r, exportSheetNames[""]).ids(t)
	}
	newestFirst := []int64{mine[2], mine[1], mine[0]}
	for who, want := range map[string][]int64{
		"county_in":  newestFirst,
		"city_in":    newestFirst,
		"county_out": nil,
		"city_out":   {other}, // the other instructor's city
		"province":   append([]int64{other}, newestFirst...),
	} {
		if got := exported(who, keyword); fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s exporting %q: %v, want %v", who, keyword, got, want)
		}
	}
	if got := exported("county_in", "第1段堵塞"); !slices.Contains(got, mine[1]) || slices.Contains(got, mine[0]) {
		t.Errorf("exporting a phrase across the keyword: %v", got)
	}
	if got := exported("county_in", "排洪沟 "+u); slices.Contains(got, mine[0]) {
		t.Errorf("runs that are not adjacent exported: %v", got)
	}
	// Over the cap, the export is refused with the number of matches, as without q.
	p := &access.Principal{Role: access.RoleCountyStaff, RegionCode: w.area.County, AccountID: 1}
	svc := record.NewService(e.DB(), e.App.Roster, e.App.Regions, e.App.Uploads, e.Clock, discardLogger(), record.Options{MaxExportRows: 2})
	tbl, err := sheet.New("全部记录")
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Export(context.Background(), p, record.Filter{Q: keyword, Param: func(string) string { return "" }}, tbl)
	if ae, ok := apperr.As(err); !ok || ae.Code != "export_too_large" || !strings.Contains(ae.Message, "3条") {
		t.Fatalf("export with q over the cap: %v", err)
	}
	// The export reads the index: a record whose entry is gone is not found by it (the LIKE over
	// the scope would find it).
	idCol := map[fulltext.Engine]string{fulltext.FTS5: "rowid", fulltext.Mroonga: "record_id", fulltext.Ngram: "record_id"}[engine]
	if err := e.DB().Exec("DELETE FROM record_search WHERE "+idCol+" = ?", mine[0]).Error; err != nil {
		t.Fatal(err)
	}
	if got := exported("county_in", keyword); fmt.Sprint(got) != fmt.Sprint(newestFirst[:2]) {
		t.Errorf("export without the index entry of %d: %v, want %v", mine[0], got, newestFirst[:2])
	}
}
