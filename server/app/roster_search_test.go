package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/fulltext"
)

// TestRosterNameSearchThroughTheFullTextIndex: the name search (q) of units and instructors reads
// the roster's full-text indexes (FTS5 on SQLite, Mroonga on MariaDB), finds names by keywords of
// one, two and more characters and by Latin letters and digits, within the caller's scope only,
// and follows creation, renames, a unit moved to another township with its instructors, an
// adjustment (a replacement appointed, a transfer) and an Excel import.
// Not parallel: it makes every search of the test binary skip the probe (fulltext.ShrinkProbe).
func TestRosterNameSearchThroughTheFullTextIndex(t *testing.T) {
	e := apitest.Shared(t)
	// Every search goes to the index, not to the LIKE over the newest rows of the scope that
	// answers first otherwise (other tests' searches give the same results either way).
	defer fulltext.ShrinkProbe(0)()
	engines := map[*fulltext.Source]fulltext.Engine{}
	for _, src := range []*fulltext.Source{fulltext.Units, fulltext.Instructors} {
		engine, err := src.Detect(e.DB())
		if err != nil {
			t.Fatal(err)
		}
		if engine == fulltext.None {
			t.Fatalf("no full-text index of %s: the searches below would pass on LIKE alone (MariaDB needs mariadb-plugin-mroonga)", src.Table)
		}
		engines[src] = engine
	}
	a := e.Area(t)
	callers := map[string]*apitest.Client{
		"county_in":  e.Staff(t, "county_staff", a.County),
		"county_out": e.Staff(t, "county_staff", a.Neighbour),
		"city_in":    e.Staff(t, "city_staff", a.City),
		"city_out":   e.Staff(t, "city_staff", apitest.CityB),
		"province":   e.Staff(t, "province_staff", apitest.Province),
	}
	everyone := []string{"county_in", "city_in", "province"}
	outsiders := []string{"county_out", "city_out"}
	staff := callers["county_in"]

	// Mroonga is written a moment after the commit (fulltext.Index.Run, kicked by the change).
	settled := func() {
		t.Helper()
		if engines[fulltext.Units] != fulltext.Mroonga {
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			var pending int64
			e.DB().Raw("SELECT (SELECT COUNT(*) FROM unit_search_pending) + (SELECT COUNT(*) FROM instructor_search_pending)").Scan(&pending)
			if pending == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("roster entries still pending in the full-text index after 10 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	type item struct {
		ID         int64  `json:"id"`
		RegionCode string `json:"region_code"`
	}
	search := func(who, list, q, extra string) []int64 {
		t.Helper()
		var l struct {
			Items      []item `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		callers[who].Must(http.StatusOK, "GET", "/api/v1/"+list+"?limit=100&q="+url.QueryEscape(q)+extra, nil).JSON(t, &l)
		ids := make([]int64, len(l.Items))
		for i, it := range l.Items {
			ids[i] = it.ID
		}
		return ids
	}
	has := func(ids []int64, id int64) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	expect := func(list string, id int64, q, extra string, in, out []string) {
		t.Helper()
		for _, who := range in {
			if !has(search(who, list, q, extra), id) {
				t.Errorf("%s searching %s for %q%s does not find %d", who, list, q, extra, id)
			}
		}
		for _, who := range out {
			if has(search(who, list, q, extra), id) {
				t.Errorf("%s searching %s for %q%s finds %d", who, list, q, extra, id)
			}
		}
	}

	u := apitest.Unique() // six hexadecimal digits and capitals
	unitName := "堤坝" + u + "村"
	var unit item
	staff.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{"name": unitName, "kind": "village", "region_code": a.Township()}).JSON(t, &unit)
	body := apitest.InstructorBody(unit.ID)
	body["name"] = "欧阳" + u + "明"
	ins := apitest.ID(t, staff.Must(http.StatusCreated, "POST", "/api/v1/instructors", body))
	settled()

	expect("units", unit.ID, unitName, "", everyone, outsiders)
	expect("instructors", ins, "欧阳"+u+"明", "", everyone, outsiders)
	// Substrings of one, two and more characters, across Chinese, letters and digits, lower case.
	expect("units", unit.ID, "坝"+u, "", everyone, outsiders)
	expect("units", unit.ID, strings.ToLower(u[1:])+"村", "", []string{"county_in", "province"}, nil)
	expect("units", unit.ID, u[:2], "", []string{"county_in"}, nil)
	expect("instructors", ins, "欧阳", "&region_code="+a.Township(), everyone, nil)
	expect("instructors", ins, "明", "&region_code="+a.Township(), everyone, nil)
	expect("instructors", ins, "阳"+u[:1], "", everyone, outsiders)
	// Runs that are not adjacent are no match: the LIKE on the rows decides.
	expect("units", unit.ID, "堤坝 村", "", nil, everyone)
	expect("instructors", ins, "马建国"+u, "", nil, everyone)
	// A region filter outside the caller's scope or elsewhere in it finds nothing.
	expect("units", unit.ID, unitName, "&region_code="+a.Townships[1], nil, everyone)
	expect("units", unit.ID, unitName, "&region_code="+a.Neighbour, nil, []string{"county_in", "city_in"})

	// Renames: the old name is gone, the new one found.
	renamed := "灌渠" + u + "社区"
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/units/%d", unit.ID), map[string]any{"name": renamed})
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", ins), map[string]any{"name": "司马" + u + "光"})
	settled()
	expect("units", unit.ID, unitName, "", nil, everyone)
	expect("units", unit.ID, renamed, "", everyone, outsiders)
	expect("instructors", ins, "欧阳"+u, "", nil, everyone)
	expect("instructors", ins, "司马"+u+"光", "", everyone, outsiders)

	// The unit moves to the county's other township, its instructors with it.
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/units/%d", unit.ID), map[string]any{"region_code": a.Townships[1]})
	settled()
	expect("units", unit.ID, renamed, "&region_code="+a.Townships[1], everyone, nil)
	expect("units", unit.ID, renamed, "&region_code="+a.Township(), nil, everyone)
	expect("instructors", ins, "司马"+u, "&region_code="+a.Townships[1], everyone, nil)
	expect("instructors", ins, "司马"+u, "&region_code="+a.Township(), nil, everyone)

	// An adjustment: the instructor is replaced by a newcomer, then transferred to another unit
	// back in the first township.
	newcomer := raPerson()
	newcomer["name"] = "诸葛" + u + "亮"
	var adj struct {
		Replacement struct{ ID int64 } `json:"replacement"`
	}
	staff.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/instructors/%d/adjust", ins), map[string]any{
		"action": "replace", "reason_category": "health", "replacement": newcomer}).JSON(t, &adj)
	settled()
	if adj.Replacement.ID == 0 {
		t.Fatal("no replacement")
	}
	expect("instructors", adj.Replacement.ID, "诸葛"+u, "&region_code="+a.Townships[1], everyone, outsiders)
	other := staff.Unit("community", a.Township())
	staff.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/instructors/%d/adjust", adj.Replacement.ID), map[string]any{
		"action": "transfer", "reason_category": "job_change", "to_unit_id": other})
	settled()
	expect("instructors", adj.Replacement.ID, "诸葛"+u, "&region_code="+a.Township(), everyone, nil)
	expect("instructors", adj.Replacement.ID, "诸葛"+u, "&region_code="+a.Townships[1], nil, everyone)

	// An Excel import: its new units and instructors are found by name.
	fresh := "新庄" + u + "村"
	rows := [][]string{raRow(fresh, a.Township()), raRow(fresh, a.Township())}
	rows[0][3], rows[1][3] = "上官"+u+"甲", "上官"+u+"乙"
	if r := raUpload(t, staff, "/api/v1/roster/import", raWorkbook(t, staff, rows)); r.Status != http.StatusCreated {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	settled()
	got := search("province", "units", fresh, "")
	if len(got) != 1 {
		t.Fatalf("imported unit by name: %v", got)
	}
	expect("units", got[0], "新庄"+u, "", everyone, outsiders)
	imported := search("city_in", "instructors", "上官"+u, "")
	if len(imported) != 2 || imported[0] < imported[1] {
		t.Fatalf("imported instructors by name, newest first: %v", imported)
	}
	expect("instructors", imported[1], "上官"+u+"甲", "", everyone, outsiders)
	expect("instructors", imported[0], "上官"+u+"乙", "", everyone, outsiders)

	// Pages of a search follow the cursor, newest first, with the other filters.
	var seen []int64
	next := ""
	for range 5 {
		var l struct {
			Items      []item `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		staff.Must(http.StatusOK, "GET", "/api/v1/instructors?limit=1&status=active&q="+url.QueryEscape(u)+"&cursor="+next, nil).JSON(t, &l)
		for _, it := range l.Items {
			seen = append(seen, it.ID)
		}
		if next = l.NextCursor; next == "" {
			break
		}
	}
	// The first instructor was replaced (dismissed): not in office, not in the list.
	if want := []int64{imported[0], imported[1], adj.Replacement.ID}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("pages %v, want %v", seen, want)
	}
	expect("instructors", ins, "司马"+u, "&status=dismissed", everyone, outsiders)
}
