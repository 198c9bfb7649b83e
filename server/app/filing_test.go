package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/xuri/excelize/v2"
)

type raFiling struct {
	ID              int64  `json:"id"`
	Level           string `json:"level"`
	RegionCode      string `json:"region_code"`
	ParentCode      string `json:"parent_code"`
	Status          string `json:"status"`
	InstructorCount int    `json:"instructor_count"`
	UnitCount       int    `json:"unit_count"`
	ReturnReason    string `json:"return_reason"`
	Parts           []struct {
		FilingID   int64  `json:"filing_id"`
		RegionCode string `json:"region_code"`
	} `json:"parts"`
	Rows []struct {
		InstructorID int64  `json:"instructor_id"`
		Name         string `json:"name"`
		Phone        string `json:"phone"`
		Position     string `json:"position"`
		UnitName     string `json:"unit_name"`
		TermEnd      string `json:"term_end"`
		PartFilingID int64  `json:"part_filing_id"`
	} `json:"rows"`
}

func (f raFiling) has(instructorID int64) bool {
	for _, r := range f.Rows {
		if r.InstructorID == instructorID {
			return true
		}
	}
	return false
}

type raDiff struct {
	BaseFilingID int64 `json:"base_filing_id"`
	Added        []struct {
		InstructorID int64 `json:"instructor_id"`
	} `json:"added"`
	Removed []struct {
		InstructorID int64 `json:"instructor_id"`
	} `json:"removed"`
	Changed []struct {
		InstructorID int64 `json:"instructor_id"`
		Fields       []struct {
			Field  string `json:"field"`
			Before string `json:"before"`
			After  string `json:"after"`
		} `json:"fields"`
	} `json:"changed"`
}

func raFile(t *testing.T, c *apitest.Client) raFiling {
	t.Helper()
	var f raFiling
	c.Must(http.StatusCreated, "POST", "/api/v1/filings", map[string]any{"note": "年度备案"}).JSON(t, &f)
	return f
}

func raGetFiling(t *testing.T, c *apitest.Client, id int64) raFiling {
	t.Helper()
	var f raFiling
	c.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/filings/%d", id), nil).JSON(t, &f)
	return f
}

// TestFilingChain is the whole filing chain: the county files, the city returns it, the county
// files again, the city accepts and files to the province, and the province sees both filings and
// what changed.
// Not parallel: it expects the newest city filing submitted in the province to be its own.
func TestFilingChain(t *testing.T) {
	e := apitest.Shared(t)
	// A city of the test's own: its filing holds the accepted filings of all its counties.
	cityH := e.City(t)
	raCityH, raCountyH1, raTownH1, raCountyH2 := cityH.Code, cityH.Counties[0].County, cityH.Counties[0].Township(), cityH.Counties[1].County
	county := e.Staff(t, "county_staff", raCountyH1)
	city := e.Staff(t, "city_staff", raCityH)
	province := e.Staff(t, "province_staff", apitest.Province)

	u1 := county.Unit("village", raTownH1)
	u2 := county.Unit("school", raTownH1)
	a, b := county.Instructor(u1), county.Instructor(u1)
	c := county.Instructor(u2)
	idNumber := raIDNumber()
	county.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", c), map[string]any{"id_number": idNumber})

	// A city with no accepted county filing has nothing to file.
	if r := city.Must(http.StatusConflict, "POST", "/api/v1/filings", nil).Err(t); r.Code != "nothing_to_file" {
		t.Fatalf("empty city filing: %+v", r)
	}
	// The province does not file.
	province.Must(http.StatusForbidden, "POST", "/api/v1/filings", nil)

	// A baseline: filed and accepted. The snapshot holds the instructors in office, phones masked,
	// no ID numbers.
	f0 := raFile(t, county)
	if f0.Level != "county" || f0.ParentCode != raCityH || f0.Status != "submitted" || f0.InstructorCount != 3 || f0.UnitCount != 2 ||
		!f0.has(a) || !f0.has(b) || !f0.has(c) {
		t.Fatalf("first filing: %+v", f0)
	}
	body := string(county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/filings/%d", f0.ID), nil).Body)
	if !strings.Contains(body, "****") || strings.Contains(body, idNumber) || strings.Contains(body, "id_number") {
		t.Fatalf("snapshot holds full numbers: %s", body)
	}
	if r := county.Must(http.StatusConflict, "POST", "/api/v1/filings", nil).Err(t); r.Code != "filing_pending" {
		t.Fatalf("second pending filing: %+v", r)
	}
	// Only the city decides: not the county itself, not the province.
	county.Must(http.StatusForbidden, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f0.ID), nil)
	province.Must(http.StatusForbidden, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f0.ID), nil)
	city.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f0.ID), nil)
	if r := city.Must(http.StatusConflict, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f0.ID), nil).Err(t); r.Code != "filing_decided" {
		t.Fatalf("accepted twice: %+v", r)
	}

	// The roster changes: d appointed, b dismissed, c's position changed.
	d := raAppointed(t, county, u2, raToday(e, 0))
	county.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/instructors/%d/adjust", b), map[string]any{"action": "dismiss", "reason_category": "own_wish"})
	county.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", c), map[string]any{"position": "村党支部书记"})

	// Filed, returned with the reason; the county corrects and files again.
	f1 := raFile(t, county)
	city.Must(http.StatusBadRequest, "POST", fmt.Sprintf("/api/v1/filings/%d/return", f1.ID), map[string]any{"reason": ""})
	var returned raFiling
	city.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/return", f1.ID), map[string]any{"reason": "新任指导员职务未填写"}).JSON(t, &returned)
	if returned.Status != "returned" || returned.ReturnReason != "新任指导员职务未填写" {
		t.Fatalf("returned: %+v", returned)
	}
	county.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", d), map[string]any{"position": "学校校长"})
	f2 := raFile(t, county)
	if f2.InstructorCount != 3 || !f2.has(a) || f2.has(b) || !f2.has(c) || !f2.has(d) {
		t.Fatalf("second filing: %+v", f2)
	}
	city.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f2.ID), nil)

	// Filed snapshots never change: a later edit shows in neither, and there is no way to edit one.
	county.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", a), map[string]any{"name": "改名后"})
	for _, f := range []raFiling{f0, f1, f2} {
		for _, r := range raGetFiling(t, county, f.ID).Rows {
			if r.Name == "改名后" {
				t.Fatalf("filing %d changed after filing", f.ID)
			}
		}
	}
	// The returned filing still shows d as filed then, before the correction.
	for _, r := range raGetFiling(t, county, f1.ID).Rows {
		if r.InstructorID == d && r.Position != "村委委员" {
			t.Fatalf("returned filing changed: %+v", r)
		}
	}
	county.Must(http.StatusMethodNotAllowed, "PATCH", fmt.Sprintf("/api/v1/filings/%d", f0.ID), map[string]any{"note": "x"})
	county.Must(http.StatusMethodNotAllowed, "DELETE", fmt.Sprintf("/api/v1/filings/%d", f0.ID), nil)

	// The city files to the province: its counties' latest accepted filings.
	cf := raFile(t, city)
	if cf.Level != "city" || cf.ParentCode != apitest.Province || len(cf.Parts) != 1 || cf.Parts[0].FilingID != f2.ID ||
		cf.Parts[0].RegionCode != raCountyH1 || cf.InstructorCount != 3 || !cf.has(d) || cf.Rows[0].PartFilingID != f2.ID {
		t.Fatalf("city filing: %+v", cf)
	}
	city.Must(http.StatusForbidden, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", cf.ID), nil)
	// The province hears of it (filing.submitted to the receiving level).
	var arrived struct {
		Level      string `json:"level"`
		RegionCode string `json:"region_code"`
		ParentCode string `json:"parent_code"`
	}
	if raw := eventPayloads(t, e, "filing", cf.ID, "filing.submitted"); len(raw) != 1 || json.Unmarshal([]byte(raw[0]), &arrived) != nil ||
		arrived.Level != "city" || arrived.RegionCode != raCityH || arrived.ParentCode != apitest.Province {
		t.Fatalf("the city's filing.submitted: %v", raw)
	}

	// The province sees both filings and the difference.
	var list struct{ Items []raFiling }
	province.Must(http.StatusOK, "GET", "/api/v1/filings?limit=100&region_code="+raCityH, nil).JSON(t, &list)
	seen := map[int64]string{}
	for _, f := range list.Items {
		seen[f.ID] = f.Status
	}
	if seen[cf.ID] != "submitted" || seen[f2.ID] != "accepted" || seen[f1.ID] != "returned" || seen[f0.ID] != "accepted" || len(list.Items) != 4 {
		t.Fatalf("province's list: %v", seen)
	}
	list.Items = nil
	province.Must(http.StatusOK, "GET", "/api/v1/filings?level=city&status=submitted&limit=100", nil).JSON(t, &list)
	if len(list.Items) == 0 || list.Items[0].ID != cf.ID {
		t.Fatalf("filter by level and status: %+v", list.Items)
	}
	// Several statuses at once.
	list.Items = nil
	province.Must(http.StatusOK, "GET", "/api/v1/filings?status=submitted&status=returned&limit=100&region_code="+raCityH, nil).JSON(t, &list)
	seen = map[int64]string{}
	for _, f := range list.Items {
		seen[f.ID] = f.Status
	}
	if len(seen) != 2 || seen[cf.ID] != "submitted" || seen[f1.ID] != "returned" {
		t.Fatalf("filings by two statuses: %v", seen)
	}
	var diff raDiff
	province.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/filings/%d/diff", f2.ID), nil).JSON(t, &diff)
	if diff.BaseFilingID != f0.ID || len(diff.Added) != 1 || diff.Added[0].InstructorID != d ||
		len(diff.Removed) != 1 || diff.Removed[0].InstructorID != b || len(diff.Changed) != 1 || diff.Changed[0].InstructorID != c ||
		len(diff.Changed[0].Fields) != 1 || diff.Changed[0].Fields[0].Field != "position" || diff.Changed[0].Fields[0].After != "村党支部书记" {
		t.Fatalf("difference: %+v", diff)
	}
	// The first city filing has nothing before it: everyone is new.
	diff = raDiff{}
	province.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/filings/%d/diff", cf.ID), nil).JSON(t, &diff)
	if diff.BaseFilingID != 0 || len(diff.Added) != 3 || len(diff.Removed) != 0 {
		t.Fatalf("first city filing's difference: %+v", diff)
	}
	province.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", cf.ID), nil)

	// Who filed what when, per city and county.
	var ov struct {
		RegionCode string `json:"region_code"`
		Items      []struct {
			RegionCode string `json:"region_code"`
			Level      string `json:"level"`
			Latest     *struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			} `json:"latest"`
			LatestAccepted *struct {
				ID              int64 `json:"id"`
				InstructorCount int   `json:"instructor_count"`
			} `json:"latest_accepted"`
			State         string `json:"state"`
			RosterChanged bool   `json:"roster_changed"`
		} `json:"items"`
	}
	province.Must(http.StatusOK, "GET", "/api/v1/filings/overview", nil).JSON(t, &ov)
	byCode := map[string]int{}
	for i, it := range ov.Items {
		byCode[it.RegionCode] = i
	}
	if len(ov.Items) < 200 || ov.RegionCode != apitest.Province {
		t.Fatalf("province overview has %d regions", len(ov.Items))
	}
	ch, c1, c2 := ov.Items[byCode[raCityH]], ov.Items[byCode[raCountyH1]], ov.Items[byCode[raCountyH2]]
	if ch.Level != "city" || ch.LatestAccepted == nil || ch.LatestAccepted.ID != cf.ID ||
		c1.Latest == nil || c1.Latest.ID != f2.ID || c1.LatestAccepted.ID != f2.ID || c1.LatestAccepted.InstructorCount != 3 ||
		c2.Latest != nil || c2.LatestAccepted != nil {
		t.Fatalf("overview: city %+v county %+v other county %+v", ch, c1, c2)
	}
	// How stale: the city filed what its county last filed; the county renamed an instructor since.
	if ch.State != "current" || ch.RosterChanged || c1.State != "changed" || !c1.RosterChanged || c2.State != "never" || c2.RosterChanged {
		t.Fatalf("staleness: city %+v county %+v other county %+v", ch, c1, c2)
	}
	ov.Items = nil
	city.Must(http.StatusOK, "GET", "/api/v1/filings/overview?region_code="+raCityH, nil).JSON(t, &ov)
	if len(ov.Items) < 2 || ov.Items[0].RegionCode != raCityH {
		t.Fatalf("city overview: %+v", ov.Items)
	}
	county.Must(http.StatusForbidden, "GET", "/api/v1/filings/overview?region_code="+raCityH, nil)
	county.Must(http.StatusBadRequest, "GET", "/api/v1/filings/overview?region_code="+raTownH1, nil)

	// The filing as a workbook.
	r := province.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/filings/%d/export.xlsx", f2.ID), nil)
	if !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export headers: %v", r.Header)
	}
	book, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := book.GetRows("备案名册")
	if len(rows) != 4 || rows[0][1] != "姓名" {
		t.Fatalf("exported filing rows: %v", rows)
	}

	// The county files again and the city accepts: the city is now behind what it filed to the
	// province.
	f4 := raFile(t, county)
	city.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f4.ID), nil)
	ov.Items = nil
	province.Must(http.StatusOK, "GET", "/api/v1/filings/overview?region_code="+raCityH, nil).JSON(t, &ov)
	for _, it := range ov.Items {
		if (it.RegionCode == raCityH && (it.State != "changed" || !it.RosterChanged)) || (it.RegionCode == raCountyH1 && (it.State != "current" || it.RosterChanged)) {
			t.Fatalf("after the county filed again: %+v", it)
		}
	}
}

// TestFilingScopeMatrix: every filing route for every caller.
func TestFilingScopeMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	owner, cityIn := w.callers["county_in"], w.callers["city_in"]
	f := raFile(t, owner)
	paths := []string{
		fmt.Sprintf("/api/v1/filings/%d", f.ID),
		fmt.Sprintf("/api/v1/filings/%d/diff", f.ID),
		fmt.Sprintf("/api/v1/filings/%d/export.xlsx", f.ID),
	}
	readers := map[string]bool{"county_in": true, "city_in": true, "province": true}
	for who, c := range w.callers {
		want := http.StatusNotFound
		switch {
		case who == "anonymous":
			want = http.StatusUnauthorized
		case strings.HasPrefix(who, "instructor"):
			want = http.StatusForbidden
		case readers[who]:
			want = http.StatusOK
		}
		for _, p := range paths {
			if r := c.Do("GET", p, nil); r.Status != want {
				t.Errorf("%s GET %s: %d, want %d", who, p, r.Status, want)
			} else if r.Status >= 400 {
				r.Err(t)
			}
		}
		// Deciding: only the city above; others in scope 403, out of scope 404.
		decide := want
		if decide == http.StatusOK {
			decide = http.StatusForbidden
		}
		if who != "city_in" {
			for _, action := range []string{"accept", "return"} {
				if r := c.Do("POST", fmt.Sprintf("/api/v1/filings/%d/%s", f.ID, action), map[string]any{"reason": "x"}); r.Status != decide {
					t.Errorf("%s %s: %d, want %d: %s", who, action, r.Status, decide, r.Body)
				}
			}
		}
		// Lists and the overview.
		listWant := http.StatusOK
		if who == "anonymous" {
			listWant = http.StatusUnauthorized
		} else if strings.HasPrefix(who, "instructor") {
			listWant = http.StatusForbidden
		}
		r := c.Do("GET", "/api/v1/filings?limit=100", nil)
		if r.Status != listWant {
			t.Errorf("%s list: %d, want %d", who, r.Status, listWant)
		} else if r.Status == http.StatusOK && raIDsOf(t, r)[f.ID] != readers[who] {
			t.Errorf("%s list: sees filing %d = %v", who, f.ID, !readers[who])
		}
		if r.Status == http.StatusOK && raIDsOf(t, c.Must(http.StatusOK, "GET", "/api/v1/filings?limit=100&region_code="+w.area.County, nil))[f.ID] != readers[who] {
			t.Errorf("%s list by region widened scope", who)
		}
		ovWant := listWant
		if ovWant == http.StatusOK && !map[string]bool{"city_in": true, "province": true}[who] {
			ovWant = http.StatusForbidden
		}
		if r := c.Do("GET", "/api/v1/filings/overview?region_code="+w.area.City, nil); r.Status != ovWant {
			t.Errorf("%s overview of the area's city: %d, want %d", who, r.Status, ovWant)
		}
		if listWant == http.StatusOK {
			c.Must(http.StatusOK, "GET", "/api/v1/filings/overview", nil)
		}
	}
	if got := raGetFiling(t, owner, f.ID); got.Status != "submitted" {
		t.Fatalf("filing decided by someone out of place: %+v", got)
	}

	// Filing: county and city staff file their own region; the others do not file.
	other := raFile(t, w.callers["county_out"])
	for _, who := range []string{"province", "instructor_self", "instructor_other", "anonymous"} {
		want := http.StatusForbidden
		if who == "anonymous" {
			want = http.StatusUnauthorized
		}
		w.callers[who].Must(want, "POST", "/api/v1/filings", nil)
	}
	cityIn.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", f.ID), nil)
	cf := raFile(t, cityIn)
	if len(cf.Parts) == 0 {
		t.Fatalf("city filing without parts: %+v", cf)
	}
	// Leave nothing pending for other tests of these regions.
	cityIn.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/return", other.ID), map[string]any{"reason": "请补充"})
	w.callers["city_out"].Must(http.StatusNotFound, "POST", fmt.Sprintf("/api/v1/filings/%d/accept", cf.ID), nil)
	w.callers["province"].Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/filings/%d/return", cf.ID), map[string]any{"reason": "请补充"})
}
