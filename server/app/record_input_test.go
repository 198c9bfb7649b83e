package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// TestRecordBadInputIsA4xx sends every record route malformed, mistyped, unknown, oversized and
// missing input: each answer is a 4xx in the error format naming the field, never a 500.
func TestRecordBadInputIsA4xx(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	big := strings.Repeat("长", 400_000) // over the body limit
	long := strings.Repeat("长", 2001)

	type tc struct {
		name   string
		body   any
		status int
		field  string
	}
	with := func(kind string, change func(b map[string]any)) map[string]any {
		b := apitest.RecordBody(kind, phoneTime(e, -time.Hour))
		change(b)
		return b
	}
	own := func(kind, field string, v any) map[string]any {
		return with(kind, func(b map[string]any) { b[kind].(map[string]any)[field] = v })
	}
	common := func(kind string) []tc {
		return []tc{
			{"malformed", `{"title": "x",`, 400, ""},
			{"not an object", `[1,2,3]`, 400, ""},
			{"null", `null`, 400, ""},
			{"empty", ``, 400, ""},
			{"two objects", `{} {}`, 400, ""},
			{"oversized", map[string]any{"title": big}, 413, ""},
			{"missing everything", map[string]any{}, 400, "client_id"},
			{"missing own fields", with(kind, func(b map[string]any) { delete(b, kind) }), 400, kind},
			{"own fields not an object", with(kind, func(b map[string]any) { b[kind] = "x" }), 400, kind},
			{"client id not a uuid", with(kind, func(b map[string]any) { b["client_id"] = "abc" }), 400, "client_id"},
			{"client id a number", with(kind, func(b map[string]any) { b["client_id"] = 5 }), 400, "client_id"},
			{"title missing", with(kind, func(b map[string]any) { delete(b, "title") }), 400, "title"},
			{"title too long", with(kind, func(b map[string]any) { b["title"] = strings.Repeat("题", 41) }), 400, "title"},
			{"title wrong type", with(kind, func(b map[string]any) { b["title"] = []int{1} }), 400, "title"},
			{"place too long", with(kind, func(b map[string]any) { b["place"] = strings.Repeat("地", 101) }), 400, "place"},
			{"occurred_at not a time", with(kind, func(b map[string]any) { b["occurred_at"] = "yesterday" }), 400, "occurred_at"},
			{"occurred_at a number", with(kind, func(b map[string]any) { b["occurred_at"] = 1714550000 }), 400, "occurred_at"},
			{"latitude out of range", with(kind, func(b map[string]any) { b["latitude"] = 91 }), 400, "latitude"},
			{"latitude a string", with(kind, func(b map[string]any) { b["latitude"] = "38" }), 400, "latitude"},
			{"longitude alone", with(kind, func(b map[string]any) { delete(b, "latitude") }), 400, "latitude"},
			{"attachments wrong type", with(kind, func(b map[string]any) { b["attachments"] = "1" }), 400, "attachments"},
			{"attachments bad id", with(kind, func(b map[string]any) { b["attachments"] = []int{-1} }), 400, "attachments"},
			{"attachments unknown", with(kind, func(b map[string]any) { b["attachments"] = []int{987654321} }), 400, "attachments"},
			{"attachments too many", with(kind, func(b map[string]any) { b["attachments"] = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} }), 400, "attachments"},
			{"role unknown", with(kind, func(b map[string]any) { b["role"] = "team_leader" }), 400, "role"},
			{"role a number", with(kind, func(b map[string]any) { b["role"] = 3 }), 400, "role"},
			{"tags unknown", with(kind, func(b map[string]any) { b["tags"] = []string{"shiliu_brand", "party"} }), 400, "tags"},
			{"tags not a list", with(kind, func(b map[string]any) { b["tags"] = "shiliu_brand" }), 400, "tags"},
		}
	}
	cases := map[string][]tc{
		"visit": {
			{"unknown visit kind", own("visit", "visit_kind", "party"), 400, "visit.visit_kind"},
			{"households negative", own("visit", "households", -1), 400, "visit.households"},
			{"households fractional", own("visit", "households", 1.5), 400, "visit.households"},
			{"people a string", own("visit", "people", "12"), 400, "visit.people"},
			{"unknown ethnicity", own("visit", "ethnicities", []string{"99"}), 400, "visit.ethnicities"},
			{"ethnicities not a list", own("visit", "ethnicities", "03"), 400, "visit.ethnicities"},
			{"content too long", own("visit", "content", long), 400, "visit.content"},
			{"follow up not a bool", own("visit", "follow_up_needed", "yes"), 400, "visit.follow_up_needed"},
		},
		"sentiment": {
			{"unknown category", own("sentiment", "category", "gossip"), 400, "sentiment.category"},
			{"unknown urgency", own("sentiment", "urgency", "now"), 400, "sentiment.urgency"},
			{"missing content", own("sentiment", "content", ""), 400, "sentiment.content"},
			{"people affected huge", own("sentiment", "people_affected", 1e12), 400, "sentiment.people_affected"},
		},
		"tip": {
			{"unknown level", own("tip", "level", "apocalyptic"), 400, "tip.level"},
			{"unknown tip kind", own("tip", "kind", "rumour"), 400, "tip.kind"},
			{"missing description", own("tip", "description", nil), 400, "tip.description"},
			{"ongoing not a bool", own("tip", "ongoing", 1), 400, "tip.ongoing"},
			{"groups too long", own("tip", "groups_involved", strings.Repeat("群", 201)), 400, "tip.groups_involved"},
		},
		"mediation": {
			{"unknown outcome", own("mediation", "outcome", "won"), 400, "mediation.outcome"},
			{"no parties", own("mediation", "parties", []any{}), 400, "mediation.parties"},
			{"parties not a list", own("mediation", "parties", "马某"), 400, "mediation.parties"},
			{"party ethnicity unknown", own("mediation", "parties", []map[string]any{{"name": "马某", "ethnicity": "00", "role": "applicant"}}), 400, "mediation.parties[0].ethnicity"},
			{"party role unknown", own("mediation", "parties", []map[string]any{{"name": "马某", "ethnicity": "03", "role": "judge"}}), 400, "mediation.parties[0].role"},
			{"party name missing", own("mediation", "parties", []map[string]any{{"ethnicity": "03", "role": "applicant"}}), 400, "mediation.parties[0].name"},
			{"unknown dispute kind", own("mediation", "dispute_kind", "war"), 400, "mediation.dispute_kind"},
		},
	}
	check := func(t *testing.T, method, path string, c tc) {
		t.Helper()
		r := w.author.Do(method, path, c.body)
		if r.Status != c.status {
			t.Fatalf("%s %s %s: status %d, want %d: %s", c.name, method, path, r.Status, c.status, r.Body)
		}
		eb := r.Err(t)
		if c.field == "" {
			return
		}
		for _, d := range eb.Details {
			if d.Field == c.field {
				return
			}
		}
		t.Fatalf("%s: no detail names %q: %s", c.name, c.field, r.Body)
	}
	for kind, own := range cases {
		t.Run(kind, func(t *testing.T) {
			for _, c := range append(common(kind), own...) {
				check(t, "POST", "/api/v1/"+apitest.RecordPaths[kind], c)
			}
			id := w.author.Submit(kind, apitest.RecordBody(kind, phoneTime(e, -time.Hour)))
			for _, c := range []tc{
				{"malformed", `{"title":`, 400, ""},
				{"not an object", `"x"`, 400, ""},
				{"empty", ``, 400, ""},
				{"title too long", map[string]any{"title": strings.Repeat("题", 41)}, 400, "title"},
				{"title empty", map[string]any{"title": " "}, 400, "title"},
				{"occurred_at in the future", map[string]any{"occurred_at": phoneTime(e, time.Hour)}, 400, "occurred_at"},
				{"own fields wrong type", map[string]any{kind: []int{1}}, 400, kind},
				{"role unknown", map[string]any{"role": "chief"}, 400, "role"},
				{"tags unknown", map[string]any{"tags": []string{"gossip"}}, 400, "tags"},
				{"oversized", map[string]any{"title": big}, 413, ""},
			} {
				check(t, "PATCH", recordPath(kind, id), c)
			}
			for _, bad := range []string{"abc", "0", "-1", "99999999999999999999", "999999999"} {
				r := w.author.Do("GET", "/api/v1/"+apitest.RecordPaths[kind]+"/"+bad, nil)
				if r.Status != http.StatusNotFound {
					t.Fatalf("GET id %s: %d", bad, r.Status)
				}
				r.Err(t)
				w.author.Must(http.StatusNotFound, "PATCH", "/api/v1/"+apitest.RecordPaths[kind]+"/"+bad, map[string]any{"title": "x"})
				w.staff.Must(http.StatusNotFound, "POST", "/api/v1/"+apitest.RecordPaths[kind]+"/"+bad+"/return", map[string]any{"note": "x"})
			}
			// Action bodies.
			path := recordPath(kind, id, "return")
			for _, c := range []tc{
				{"malformed", `{"note":`, 400, ""},
				{"not an object", `[]`, 400, ""},
				{"note wrong type", map[string]any{"note": 5}, 400, "note"},
				{"note too long", map[string]any{"note": strings.Repeat("备", 501)}, 400, "note"},
			} {
				r := w.staff.Do("POST", path, c.body)
				if r.Status != c.status {
					t.Fatalf("return %s: %d: %s", c.name, r.Status, r.Body)
				}
				r.Err(t)
			}
			r := w.staff.DoRaw("POST", path, "text/plain", []byte("note"))
			if r.Status != http.StatusUnsupportedMediaType {
				t.Fatalf("text body: %d", r.Status)
			}
		})
	}

	// Workflow-specific bodies.
	tip := w.author.Submit("tip", apitest.RecordBody("tip", phoneTime(e, -time.Hour)))
	for _, body := range []map[string]any{{"of": "x"}, {"of": -3}, {"of": 1.5}, {"of": 999999999}} {
		if r := w.staff.Must(http.StatusBadRequest, "POST", recordPath("tip", tip, "duplicate"), body).Err(t); r.Details[0].Field != "of" {
			t.Fatalf("duplicate of %v: %+v", body, r)
		}
	}
	sent := w.author.Submit("sentiment", apitest.RecordBody("sentiment", phoneTime(e, -time.Hour)))
	for _, c := range []struct {
		action string
		body   map[string]any
		field  string
	}{
		{"forward", map[string]any{"department": 1}, "department"},
		{"forward", map[string]any{"department": strings.Repeat("部", 51)}, "department"},
		{"answer", map[string]any{"answer": ""}, "answer"},
		{"answer", map[string]any{"answer": long}, "answer"},
	} {
		if r := w.staff.Must(http.StatusBadRequest, "POST", recordPath("sentiment", sent, c.action), c.body).Err(t); r.Details[0].Field != c.field {
			t.Fatalf("%s %v: %+v", c.action, c.body, r)
		}
	}
	med := w.author.Submit("mediation", apitest.RecordBody("mediation", phoneTime(e, -time.Hour)))
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{}, "visited_at"},
		{map[string]any{"visited_at": "soon", "content": "x"}, "visited_at"},
		{map[string]any{"visited_at": phoneTime(e, 0)}, "content"},
		{map[string]any{"visited_at": phoneTime(e, 0), "content": "x", "outcome": "won"}, "outcome"},
		{map[string]any{"visited_at": phoneTime(e, 0), "content": []string{"x"}}, "content"},
	} {
		if r := w.author.Must(http.StatusBadRequest, "POST", recordPath("mediation", med, "followups"), c.body).Err(t); r.Details[0].Field != c.field {
			t.Fatalf("follow-up %v: %+v", c.body, r)
		}
	}
	if r := w.author.Must(http.StatusBadRequest, "POST", recordPath("mediation", med, "withdraw"), map[string]any{"reason": 3}).Err(t); r.Details[0].Field != "reason" {
		t.Fatalf("withdraw reason: %+v", r)
	}
	w.author.Must(http.StatusBadRequest, "GET", fmt.Sprintf("/api/v1/records?unit_id=%s", "-5"), nil)
	w.author.Must(http.StatusBadRequest, "GET", "/api/v1/records?q="+strings.Repeat("字", 51), nil)
	w.author.Must(http.StatusBadRequest, "GET", "/api/v1/records?limit=0", nil)
}
