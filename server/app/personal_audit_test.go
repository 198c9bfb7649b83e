package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

// TestReadsOfPersonalDataAreAudited: the details that show a whole phone and ID number (an
// instructor, a nomination) leave an entry naming the reader, the person's record and that
// personal data was read; so does a filing, a filed roster like its audited export. The lists,
// which show them masked, leave none; an instructor reading their own record reads nobody
// else's. A refused read is in the trail too, without personal data. (ASVS 7.1.3, 8.3.5; 等保2.0 8.1.4.3 安全审计)
func TestReadsOfPersonalDataAreAudited(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	county := e.Area(t).County // the filing is this test's
	staff := e.Staff(t, "county_staff", county)
	staffID := accountID(t, staff)
	self, ins := e.InstructorClient(t, staff, staff.Unit("village", county))
	nom := raNominate(t, staff, staff.Unit("school", county))
	filing := raFile(t, staff)

	detail := func(path string) *apitest.Response {
		r := staff.Must(http.StatusOK, "GET", path, nil)
		if strings.Contains(string(r.Body), "****") && !strings.Contains(path, "filings") {
			t.Errorf("%s shows masked data: %s", path, r.Body)
		}
		return r
	}
	reads := []struct {
		r            *apitest.Response
		action, kind string
		id           int64
		personal     bool
	}{
		{detail(fmt.Sprintf("/api/v1/instructors/%d", ins)), "GET /api/v1/instructors/{id}", "instructor", ins, true},
		{detail(fmt.Sprintf("/api/v1/nominations/%d", nom.ID)), "GET /api/v1/nominations/{id}", "nomination", nom.ID, true},
		{detail(fmt.Sprintf("/api/v1/filings/%d", filing.ID)), "GET /api/v1/filings/{id}", "filing", filing.ID, false},
	}
	lists := map[string]*apitest.Response{}
	for _, path := range []string{"/api/v1/instructors", "/api/v1/nominations", "/api/v1/filings"} {
		lists[path] = staff.Must(http.StatusOK, "GET", path, nil)
	}
	self.Must(http.StatusOK, "GET", "/api/v1/me", nil)
	self.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/instructors/%d", ins), nil)
	outsider := e.Staff(t, "county_staff", apitest.CountyB1)
	refused := outsider.Must(http.StatusNotFound, "GET", fmt.Sprintf("/api/v1/instructors/%d", ins), nil)

	trail := auditOf(t, staff, url.Values{"account_id": {fmt.Sprint(staffID)}, "limit": {"100"}})
	for _, x := range reads {
		got, ok := trail.find(x.r.Header.Get("X-Request-ID"))
		if !ok || got.Action != x.action || got.SubjectType != x.kind || got.SubjectID == nil || *got.SubjectID != x.id ||
			got.AccountID != staffID || got.Role != "county_staff" || got.Status != 200 || got.PersonalData != x.personal {
			t.Errorf("%s: %+v (found %v)", x.action, got, ok)
		}
	}
	for path, r := range lists {
		if got, ok := trail.find(r.Header.Get("X-Request-ID")); ok {
			t.Errorf("list %s audited: %+v", path, got)
		}
	}
	// The answers to writes that show the whole phone say so too: the instructor's creation.
	var created bool
	for _, x := range trail.Items {
		created = created || (x.Action == "POST /api/v1/instructors" && x.PersonalData)
	}
	if !created {
		t.Errorf("creating an instructor (answered with the whole phone) not marked: %+v", trail.Items)
	}
	// The audit administrator lists who read personal data.
	only := auditOf(t, staff, url.Values{"account_id": {fmt.Sprint(staffID)}, "personal_data": {"true"}, "limit": {"100"}})
	for _, x := range only.Items {
		if !x.PersonalData {
			t.Errorf("personal_data=true lists %+v", x)
		}
	}
	if _, ok := only.find(reads[0].r.Header.Get("X-Request-ID")); !ok {
		t.Error("personal_data=true misses the instructor read")
	}
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/audit?personal_data=yes", nil).Err(t)

	// The instructor's own record: /me is not audited; the detail route is (always), but it is
	// nobody else's data.
	for _, x := range auditOf(t, staff, url.Values{"account_id": {fmt.Sprint(accountID(t, self))}}).Items {
		if x.PersonalData || x.Action == "GET /api/v1/me" {
			t.Errorf("the instructor reading their own record: %+v", x)
		}
	}
	got, ok := auditOf(t, outsider, url.Values{"account_id": {fmt.Sprint(accountID(t, outsider))}}).find(refused.Header.Get("X-Request-ID"))
	if !ok || got.Status != http.StatusNotFound || got.PersonalData || got.SubjectID == nil || *got.SubjectID != ins {
		t.Errorf("refused read: %+v (found %v)", got, ok)
	}
}
