package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// TestRecordScopeMatrix: a county officer cannot list, read or act on anything from another
// county; instructors see their own; nobody out of scope learns anything but 404 or 403.
func TestRecordScopeMatrix(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	callers := []string{"county_in", "county_out", "city_in", "city_out", "province", "author", "instructor_other", "anonymous"}
	readers := map[string]bool{"county_in": true, "city_in": true, "province": true, "author": true}
	staffIn := map[string]bool{"county_in": true, "city_in": true, "province": true}

	ids := map[string]int64{}
	for _, kind := range []string{"visit", "sentiment", "tip", "mediation"} {
		ids[kind] = w.author.Submit(kind, apitest.RecordBody(kind, phoneTime(e, -time.Hour)))
	}

	for kind, id := range ids {
		for _, who := range callers {
			c := w.callers[who]
			want := http.StatusNotFound
			switch {
			case who == "anonymous":
				want = http.StatusUnauthorized
			case readers[who]:
				want = http.StatusOK
			}
			if r := c.Do("GET", recordPath(kind, id), nil); r.Status != want {
				t.Errorf("%s GET %s: %d, want %d", who, kind, r.Status, want)
			} else if want == http.StatusNotFound && r.Err(t).Code != "record_not_found" {
				t.Errorf("%s GET %s: %s", who, kind, r.Body)
			}
			if r := c.Do("GET", recordPath(kind, id, "versions"), nil); r.Status != want {
				t.Errorf("%s GET %s versions: %d, want %d", who, kind, r.Status, want)
			}
			if who == "anonymous" {
				c.Must(http.StatusUnauthorized, "GET", "/api/v1/"+apitest.RecordPaths[kind], nil)
				continue
			}
			var l recordList
			c.Must(http.StatusOK, "GET", "/api/v1/"+apitest.RecordPaths[kind]+"?limit=100", nil).JSON(t, &l)
			if l.has(id) != readers[who] {
				t.Errorf("%s list %s: has=%v", who, kind, l.has(id))
			}
			// Out of scope, a region filter does not widen anything.
			l = recordList{}
			c.Must(http.StatusOK, "GET", "/api/v1/"+apitest.RecordPaths[kind]+"?limit=100&region_code="+w.area.Township(), nil).JSON(t, &l)
			if l.has(id) != readers[who] {
				t.Errorf("%s list %s by region: has=%v", who, kind, l.has(id))
			}
		}
	}

	// Every transition: staff out of scope get 404, instructors 403, anonymous 401, and nothing
	// changes.
	staffActions := map[string][]struct {
		action string
		body   map[string]any
	}{
		"tip": {{"acknowledge", nil}, {"handle", nil}, {"resolve", nil}, {"escalate", nil},
			{"duplicate", map[string]any{"of": ids["tip"]}}, {"return", map[string]any{"note": "x"}}},
		"sentiment": {{"forward", map[string]any{"department": "县民政局"}}, {"answer", map[string]any{"answer": "x"}},
			{"close", nil}, {"return", map[string]any{"note": "x"}}},
		"visit":     {{"return", map[string]any{"note": "x"}}},
		"mediation": {{"return", map[string]any{"note": "x"}}},
	}
	for kind, actions := range staffActions {
		for _, a := range actions {
			for _, who := range []string{"county_out", "city_out", "author", "instructor_other", "anonymous"} {
				want := map[string]int{"county_out": 404, "city_out": 404, "author": 403, "instructor_other": 403, "anonymous": 401}[who]
				if r := w.callers[who].Do("POST", recordPath(kind, ids[kind], a.action), a.body); r.Status != want {
					t.Errorf("%s %s %s: %d, want %d: %s", who, a.action, kind, r.Status, want, r.Body)
				}
			}
		}
	}
	authorActions := []struct {
		method, action string
		body           map[string]any
	}{{"PATCH", "", map[string]any{"title": "x"}}, {"POST", "resubmit", nil}, {"POST", "withdraw", map[string]any{"reason": "x"}}}
	for kind, id := range ids {
		for _, a := range authorActions {
			path := recordPath(kind, id)
			if a.action != "" {
				path = recordPath(kind, id, a.action)
			}
			for _, who := range []string{"county_in", "county_out", "province", "instructor_other", "anonymous"} {
				want := map[string]int{"county_in": 403, "county_out": 403, "province": 403, "instructor_other": 404, "anonymous": 401}[who]
				if r := w.callers[who].Do(a.method, path, a.body); r.Status != want {
					t.Errorf("%s %s %s %s: %d, want %d", who, a.method, a.action, kind, r.Status, want)
				}
			}
		}
	}
	followup := map[string]any{"visited_at": phoneTime(e, 0), "content": "回访"}
	for _, who := range []string{"county_out", "city_out", "instructor_other"} {
		w.callers[who].Must(http.StatusNotFound, "POST", recordPath("mediation", ids["mediation"], "followups"), followup)
	}
	for kind, id := range ids {
		if v := getRecord(t, w.author, kind, id); v.Version != 1 || len(v.Timeline) != 1 || !v.Editable {
			t.Errorf("%s changed by callers out of scope: version %d, %v", kind, v.Version, v.actions())
		}
	}

	// In scope, every level above acts.
	w.callers["city_in"].Must(http.StatusOK, "POST", recordPath("tip", ids["tip"], "acknowledge"), nil)
	w.callers["province"].Must(http.StatusOK, "POST", recordPath("tip", ids["tip"], "handle"), nil)
	w.callers["county_in"].Must(http.StatusOK, "POST", recordPath("tip", ids["tip"], "resolve"), nil)
	w.callers["county_in"].Must(http.StatusOK, "POST", recordPath("sentiment", ids["sentiment"], "forward"), map[string]any{"department": "县民政局"})
	for who := range staffIn {
		w.callers[who].Must(http.StatusCreated, "POST", recordPath("mediation", ids["mediation"], "followups"), followup)
	}
	w.author.Must(http.StatusCreated, "POST", recordPath("mediation", ids["mediation"], "followups"), followup)
}
