package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

type huUnit struct {
	ID          int64   `json:"id"`
	Heavy       bool    `json:"heavy"`
	HeavyReason string  `json:"heavy_reason"`
	HeavyAt     *string `json:"heavy_at"`
}

// huRegionRow is a row of /stats/regions with the flagged units' counts.
type huRegionRow struct {
	Region struct {
		Code string `json:"code"`
	} `json:"region"`
	Units             int64 `json:"units"`
	UnitsWithout      int64 `json:"units_without_instructor"`
	HeavyUnits        int64 `json:"heavy_units"`
	HeavyUnitsWithout int64 `json:"heavy_units_without_instructor"`
}

func huRegions(t *testing.T, c *apitest.Client, code string) map[string]huRegionRow {
	t.Helper()
	var v struct{ Items []huRegionRow }
	c.Must(http.StatusOK, "GET", "/api/v1/stats/regions?region_code="+code, nil).JSON(t, &v)
	out := map[string]huRegionRow{}
	for _, r := range v.Items {
		out[r.Region.Code] = r
	}
	return out
}

func huOverview(t *testing.T, c *apitest.Client, code string) (heavy, heavyWithout, without int64) {
	t.Helper()
	var v struct {
		Units struct {
			WithoutInstructor      int64 `json:"without_instructor"`
			Heavy                  int64 `json:"heavy"`
			HeavyWithoutInstructor int64 `json:"heavy_without_instructor"`
		} `json:"units"`
	}
	c.Must(http.StatusOK, "GET", "/api/v1/stats/overview?region_code="+code, nil).JSON(t, &v)
	return v.Units.Heavy, v.Units.HeavyWithoutInstructor, v.Units.WithoutInstructor
}

func huIDs(t *testing.T, c *apitest.Client, path string) []int64 {
	t.Helper()
	var l struct{ Items []huUnit }
	c.Must(http.StatusOK, "GET", path, nil).JSON(t, &l)
	var out []int64
	for _, u := range l.Items {
		out = append(out, u.ID)
	}
	slices.Sort(out)
	return out
}

// Units where ethnic work is heavy (measures §二(二)): staff of the county and above flag them with
// a reason, the flag is in the audit trail, lists filter by it, and the statistics count the
// flagged units with and without an instructor, the same at every level of the drill-down.
func TestHeavyUnitsFlaggedAndCounted(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	a := e.Area(t)
	county := e.Staff(t, "county_staff", a.County)
	city := e.Staff(t, "city_staff", a.City)
	neighbour := e.Staff(t, "county_staff", a.Neighbour)
	t1, t2 := a.Townships[0], a.Townships[1]
	u1 := county.Unit("village", t1)    // flagged, nobody in office
	u2 := county.Unit("school", t2)     // flagged, an instructor
	u3 := county.Unit("enterprise", t1) // not flagged, nobody in office
	ins, _ := e.InstructorClient(t, county, u2)
	heavy := func(id int64) string { return fmt.Sprintf("/api/v1/units/%d/heavy", id) }

	// The reason is required when flagging; the flag itself always.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"heavy": true}, "reason"},
		{map[string]any{"heavy": true, "reason": "   "}, "reason"},
		{map[string]any{"reason": "少数民族聚居"}, "heavy"},
	} {
		if r := county.Must(http.StatusBadRequest, "PUT", heavy(u1), c.body).Err(t); len(r.Details) == 0 || r.Details[0].Field != c.field {
			t.Errorf("%v: %+v", c.body, r)
		}
	}
	var v huUnit
	county.Must(http.StatusOK, "PUT", heavy(u1), map[string]any{"heavy": true, "reason": "回族群众聚居村"}).JSON(t, &v)
	if !v.Heavy || v.HeavyReason != "回族群众聚居村" || v.HeavyAt == nil {
		t.Fatalf("flagged: %+v", v)
	}
	// The city flags a unit of its county; the county next door and an instructor may not.
	city.Must(http.StatusOK, "PUT", heavy(u2), map[string]any{"heavy": true, "reason": "多民族学生就读"})
	if r := neighbour.Must(http.StatusNotFound, "PUT", heavy(u1), map[string]any{"heavy": false}).Err(t); r.Code != "unit_not_found" {
		t.Fatalf("neighbour: %+v", r)
	}
	ins.Must(http.StatusForbidden, "PUT", heavy(u3), map[string]any{"heavy": true, "reason": "x"})
	county.Must(http.StatusNotFound, "PUT", heavy(1<<40), map[string]any{"heavy": false})
	v = huUnit{}
	county.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/units/%d", u2), nil).JSON(t, &v)
	if !v.Heavy || v.HeavyReason != "多民族学生就读" {
		t.Fatalf("flagged by the city: %+v", v)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM audit_log WHERE action = 'PUT /api/v1/units/{id}/heavy' AND subject_id = ? AND status = 200", u1); n != 1 {
		t.Fatalf("%d audit entries of the flag", n)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM audit_log WHERE action = 'PUT /api/v1/units/{id}/heavy' AND subject_id = ? AND status = 404", u1); n != 1 {
		t.Fatalf("%d audit entries of the refused flag", n)
	}

	// Lists.
	if got := huIDs(t, county, "/api/v1/units?heavy=true&limit=100&region_code="+a.County); !slices.Equal(got, []int64{u1, u2}) {
		t.Fatalf("heavy units: %v", got)
	}
	if got := huIDs(t, county, "/api/v1/units?heavy=false&limit=100&region_code="+a.County); !slices.Equal(got, []int64{u3}) {
		t.Fatalf("other units: %v", got)
	}
	if r := county.Must(http.StatusBadRequest, "GET", "/api/v1/units?heavy=yes", nil).Err(t); r.Details[0].Field != "heavy" {
		t.Fatalf("heavy=yes: %+v", r)
	}
	var empty struct {
		Items []struct {
			ID          int64  `json:"id"`
			Heavy       bool   `json:"heavy"`
			HeavyReason string `json:"heavy_reason"`
		}
	}
	city.Must(http.StatusOK, "GET", "/api/v1/stats/units-without-instructor?heavy=true&region_code="+a.County, nil).JSON(t, &empty)
	if len(empty.Items) != 1 || empty.Items[0].ID != u1 || !empty.Items[0].Heavy || empty.Items[0].HeavyReason != "回族群众聚居村" {
		t.Fatalf("heavy units without instructor: %+v", empty.Items)
	}
	if got := huIDs(t, county, "/api/v1/stats/units-without-instructor?heavy=false&region_code="+a.County); !slices.Equal(got, []int64{u3}) {
		t.Fatalf("other units without instructor: %v", got)
	}

	// Statistics: the county, its townships, and the county as a row of its city agree.
	if h, hw, w := huOverview(t, county, a.County); h != 2 || hw != 1 || w != 2 {
		t.Fatalf("county overview: heavy %d, heavy without %d, without %d", h, hw, w)
	}
	if h, hw, _ := huOverview(t, county, t2); h != 1 || hw != 0 {
		t.Fatalf("township overview: heavy %d, heavy without %d", h, hw)
	}
	rows := huRegions(t, county, a.County)
	if r := rows[t1]; r.HeavyUnits != 1 || r.HeavyUnitsWithout != 1 || r.Units != 2 || r.UnitsWithout != 2 {
		t.Fatalf("township 1: %+v", r)
	}
	if r := rows[t2]; r.HeavyUnits != 1 || r.HeavyUnitsWithout != 0 || r.Units != 1 || r.UnitsWithout != 0 {
		t.Fatalf("township 2: %+v", r)
	}
	if r := huRegions(t, city, a.City)[a.County]; r.HeavyUnits != 2 || r.HeavyUnitsWithout != 1 {
		t.Fatalf("the county in its city: %+v", r)
	}

	// Cleared: the reason goes with the flag, and the counts follow.
	v = huUnit{}
	county.Must(http.StatusOK, "PUT", heavy(u1), map[string]any{"heavy": false, "reason": "ignored"}).JSON(t, &v)
	if v.Heavy || v.HeavyReason != "" || v.HeavyAt != nil {
		t.Fatalf("cleared: %+v", v)
	}
	if h, hw, w := huOverview(t, city, a.County); h != 1 || hw != 0 || w != 2 {
		t.Fatalf("after clearing: heavy %d, heavy without %d, without %d", h, hw, w)
	}
	if r := huRegions(t, city, a.City)[a.County]; r.HeavyUnits != 1 || r.HeavyUnitsWithout != 0 {
		t.Fatalf("the county in its city after clearing: %+v", r)
	}
}
