package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

// TestBadInputIsA4xx sends every JSON route malformed, mistyped, unknown, oversized and missing
// input: each answer is a 4xx in the error format, never a 500.
func TestBadInputIsA4xx(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	unit := staff.Unit("village", apitest.TownshipA1)
	ins := staff.Instructor(unit)
	big := strings.Repeat("长", 400_000) // 1.2 MB of UTF-8, over the body limit

	type tc struct {
		name   string
		body   any
		status int
		field  string
	}
	common := func(wrongType, unknownEnum, missing map[string]any, wantField string) []tc {
		cs := []tc{
			{"malformed", `{"name": "x",`, 400, ""},
			{"not an object", `[1,2,3]`, 400, ""},
			{"empty", ``, 400, ""},
			{"two objects", `{} {}`, 400, ""},
			{"oversized", map[string]any{"name": big}, 413, ""},
		}
		if wrongType != nil {
			cs = append(cs, tc{"wrong type", wrongType, 400, wantField})
		}
		if unknownEnum != nil {
			cs = append(cs, tc{"unknown enum", unknownEnum, 400, ""})
		}
		if missing != nil {
			cs = append(cs, tc{"missing fields", missing, 400, ""})
		}
		return cs
	}
	routes := []struct {
		client *apitest.Client
		method string
		path   string
		cases  []tc
	}{
		{e.Anon(t), "POST", "/api/v1/auth/password/login", common(map[string]any{"username": 5, "password": "x"}, nil, map[string]any{}, "username")},
		{e.Anon(t), "POST", "/api/v1/auth/wechat/login", common(map[string]any{"code": true}, nil, map[string]any{}, "code")},
		{e.Anon(t), "POST", "/api/v1/auth/wechat/bind", common(map[string]any{"bind_ticket": []int{1}}, nil, map[string]any{}, "bind_ticket")},
		{e.Anon(t), "POST", "/api/v1/auth/refresh", common(map[string]any{"refresh_token": 1}, nil, map[string]any{}, "refresh_token")},
		{staff, "POST", "/api/v1/units", common(
			map[string]any{"name": 1, "kind": "village", "region_code": apitest.TownshipA1},
			map[string]any{"name": "x", "kind": "castle", "region_code": apitest.TownshipA1},
			map[string]any{"name": "x"}, "name")},
		{staff, "PATCH", fmt.Sprintf("/api/v1/units/%d", unit), common(
			map[string]any{"kind": 7}, map[string]any{"kind": "castle"}, nil, "kind")},
		{staff, "POST", "/api/v1/instructors", common(
			map[string]any{"name": "x", "unit_id": "one"},
			map[string]any{"name": "王五", "gender": "other", "ethnicity": "99", "phone": "12345", "source_category": "x", "unit_id": unit},
			map[string]any{"name": "王五"}, "unit_id")},
		{staff, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", ins), common(
			map[string]any{"status": 1}, map[string]any{"status": "retired"}, nil, "status")},
	}
	for _, r := range routes {
		for _, c := range r.cases {
			res := r.client.Do(r.method, r.path, c.body)
			if res.Status != c.status {
				t.Errorf("%s %s %s: %d, want %d: %.200s", r.method, r.path, c.name, res.Status, c.status, res.Body)
				continue
			}
			eb := res.Err(t)
			if c.field != "" && (len(eb.Details) == 0 || eb.Details[0].Field != c.field) {
				t.Errorf("%s %s %s: details %+v, want field %s", r.method, r.path, c.name, eb.Details, c.field)
			}
			if (c.name == "unknown enum" || c.name == "missing fields") && len(eb.Details) == 0 {
				t.Errorf("%s %s %s: no field details: %s", r.method, r.path, c.name, res.Body)
			}
		}
	}
	// Wrong content type, unknown route, wrong method, bad ids.
	if r := staff.DoRaw("POST", "/api/v1/units", "text/plain", []byte("name=x")); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d", r.Status)
	}
	staff.Must(http.StatusNotFound, "GET", "/api/v1/nothing-here", nil).Err(t)
	staff.Must(http.StatusMethodNotAllowed, "DELETE", "/api/v1/units", nil).Err(t)
	staff.Must(http.StatusNotFound, "GET", "/api/v1/units/abc", nil).Err(t)
	staff.Must(http.StatusNotFound, "GET", "/api/v1/instructors/-1", nil).Err(t)
	staff.Must(http.StatusNotFound, "GET", "/api/v1/units/99999999999999999999", nil).Err(t)
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/instructors?unit_id=x", nil).Err(t)
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/instructors?status=retired", nil).Err(t)
	// A whole bad instructor names every problem at once.
	res := staff.Must(http.StatusBadRequest, "POST", "/api/v1/instructors", map[string]any{"name": "", "gender": "x", "ethnicity": "x", "phone": "1", "source_category": "x", "id_number": "123"}).Err(t)
	fields := map[string]bool{}
	for _, d := range res.Details {
		fields[d.Field] = true
	}
	for _, f := range []string{"name", "gender", "ethnicity", "phone", "source_category", "id_number", "unit_id"} {
		if !fields[f] {
			t.Errorf("field %s not reported: %+v", f, res.Details)
		}
	}
}
