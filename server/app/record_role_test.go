package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// roleView is what the role tests read of a record.
type roleView struct {
	ID       int64    `json:"id"`
	Role     string   `json:"role"`
	RoleName string   `json:"role_name"`
	Tags     []string `json:"tags"`
	TagNames []string `json:"tag_names"`
	Version  int      `json:"version"`
}

// TestRecordRoles: every record says which of the five roles (§三) it served, by default from its
// kind and visit type, or as its author says when submitting and correcting; and which tags (the
// brand 石榴花开, the duties of §三(二)–(六)) it carries. Lists filter by both.
func TestRecordRoles(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	body := func(kind string, edit func(b map[string]any)) map[string]any {
		b := apitest.RecordBody(kind, phoneTime(e, -time.Hour))
		if edit != nil {
			edit(b)
		}
		return b
	}
	visitKind := func(vk string) func(map[string]any) {
		return func(b map[string]any) { b["visit"].(map[string]any)["visit_kind"] = vk }
	}
	submit := func(kind string, b map[string]any) roleView {
		t.Helper()
		var v roleView
		w.author.Must(http.StatusCreated, "POST", "/api/v1/"+apitest.RecordPaths[kind], b).JSON(t, &v)
		return v
	}

	// Defaults by kind and visit type.
	for _, c := range []struct {
		kind, visitKind, role, roleName string
	}{
		{"visit", "policy_publicity", "policy_publicist", "政策宣传员"},
		{"visit", "activity", "activity_organizer", "活动组织员"},
		{"visit", "condolence", "sentiment_liaison", "民情联络员"},
		{"visit", "help_service", "sentiment_liaison", "民情联络员"},
		{"visit", "home_visit", "sentiment_liaison", "民情联络员"},
		{"visit", "other", "political_guide", "政治引领员"},
		{"sentiment", "", "sentiment_liaison", "民情联络员"},
		{"tip", "", "stability_mediator", "维稳调解员"},
		{"mediation", "", "stability_mediator", "维稳调解员"},
	} {
		var edit func(map[string]any)
		if c.visitKind != "" {
			edit = visitKind(c.visitKind)
		}
		v := submit(c.kind, body(c.kind, edit))
		if v.Role != c.role || v.RoleName != c.roleName || v.Tags == nil || len(v.Tags) != 0 || v.TagNames == nil {
			t.Errorf("%s %s: %+v, want the default %s", c.kind, c.visitKind, v, c.role)
		}
		// The record as read says the same.
		var got roleView
		w.author.Must(http.StatusOK, "GET", recordPath(c.kind, v.ID), nil).JSON(t, &got)
		if got.Role != c.role {
			t.Errorf("%s %s read back: %+v", c.kind, c.visitKind, got)
		}
	}

	// The author's choice; tags each once, in the dictionary's order.
	chosen := body("tip", func(b map[string]any) {
		b["role"] = "sentiment_liaison"
		b["tags"] = []string{"exchange", "shiliu_brand", "exchange"}
	})
	v := submit("tip", chosen)
	if v.Role != "sentiment_liaison" || !slices.Equal(v.Tags, []string{"shiliu_brand", "exchange"}) ||
		!slices.Equal(v.TagNames, []string{"石榴花开", "交往交流交融"}) {
		t.Fatalf("chosen role and tags: %+v", v)
	}
	// A retry of the same submission is the stored record.
	var again roleView
	w.author.Must(http.StatusOK, "POST", "/api/v1/tips", chosen).JSON(t, &again)
	if again.ID != v.ID || again.Role != v.Role {
		t.Errorf("retry: %+v, want %+v", again, v)
	}
	// An empty role is a mistake (left out, the role is the default).
	if r := w.author.Do("POST", "/api/v1/tips", body("tip", func(b map[string]any) { b["role"] = "" })); r.Status != http.StatusBadRequest || !hasDetail(r.Err(t), "role") {
		t.Errorf("empty role: %d %s", r.Status, r.Body)
	}

	// Correction: the role and the tags change when given and stay when not.
	pv := submit("visit", body("visit", visitKind("policy_publicity")))
	var p roleView
	w.author.Must(http.StatusOK, "PATCH", recordPath("visit", pv.ID), map[string]any{"role": "activity_organizer",
		"tags": []string{"livelihood", "brand_building"}}).JSON(t, &p)
	if p.Role != "activity_organizer" || !slices.Equal(p.Tags, []string{"brand_building", "livelihood"}) || p.Version != 2 {
		t.Fatalf("corrected: %+v", p)
	}
	w.author.Must(http.StatusOK, "PATCH", recordPath("visit", pv.ID), map[string]any{"title": "改了标题",
		"visit": map[string]any{"visit_kind": "home_visit"}}).JSON(t, &p)
	if p.Role != "activity_organizer" || len(p.Tags) != 2 {
		t.Errorf("a correction without role or tags changed them: %+v", p)
	}
	w.author.Must(http.StatusOK, "PATCH", recordPath("visit", pv.ID), map[string]any{"tags": []string{}}).JSON(t, &p)
	if len(p.Tags) != 0 || p.Role != "activity_organizer" {
		t.Errorf("tags cleared: %+v", p)
	}
	// The version kept has them too.
	var versions struct {
		Items []struct {
			Version  int            `json:"version"`
			Snapshot map[string]any `json:"snapshot"`
		} `json:"items"`
	}
	w.author.Must(http.StatusOK, "GET", recordPath("visit", pv.ID, "versions"), nil).JSON(t, &versions)
	if len(versions.Items) != 4 || versions.Items[0].Snapshot["role"] != "policy_publicist" || versions.Items[1].Snapshot["role"] != "activity_organizer" {
		t.Errorf("versions: %+v", versions.Items)
	}

	// Lists by role and by tag.
	tagged := submit("visit", body("visit", func(b map[string]any) {
		b["role"] = "political_guide"
		b["tags"] = []string{"special_needs"}
	}))
	var l recordList
	w.staff.Must(http.StatusOK, "GET", "/api/v1/visits?role=political_guide&limit=100", nil).JSON(t, &l)
	if !l.has(tagged.ID) || l.has(pv.ID) {
		t.Errorf("visits by role: %+v", l.Items)
	}
	for _, it := range l.Items {
		var r roleView
		w.staff.Must(http.StatusOK, "GET", recordPath("visit", it.ID), nil).JSON(t, &r)
		if r.Role != "political_guide" {
			t.Errorf("listed under political_guide: %+v", r)
		}
	}
	w.staff.Must(http.StatusOK, "GET", "/api/v1/records?tag=special_needs&limit=100", nil).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != tagged.ID {
		t.Errorf("records by tag special_needs: %+v", l.Items)
	}
	w.staff.Must(http.StatusOK, "GET", "/api/v1/tips?tag=exchange&role=sentiment_liaison", nil).JSON(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != v.ID {
		t.Errorf("tips by tag exchange: %+v", l.Items)
	}
	w.staff.Must(http.StatusOK, "GET", "/api/v1/tips?tag=study_publicity", nil).JSON(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("tips by tag study_publicity: %+v", l.Items)
	}
	for _, q := range []string{"role=boss", "tag=party", "tag=shiliu", "role=political_guide&tag=x"} {
		r := w.staff.Do("GET", "/api/v1/visits?"+q, nil)
		field := strings.SplitN(strings.Split(q, "&")[len(strings.Split(q, "&"))-1], "=", 2)[0]
		if r.Status != http.StatusBadRequest || !hasDetail(r.Err(t), field) {
			t.Errorf("GET /visits?%s: %d %s", q, r.Status, r.Body)
		}
	}

	// The dictionaries.
	var dict map[string][]struct{ Code, Label string }
	w.author.Must(http.StatusOK, "GET", "/api/v1/dictionaries", nil).JSON(t, &dict)
	if len(dict["instructor_role"]) != 5 || dict["instructor_role"][0].Label != "政治引领员" || len(dict["record_tag"]) != 6 ||
		dict["record_tag"][0].Code != "shiliu_brand" || dict["record_tag"][0].Label != "石榴花开" {
		t.Errorf("dictionaries: %+v %+v", dict["instructor_role"], dict["record_tag"])
	}
}

func hasDetail(eb apitest.ErrorBody, field string) bool {
	for _, d := range eb.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}

// roleCounts is a statistics breakdown by code.
type roleCounts []struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	Count int64  `json:"count"`
}

func (l roleCounts) asMap() map[string]int64 {
	out := map[string]int64{}
	for _, it := range l {
		out[it.Code] = it.Count
	}
	return out
}

// TestRecordRoleStats: the statistics count the records per role and per tag exactly, from the
// aggregate (a county and above) and from the records (below a county), in the overview, the
// table of regions and the performance card; withdrawals and corrections move the counts.
func TestRecordRoleStats(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	when := e.Clock.Now().Add(-time.Hour)
	at := when.In(clock.Shanghai).Format(time.RFC3339)
	submit := func(kind string, edit func(b map[string]any)) int64 {
		b := apitest.RecordBody(kind, at)
		if edit != nil {
			edit(b)
		}
		return w.author.Submit(kind, b)
	}
	with := func(visitKind, role string, tags ...string) func(map[string]any) {
		return func(b map[string]any) {
			if visitKind != "" {
				b["visit"].(map[string]any)["visit_kind"] = visitKind
			}
			if role != "" {
				b["role"] = role
			}
			if tags != nil {
				b["tags"] = tags
			}
		}
	}
	submit("visit", with("policy_publicity", "", "shiliu_brand", "study_publicity")) // policy_publicist
	submit("visit", with("activity", "political_guide", "shiliu_brand"))             // political_guide
	submit("sentiment", with("", "", "livelihood"))                                  // sentiment_liaison
	submit("tip", nil)                                                               // stability_mediator
	submit("mediation", with("", "", "exchange"))                                    // stability_mediator
	gone := submit("visit", with("home_visit", "", "brand_building"))                // withdrawn: counts for nothing
	w.author.Must(http.StatusOK, "POST", recordPath("visit", gone, "withdraw"), map[string]any{"reason": "重复"})
	moved := submit("visit", with("", "activity_organizer", "brand_building")) // corrected below
	w.author.Must(http.StatusOK, "PATCH", recordPath("visit", moved), map[string]any{"role": "policy_publicist", "tags": []string{"special_needs"}})

	wantRoles := map[string]int64{"political_guide": 1, "policy_publicist": 2, "activity_organizer": 0, "stability_mediator": 2, "sentiment_liaison": 1}
	wantTags := map[string]int64{"shiliu_brand": 2, "study_publicity": 1, "brand_building": 0, "livelihood": 1, "special_needs": 1, "exchange": 1}
	same := func(what string, got roleCounts, want map[string]int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d codes, want every one of %d: %+v", what, len(got), len(want), got)
		}
		if m := got.asMap(); !mapsEqual(m, want) {
			t.Errorf("%s: %v, want %v", what, m, want)
		}
		for _, it := range got {
			if it.Label == "" || it.Label == it.Code {
				t.Errorf("%s: %s has no name", what, it.Code)
			}
		}
	}
	month := when.In(clock.Shanghai).Format("2006-01")
	period := "&from=" + month + "&to=" + month
	var ov struct {
		Records struct {
			Total  int64      `json:"total"`
			ByRole roleCounts `json:"by_role"`
			ByTag  roleCounts `json:"by_tag"`
		} `json:"records"`
	}
	// The county from the aggregate, the township from its records.
	for _, code := range []string{w.area.County, w.area.Township()} {
		w.staff.Must(http.StatusOK, "GET", "/api/v1/stats/overview?region_code="+code+period, nil).JSON(t, &ov)
		if ov.Records.Total != 6 {
			t.Errorf("overview of %s: %d records", code, ov.Records.Total)
		}
		same("overview by_role of "+code, ov.Records.ByRole, wantRoles)
		same("overview by_tag of "+code, ov.Records.ByTag, wantTags)
	}
	// The county's row in its city's table (aggregate), the township's row in the county's.
	var table struct {
		Items []struct {
			Region struct {
				Code string `json:"code"`
			} `json:"region"`
			Records int64      `json:"records"`
			ByRole  roleCounts `json:"by_role"`
			ByTag   roleCounts `json:"by_tag"`
		} `json:"items"`
	}
	city := e.Staff(t, "city_staff", w.area.City)
	for _, c := range []struct {
		caller       *apitest.Client
		parent, row  string
		emptySibling string
	}{{city, w.area.City, w.area.County, ""}, {w.staff, w.area.County, w.area.Township(), w.area.Townships[1]}} {
		c.caller.Must(http.StatusOK, "GET", "/api/v1/stats/regions?region_code="+c.parent+period, nil).JSON(t, &table)
		found := false
		for _, it := range table.Items {
			switch it.Region.Code {
			case c.row:
				found = true
				same("regions row "+c.row+" by_role", it.ByRole, wantRoles)
				same("regions row "+c.row+" by_tag", it.ByTag, wantTags)
			case c.emptySibling:
				same("regions row "+c.emptySibling+" by_role", it.ByRole, map[string]int64{"political_guide": 0, "policy_publicist": 0,
					"activity_organizer": 0, "stability_mediator": 0, "sentiment_liaison": 0})
			}
		}
		if !found {
			t.Errorf("regions of %s: no row %s", c.parent, c.row)
		}
	}
	// The instructor's performance card.
	var card struct {
		Total struct {
			Records struct {
				Total  int64      `json:"total"`
				ByRole roleCounts `json:"by_role"`
				ByTag  roleCounts `json:"by_tag"`
			} `json:"records"`
		} `json:"total"`
	}
	w.staff.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d/performance-card?year=%d", w.ins, when.In(clock.Shanghai).Year()), nil).JSON(t, &card)
	if card.Total.Records.Total != 6 {
		t.Errorf("card: %d records", card.Total.Records.Total)
	}
	same("card by_role", card.Total.Records.ByRole, wantRoles)
	same("card by_tag", card.Total.Records.ByTag, wantTags)
	// And the aggregate agrees with the records, cell by cell.
	checkAggregate(t, e.DB(), w.area.County)
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestRecordListsBySeveralStatuses: a list takes the status parameter repeated and lists the
// records in any of them (the phone's tip inbox asks for the open ones); a bad status is a 400
// naming the field.
func TestRecordListsBySeveralStatuses(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	tip := func() int64 { return w.author.Submit("tip", apitest.RecordBody("tip", phoneTime(e, -time.Hour))) }
	submitted, acked, handling, resolved, withdrawn := tip(), tip(), tip(), tip(), tip()
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", acked, "acknowledge"), map[string]any{})
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", handling, "acknowledge"), map[string]any{})
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", handling, "handle"), map[string]any{})
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", resolved, "acknowledge"), map[string]any{})
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", resolved, "resolve"), map[string]any{"note": "已化解"})
	w.author.Must(http.StatusOK, "POST", recordPath("tip", withdrawn, "withdraw"), map[string]any{"reason": "误报"})

	ids := func(c *apitest.Client, path string) []int64 {
		t.Helper()
		var l recordList
		c.Must(http.StatusOK, "GET", path, nil).JSON(t, &l)
		var out []int64
		for _, it := range l.Items {
			out = append(out, it.ID)
		}
		slices.Sort(out)
		return out
	}
	open := "status=submitted&status=acknowledged&status=handling&status=escalated"
	for _, c := range []struct {
		caller *apitest.Client
		path   string
		want   []int64
	}{
		{w.staff, "/api/v1/tips?" + open, []int64{submitted, acked, handling}},
		{w.author, "/api/v1/tips?" + open + "&limit=2", []int64{acked, handling}}, // newest first, a page of two
		{w.staff, "/api/v1/tips?status=resolved&status=withdrawn", []int64{resolved, withdrawn}},
		{w.staff, "/api/v1/tips?status=submitted", []int64{submitted}},
		{w.staff, "/api/v1/tips?status=submitted&status=submitted", []int64{submitted}},
		{w.staff, "/api/v1/records?kind=tip&" + open, []int64{submitted, acked, handling}},
		{w.staff, "/api/v1/records?status=handling&status=withdrawn", []int64{handling, withdrawn}},
		{w.staff, "/api/v1/tips", []int64{submitted, acked, handling, resolved, withdrawn}},
	} {
		if got := ids(c.caller, c.path); !slices.Equal(got, c.want) {
			t.Errorf("GET %s: %v, want %v", c.path, got, c.want)
		}
	}
	// Paging on through several statuses.
	var first recordList
	w.staff.Must(http.StatusOK, "GET", "/api/v1/tips?"+open+"&limit=2", nil).JSON(t, &first)
	if len(first.Items) != 2 || first.NextCursor == "" {
		t.Fatalf("first page: %+v", first)
	}
	if got := ids(w.staff, "/api/v1/tips?"+open+"&limit=2&cursor="+url.QueryEscape(first.NextCursor)); !slices.Equal(got, []int64{submitted}) {
		t.Errorf("second page: %v", got)
	}
	// The export takes the same filter.
	r := w.staff.Do("GET", "/api/v1/tips/export.xlsx?"+open, nil)
	if r.Status != http.StatusOK {
		t.Errorf("export by several statuses: %d %s", r.Status, r.Body)
	}

	// Sentiments: the open ones.
	s1 := w.author.Submit("sentiment", apitest.RecordBody("sentiment", phoneTime(e, -time.Hour)))
	s2 := w.author.Submit("sentiment", apitest.RecordBody("sentiment", phoneTime(e, -time.Hour)))
	w.staff.Must(http.StatusOK, "POST", recordPath("sentiment", s2, "answer"), map[string]any{"answer": "已答复"})
	w.staff.Must(http.StatusOK, "POST", recordPath("sentiment", s2, "close"), map[string]any{})
	if got := ids(w.staff, "/api/v1/sentiments?status=open&status=forwarded&status=answered"); !slices.Equal(got, []int64{s1}) {
		t.Errorf("open sentiments: %v, want [%d]", got, s1)
	}

	// Bad statuses, a status of another kind, too many.
	many := strings.Repeat("status=submitted&", 13)
	for _, q := range []string{
		"/api/v1/tips?status=submitted&status=bogus",
		"/api/v1/tips?status=closed",
		"/api/v1/tips?status=submitted,acknowledged",
		"/api/v1/sentiments?status=open&status=acknowledged",
		"/api/v1/records?kind=visit&status=submitted&status=resolved",
		"/api/v1/tips?" + many,
	} {
		r := w.staff.Do("GET", q, nil)
		if r.Status != http.StatusBadRequest || !hasDetail(r.Err(t), "status") {
			t.Errorf("GET %s: %d %s, want 400 naming status", q, r.Status, r.Body)
		}
	}
}
