package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

type auditEntry struct {
	ID           int64  `json:"id"`
	AccountID    int64  `json:"account_id"`
	Role         string `json:"role"`
	RegionCode   string `json:"region_code"`
	Action       string `json:"action"`
	SubjectType  string `json:"subject_type"`
	SubjectID    *int64 `json:"subject_id"`
	Status       int    `json:"status"`
	PersonalData bool   `json:"personal_data"`
	RequestID    string `json:"request_id"`
	ClientIP     string `json:"client_ip"`
	CreatedAt    string `json:"created_at"`
}

type auditList struct {
	Items      []auditEntry `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

func accountID(t *testing.T, c *apitest.Client) int64 {
	t.Helper()
	var me struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	c.Must(http.StatusOK, "GET", "/api/v1/me", nil).JSON(t, &me)
	return me.User.ID
}

func auditOf(t *testing.T, c *apitest.Client, query url.Values) auditList {
	t.Helper()
	var l auditList
	c.Must(http.StatusOK, "GET", "/api/v1/audit?"+query.Encode(), nil).JSON(t, &l)
	return l
}

// find returns the entry of a request id.
func (l auditList) find(requestID string) (auditEntry, bool) {
	for _, e := range l.Items {
		if e.RequestID == requestID {
			return e, true
		}
	}
	return auditEntry{}, false
}

func TestAuditRecordsWrites(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	staffID := accountID(t, staff)
	since := e.Clock.Now().Add(-time.Second)

	created := staff.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{
		"name": "审计测试单位" + apitest.Unique(), "kind": "village", "region_code": apitest.TownshipA1})
	unit := apitest.ID(t, created)
	patched := staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/units/%d", unit), map[string]any{"address": "村委会"})
	refused := staff.Must(http.StatusBadRequest, "POST", "/api/v1/units", map[string]any{"name": ""})
	staff.Must(http.StatusOK, "GET", "/api/v1/units", nil) // an ordinary read is not audited

	ins, _ := e.InstructorClient(t, staff, unit)
	insID := accountID(t, ins)
	up := mustUpload(t, ins, "a.png", pngImage(t))

	l := auditOf(t, staff, url.Values{"account_id": {fmt.Sprint(staffID)}})
	if len(l.Items) != 5 { // create, patch, refused create, then the instructor and their invite
		t.Fatalf("%d entries: %+v", len(l.Items), l.Items)
	}
	check := func(name string, got auditEntry, ok bool, action, subjectType string, subjectID int64, status int, region string) {
		t.Helper()
		if !ok {
			t.Fatalf("%s: no entry", name)
		}
		if got.Action != action || got.SubjectType != subjectType || got.Status != status || got.RegionCode != region ||
			got.ClientIP != "127.0.0.1" || got.RequestID == "" || got.CreatedAt == "" {
			t.Errorf("%s: %+v", name, got)
		}
		if (subjectID == 0) != (got.SubjectID == nil) || (got.SubjectID != nil && *got.SubjectID != subjectID) {
			t.Errorf("%s: subject id %v, want %d", name, got.SubjectID, subjectID)
		}
	}
	got, ok := l.find(created.Header.Get("X-Request-ID"))
	check("create", got, ok, "POST /api/v1/units", "unit", 0, 201, apitest.CountyA1)
	if got.AccountID != staffID || got.Role != "county_staff" {
		t.Errorf("actor: %+v", got)
	}
	got, ok = l.find(patched.Header.Get("X-Request-ID"))
	check("patch", got, ok, "PATCH /api/v1/units/{id}", "unit", unit, 200, apitest.CountyA1)
	got, ok = l.find(refused.Header.Get("X-Request-ID"))
	check("refused", got, ok, "POST /api/v1/units", "unit", 0, 400, apitest.CountyA1)

	// The instructor's upload is filed under the upload, in the instructor's region.
	l = auditOf(t, staff, url.Values{"account_id": {fmt.Sprint(insID)}, "action": {"POST /api/v1/uploads"}})
	if len(l.Items) != 1 {
		t.Fatalf("upload entries: %+v", l.Items)
	}
	check("upload", l.Items[0], true, "POST /api/v1/uploads", "upload", up.ID, 201, apitest.TownshipA1)
	if l.Items[0].Role != "instructor" {
		t.Errorf("upload actor: %+v", l.Items[0])
	}

	// Filters: subject, action prefix, time window, pagination.
	if l := auditOf(t, staff, url.Values{"subject_type": {"unit"}, "subject_id": {fmt.Sprint(unit)}}); len(l.Items) != 1 || l.Items[0].Action != "PATCH /api/v1/units/{id}" {
		t.Errorf("by subject: %+v", l.Items)
	}
	if l := auditOf(t, staff, url.Values{"account_id": {fmt.Sprint(staffID)}, "action": {"POST /api/v1/u"}}); len(l.Items) != 2 {
		t.Errorf("by action prefix: %+v", l.Items)
	}
	if l := auditOf(t, staff, url.Values{"account_id": {fmt.Sprint(staffID)}, "from": {since.Add(time.Hour).Format(time.RFC3339)}}); len(l.Items) != 0 {
		t.Errorf("from the future: %+v", l.Items)
	}
	if l := auditOf(t, staff, url.Values{"account_id": {fmt.Sprint(staffID)}, "from": {since.Format(time.RFC3339)},
		"to": {since.Add(time.Hour).Format(time.RFC3339)}}); len(l.Items) != 5 {
		t.Errorf("in the window: %d", len(l.Items))
	}
	seen := map[int64]bool{}
	q := url.Values{"account_id": {fmt.Sprint(staffID)}, "limit": {"3"}}
	for page := 0; ; page++ {
		l := auditOf(t, staff, q)
		for _, it := range l.Items {
			if seen[it.ID] {
				t.Fatalf("entry %d twice", it.ID)
			}
			seen[it.ID] = true
		}
		if l.NextCursor == "" {
			break
		}
		q.Set("cursor", l.NextCursor)
	}
	if len(seen) != 5 {
		t.Errorf("paged through %d entries", len(seen))
	}
	for _, bad := range []string{"account_id=x", "subject_id=-1", "from=yesterday", "to=2024-13-01T00:00:00Z",
		"from=2024-05-02T00:00:00%2B08:00&to=2024-05-01T00:00:00%2B08:00", "region_code=13", "cursor=zzz", "limit=0"} {
		staff.Must(http.StatusBadRequest, "GET", "/api/v1/audit?"+bad, nil).Err(t)
	}
}

func TestAuditScope(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	staffID := accountID(t, staff)
	staff.Must(http.StatusCreated, "POST", "/api/v1/units", map[string]any{
		"name": "审计范围" + apitest.Unique(), "kind": "school", "region_code": apitest.CountyA1})
	mine := url.Values{"account_id": {fmt.Sprint(staffID)}}

	for name, c := range map[string]struct {
		client *apitest.Client
		sees   bool
	}{
		"same county":    {staff, true},
		"city":           {e.Staff(t, "city_staff", apitest.CityA), true},
		"province":       {e.Staff(t, "province_staff", apitest.Province), true},
		"audit admin":    {e.Staff(t, "audit_admin", apitest.Province), true},
		"another county": {e.Staff(t, "county_staff", apitest.CountyA2), false},
		"another city":   {e.Staff(t, "city_staff", apitest.CityB), false},
	} {
		l := auditOf(t, c.client, mine)
		if c.sees != (len(l.Items) == 1) {
			t.Errorf("%s sees %d entries", name, len(l.Items))
		}
	}
	// Narrowing to a region outside one's own subtree shows nothing, never more.
	if l := auditOf(t, staff, url.Values{"region_code": {apitest.CountyB1}}); len(l.Items) != 0 {
		t.Errorf("county A1 staff read county B1 entries: %+v", l.Items)
	}

	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	if eb := ins.Must(http.StatusForbidden, "GET", "/api/v1/audit", nil).Err(t); eb.Code != "forbidden" {
		t.Errorf("instructor: %+v", eb)
	}
	e.Anon(t).Must(http.StatusUnauthorized, "GET", "/api/v1/audit", nil).Err(t)
}

// TestAuditRecordsSensitiveReads reads a tip and a mediation: each read is in the trail, filed
// under the record's region, visible to the county and not to its neighbour.
func TestAuditRecordsSensitiveReads(t *testing.T) {
	t.Parallel()
	routes, err := apitest.ContractRoutes()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, r := range routes {
		documented[r] = true
	}
	if !documented["GET /api/v1/tips/{id}"] || !documented["GET /api/v1/mediations/{id}"] {
		t.Skip("the record routes are not in miniprogram-api/openapi.yaml yet")
	}
	w := newRecordWorld(t)
	e := w.e
	staffID := accountID(t, w.staff)
	occurred := e.Clock.Now().Add(-time.Hour).Format(time.RFC3339)
	tip := w.author.Submit("tip", apitest.RecordBody("tip", occurred))
	med := w.author.Submit("mediation", apitest.RecordBody("mediation", occurred))

	reads := map[string]*apitest.Response{
		"GET /api/v1/tips/{id}":       w.staff.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/tips/%d", tip), nil),
		"GET /api/v1/tips":            w.staff.Must(http.StatusOK, "GET", "/api/v1/tips", nil),
		"GET /api/v1/mediations/{id}": w.staff.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/mediations/%d", med), nil),
		"GET /api/v1/mediations":      w.staff.Must(http.StatusOK, "GET", "/api/v1/mediations", nil),
	}
	denied := w.callers["county_out"].Do("GET", fmt.Sprintf("/api/v1/tips/%d", tip), nil)

	l := auditOf(t, w.staff, url.Values{"account_id": {fmt.Sprint(staffID)}, "action": {"GET "}})
	for action, r := range reads {
		got, ok := l.find(r.Header.Get("X-Request-ID"))
		if !ok || got.Action != action || got.Status != 200 || got.Role != "county_staff" {
			t.Errorf("%s: %+v (found %v)", action, got, ok)
		}
	}
	if got, _ := l.find(reads["GET /api/v1/tips/{id}"].Header.Get("X-Request-ID")); got.SubjectType != "tip" || got.SubjectID == nil || *got.SubjectID != tip {
		t.Errorf("tip read subject: %+v", got)
	}
	if got, _ := l.find(reads["GET /api/v1/mediations/{id}"].Header.Get("X-Request-ID")); got.SubjectType != "mediation" || got.SubjectID == nil || *got.SubjectID != med {
		t.Errorf("mediation read subject: %+v", got)
	}
	// The submissions are writes of the instructor, visible to the county.
	if l := auditOf(t, w.staff, url.Values{"subject_type": {"tip"}, "action": {"POST /api/v1/tips"}, "limit": {"100"}}); len(l.Items) == 0 {
		t.Error("tip submission not in the trail")
	}
	// The neighbouring county's refused read is in the trail, but under its own region: the county
	// does not see its neighbour's activity, and the neighbour does not see the county's reads.
	if denied.Status != http.StatusNotFound {
		t.Errorf("county out read a tip: %d", denied.Status)
	}
	if l := auditOf(t, w.callers["county_out"], url.Values{"account_id": {fmt.Sprint(staffID)}}); len(l.Items) != 0 {
		t.Errorf("the neighbouring county sees the county's reads: %+v", l.Items)
	}
}

// TestAuditOfATipReadAboveTheCounty: the province reading a county's tip is filed under the tip's
// region, so the county sees who looked at its tip.
func TestAuditOfATipReadAboveTheCounty(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	tip := apitest.ID(t, w.author.Must(http.StatusCreated, "POST", "/api/v1/tips", apitest.RecordBody("tip", phoneTime(w.e, -time.Hour))))
	read := w.callers["province"].Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/tips/%d", tip), nil)
	l := auditOf(t, w.staff, url.Values{"subject_type": {"tip"}, "subject_id": {fmt.Sprint(tip)}})
	e, ok := l.find(read.Header.Get("X-Request-ID"))
	if !ok || e.Role != "province_staff" || e.RegionCode != w.area.Township() {
		t.Fatalf("county staff do not see the province's read of their tip: %+v", l.Items)
	}
	// The sibling county does not.
	if l := auditOf(t, w.callers["county_out"], url.Values{"subject_type": {"tip"}, "subject_id": {fmt.Sprint(tip)}}); len(l.Items) != 0 {
		t.Fatalf("another county sees the audit of this tip: %+v", l.Items)
	}
}
