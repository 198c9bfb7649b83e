package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

// world is one set of callers around a unit and an instructor in a county of the test's own.
type world struct {
	area    apitest.Area
	callers map[string]*apitest.Client
	unit    int64 // a unit in the area's first township
	ins     int64 // an instructor of that unit
}

// Callers by name: the owner county, a sibling county, the owning city, another city, the
// province, the instructor of the unit and an instructor elsewhere.
func newWorld(t *testing.T) world {
	e := apitest.Shared(t)
	a := e.Area(t)
	w := world{area: a, callers: map[string]*apitest.Client{
		"county_in":  e.Staff(t, "county_staff", a.County),
		"county_out": e.Staff(t, "county_staff", a.Neighbour),
		"city_in":    e.Staff(t, "city_staff", a.City),
		"city_out":   e.Staff(t, "city_staff", apitest.CityB),
		"province":   e.Staff(t, "province_staff", apitest.Province),
	}}
	owner := w.callers["county_in"]
	w.unit = owner.Unit("village", a.Township())
	w.callers["instructor_self"], w.ins = e.InstructorClient(t, owner, w.unit)
	other := e.Staff(t, "county_staff", apitest.CountyB1)
	w.callers["instructor_other"], _ = e.InstructorClient(t, other, other.Unit("village", apitest.TownshipB1))
	w.callers["anonymous"] = e.Anon(t)
	return w
}

// expect maps caller name to the status wanted; callers not named expect the default.
type expect map[string]int

func TestScopeMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	staffIn := expect{"county_in": 200, "city_in": 200, "province": 200}
	out := func(base expect, def int) func(string) int {
		return func(caller string) int {
			if s, ok := base[caller]; ok {
				return s
			}
			if caller == "anonymous" {
				return 401
			}
			return def
		}
	}
	with := func(base expect, extra expect) expect {
		m := expect{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	created := func(e expect) expect {
		m := expect{}
		for k, v := range e {
			if v == 200 {
				v = 201
			}
			m[k] = v
		}
		return m
	}

	type route struct {
		method, path string
		body         func() any
		want         func(caller string) int
	}
	u, i := w.unit, w.ins
	routes := []route{
		{"GET", "/api/v1/me", nil, out(expect{}, 200)},
		{"GET", fmt.Sprintf("/api/v1/units/%d", u), nil, out(with(staffIn, expect{"instructor_self": 200, "instructor_other": 404}), 404)},
		{"PATCH", fmt.Sprintf("/api/v1/units/%d", u), func() any { return map[string]any{"address": "新地址"} },
			out(with(staffIn, expect{"instructor_self": 403, "instructor_other": 403}), 404)},
		{"GET", "/api/v1/units", nil, out(expect{"instructor_self": 403, "instructor_other": 403}, 200)},
		{"POST", "/api/v1/units", func() any {
			return map[string]any{"name": "范围测试" + apitest.Unique(), "kind": "village", "region_code": w.area.Township()}
		}, out(with(created(staffIn), expect{"instructor_self": 403, "instructor_other": 403}), 403)},
		{"GET", fmt.Sprintf("/api/v1/instructors/%d", i), nil, out(with(staffIn, expect{"instructor_self": 200, "instructor_other": 404}), 404)},
		{"PATCH", fmt.Sprintf("/api/v1/instructors/%d", i), func() any { return map[string]any{"position": "村委委员"} },
			out(with(staffIn, expect{"instructor_self": 403, "instructor_other": 403}), 404)},
		{"GET", "/api/v1/instructors", nil, out(expect{"instructor_self": 403, "instructor_other": 403}, 200)},
		{"POST", "/api/v1/instructors", func() any {
			b := apitest.InstructorBody(u)
			b["status"] = "suspended" // does not take a place, so every allowed caller can add one
			return b
		}, out(with(created(staffIn), expect{"instructor_self": 403, "instructor_other": 403}), 404)},
		{"POST", fmt.Sprintf("/api/v1/instructors/%d/invite", i), nil,
			out(with(created(staffIn), expect{"instructor_self": 403, "instructor_other": 403}), 404)},
	}
	for _, r := range routes {
		for name, c := range w.callers {
			var body any
			if r.body != nil {
				body = r.body()
			}
			res := c.Do(r.method, r.path, body)
			want := r.want(name)
			if res.Status != want {
				t.Errorf("%s %s as %s: %d, want %d: %s", r.method, r.path, name, res.Status, want, res.Body)
				continue
			}
			if res.Status >= 400 {
				res.Err(t) // the error format, and no data
				if strings.Contains(string(res.Body), "测试") {
					t.Errorf("%s %s as %s leaked data: %s", r.method, r.path, name, res.Body)
				}
			}
		}
	}

	// Lists of staff out of scope never contain the unit or the instructor.
	for _, name := range []string{"county_out", "city_out"} {
		c := w.callers[name]
		if body := string(c.Must(200, "GET", "/api/v1/units?limit=100", nil).Body); strings.Contains(body, fmt.Sprintf(`"id":%d,`, u)) {
			t.Errorf("%s sees unit %d in the list", name, u)
		}
		if body := string(c.Must(200, "GET", "/api/v1/instructors?limit=100", nil).Body); strings.Contains(body, fmt.Sprintf(`"id":%d,`, i)) {
			t.Errorf("%s sees instructor %d in the list", name, i)
		}
	}
	// Staff inside see them.
	if body := string(w.callers["city_in"].Must(200, "GET", fmt.Sprintf("/api/v1/instructors?unit_id=%d", u), nil).Body); !strings.Contains(body, fmt.Sprintf(`"id":%d,`, i)) {
		t.Errorf("city staff do not see instructor %d", i)
	}
	// Filtering by a region outside the caller's scope yields nothing, never widens the scope.
	if body := string(w.callers["county_out"].Must(200, "GET", "/api/v1/instructors?region_code="+w.area.County, nil).Body); !strings.Contains(body, `"items":[]`) {
		t.Errorf("region filter widened scope: %s", body)
	}
	// Moving a unit out of one's own scope is refused.
	w.callers["county_in"].Must(http.StatusForbidden, "PATCH", fmt.Sprintf("/api/v1/units/%d", u), map[string]any{"region_code": w.area.Neighbour})
}
