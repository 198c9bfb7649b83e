package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// TestTransferMovesInstructorScope: an instructor transferred by the city from a unit in county
// A1 to one in county A2 is scoped to A2 at once. The access token issued before the transfer is
// refused (it carries the old region); the refreshed one carries the new. Their later uploads,
// records and audit entries are A2's: A2's officer reads them, A1's gets 404 and does not see
// them in the trail. An upload not yet attached when they moved goes with them. (ASVS 4.2.1;
// 等保2.0 8.1.4.2 访问控制)
// Not parallel: it moves the shared clock.
func TestTransferMovesInstructorScope(t *testing.T) {
	e := apitest.Shared(t)
	countyA := e.Staff(t, "county_staff", apitest.CountyA1)
	countyB := e.Staff(t, "county_staff", apitest.CountyA2)
	city := e.Staff(t, "city_staff", apitest.CityA)
	from := countyA.Unit("village", apitest.TownshipA1)
	to := countyB.Unit("village", apitest.CountyA2)

	id := countyA.Instructor(from)
	var tok apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{
		"bind_ticket": e.BindTicket(t), "invite_code": countyA.Invite(id)}).JSON(t, &tok)
	before := e.As(t, tok.AccessToken)
	insAccount := accountID(t, before)
	pending := mustUpload(t, before, "before.png", pngImage(t))

	e.Clock.Advance(time.Second) // the shared clock stands still; the transfer comes later
	city.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/instructors/%d/adjust", id), map[string]any{
		"action": "transfer", "reason_category": "job_change", "to_unit_id": to})

	// The old token carries county A1: it must not be honoured any more. The refresh token still
	// works (the mini-program refreshes on 401), and the new access token carries A2.
	if r := before.Do("GET", "/api/v1/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("old token after the transfer: %d, want 401", r.Status)
	}
	var next apitest.Tokens
	e.Anon(t).Must(http.StatusOK, "POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": tok.RefreshToken}).JSON(t, &next)
	ins := e.As(t, next.AccessToken)
	var me struct {
		User struct {
			RegionCode string `json:"region_code"`
		} `json:"user"`
	}
	ins.Must(http.StatusOK, "GET", "/api/v1/me", nil).JSON(t, &me)
	if me.User.RegionCode != apitest.CountyA2 {
		t.Errorf("account region after the transfer: %q", me.User.RegionCode)
	}

	up := mustUpload(t, ins, "after.png", pngImage(t))
	visit := ins.Submit("visit", apitest.RecordBody("visit", phoneTime(e, 0)))
	refused := ins.Must(http.StatusBadRequest, "POST", "/api/v1/visits", map[string]any{"title": ""})
	for _, path := range []string{
		fmt.Sprintf("/api/v1/uploads/%d", up.ID),
		fmt.Sprintf("/api/v1/uploads/%d", pending.ID),
		recordPath("visit", visit),
	} {
		countyB.Must(http.StatusOK, "GET", path, nil)
		if r := countyA.Do("GET", path, nil); r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
			t.Errorf("county A1 reads %s after the transfer: %d", path, r.Status)
		}
	}

	// The trail: the upload, the record and the refused write are all filed under A2.
	q := url.Values{"account_id": {fmt.Sprint(insAccount)}}
	inB := auditOf(t, countyB, q)
	for name, rid := range map[string]string{"refused write": refused.Header.Get("X-Request-ID")} {
		got, ok := inB.find(rid)
		if !ok || got.RegionCode != apitest.CountyA2 {
			t.Errorf("%s: %+v (found %v), want region %s", name, got, ok, apitest.CountyA2)
		}
	}
	var upload, record bool
	for _, x := range inB.Items {
		if x.SubjectID == nil {
			continue
		}
		upload = upload || (x.Action == "POST /api/v1/uploads" && *x.SubjectID == up.ID)
		record = record || (x.Action == "POST /api/v1/visits" && *x.SubjectID == visit)
	}
	if !upload || !record {
		t.Errorf("county A2's trail lacks the upload (%v) or the record (%v): %+v", upload, record, inB.Items)
	}
	for _, x := range auditOf(t, countyA, q).Items {
		late := x.SubjectID != nil && ((x.Action == "POST /api/v1/uploads" && *x.SubjectID == up.ID) ||
			(x.Action == "POST /api/v1/visits" && *x.SubjectID == visit))
		if x.RequestID == refused.Header.Get("X-Request-ID") || late {
			t.Errorf("county A1's trail shows an action after the transfer: %+v", x)
		}
	}
}
