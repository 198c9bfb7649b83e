package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

// Notification groups: registered by staff for regions of their subtree, the webhook taken as a
// key or a whole URL, encrypted and shown only by its last characters; PATCH replaces the key
// and re-activates.
func TestNotifyGroupsAPI(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	area := e.Area(t)
	ntCountyGroups, ntCountyOther := area.County, area.Neighbour
	staff := e.Staff(t, "county_staff", ntCountyGroups)
	other := e.Staff(t, "county_staff", ntCountyOther)
	cityStaff := e.Staff(t, "city_staff", area.City)
	admin := e.Staff(t, "admin", apitest.Province)
	unit := staff.Unit("village", area.Township())
	instructor, _ := e.InstructorClient(t, staff, unit)

	key := ntKey() + "wXyZ"
	r := staff.Must(http.StatusCreated, "POST", "/api/v1/notification-groups", map[string]any{
		"name": "井陉县民族工作群", "region_code": ntCountyGroups, "audience": "county_staff", "webhook_key": ntWebhook(key)})
	if strings.Contains(string(r.Body), key) {
		t.Fatalf("the webhook key came back: %s", r.Body)
	}
	var g ntGroup
	r.JSON(t, &g)
	if g.WebhookKeyHint != "…wXyZ" || g.Status != "active" || g.Audience != "county_staff" || g.RegionCode != ntCountyGroups {
		t.Fatalf("group: %+v", g)
	}
	var stored string
	e.DB().Raw("SELECT webhook_key_enc FROM notification_groups WHERE id = ?", g.ID).Scan(&stored)
	if stored == "" || strings.Contains(stored, key) {
		t.Fatalf("key not encrypted at rest: %q", stored)
	}
	// A bare key works too; an instructors' group may sit at a township.
	bare := staff.Must(http.StatusCreated, "POST", "/api/v1/notification-groups", map[string]any{
		"name": area.TownshipNames[0] + "指导员群", "region_code": area.Township(), "audience": "instructors", "webhook_key": ntKey()})
	bareID := apitest.ID(t, bare)

	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		field  string
	}{
		"same robot twice": {map[string]any{"name": "x", "region_code": ntCountyGroups, "audience": "county_staff", "webhook_key": key}, http.StatusConflict, "webhook_key"},
		"not a webhook":    {map[string]any{"name": "x", "region_code": ntCountyGroups, "audience": "county_staff", "webhook_key": "https://example.com/hook?key=abc"}, http.StatusBadRequest, "webhook_key"},
		"bad characters":   {map[string]any{"name": "x", "region_code": ntCountyGroups, "audience": "county_staff", "webhook_key": "a b"}, http.StatusBadRequest, "webhook_key"},
		"no key":           {map[string]any{"name": "x", "region_code": ntCountyGroups, "audience": "county_staff"}, http.StatusBadRequest, "webhook_key"},
		"audience":         {map[string]any{"name": "x", "region_code": ntCountyGroups, "audience": "everyone", "webhook_key": ntKey()}, http.StatusBadRequest, "audience"},
		"city at county":   {map[string]any{"name": "x", "region_code": ntCountyGroups, "audience": "city_staff", "webhook_key": ntKey()}, http.StatusBadRequest, "region_code"},
		"no name":          {map[string]any{"region_code": ntCountyGroups, "audience": "county_staff", "webhook_key": ntKey()}, http.StatusBadRequest, "name"},
		"unknown region":   {map[string]any{"name": "x", "region_code": "130199000000", "audience": "county_staff", "webhook_key": ntKey()}, http.StatusBadRequest, "region_code"},
		"other county":     {map[string]any{"name": "x", "region_code": ntCountyOther, "audience": "county_staff", "webhook_key": ntKey()}, http.StatusForbidden, "region_code"},
		"status on create": {map[string]any{"name": "x", "region_code": ntCountyGroups, "audience": "county_staff", "webhook_key": ntKey(), "status": "disabled"}, http.StatusBadRequest, "status"},
	} {
		got := staff.Must(tc.status, "POST", "/api/v1/notification-groups", tc.body).Err(t)
		if len(got.Details) == 0 || got.Details[0].Field != tc.field {
			t.Errorf("%s: %+v", name, got)
		}
	}
	if got := instructor.Must(http.StatusForbidden, "POST", "/api/v1/notification-groups", map[string]any{
		"name": "x", "region_code": ntCountyGroups, "audience": "county_staff", "webhook_key": ntKey()}).Err(t); got.Code != "forbidden" {
		t.Fatalf("instructor: %+v", got)
	}
	instructor.Must(http.StatusForbidden, "GET", "/api/v1/notification-groups", nil)

	// Lists are scoped: the other county sees none of them, the city and the admin see both.
	list := func(c *apitest.Client, q string) []ntGroup {
		var l struct{ Items []ntGroup }
		c.Must(http.StatusOK, "GET", "/api/v1/notification-groups?"+q, nil).JSON(t, &l)
		return l.Items
	}
	if got := list(other, "region_code="+ntCountyGroups); len(got) != 0 {
		t.Fatalf("another county sees %+v", got)
	}
	for _, c := range []*apitest.Client{staff, cityStaff, admin} {
		if got := list(c, "region_code="+ntCountyGroups); len(got) != 2 || got[0].ID != bareID || got[1].ID != g.ID {
			t.Fatalf("list: %+v", got)
		}
	}
	if got := list(staff, "audience=instructors&region_code="+ntCountyGroups); len(got) != 1 || got[0].ID != bareID {
		t.Fatalf("audience filter: %+v", got)
	}
	if got := list(staff, "limit=1&region_code="+ntCountyGroups); len(got) != 1 {
		t.Fatalf("limit: %+v", got)
	}
	staff.Must(http.StatusBadRequest, "GET", "/api/v1/notification-groups?status=broken", nil)

	// PATCH: another county cannot touch it; staff in scope rename, disable by hand, replace
	// the key (which re-activates).
	path := fmt.Sprintf("/api/v1/notification-groups/%d", g.ID)
	other.Must(http.StatusNotFound, "PATCH", path, map[string]any{"name": "抢来的群"})
	staff.Must(http.StatusNotFound, "PATCH", "/api/v1/notification-groups/999999999", map[string]any{"name": "x"})
	staff.Must(http.StatusOK, "PATCH", path, map[string]any{"status": "disabled"}).JSON(t, &g)
	if g.Status != "disabled" || g.DisabledReason == "" {
		t.Fatalf("disable: %+v", g)
	}
	newKey := ntKey() + "Ab12"
	staff.Must(http.StatusOK, "PATCH", path, map[string]any{"webhook_key": newKey, "name": "井陉县民族工作群(新)"}).JSON(t, &g)
	if g.Status != "active" || g.DisabledReason != "" || g.WebhookKeyHint != "…Ab12" || g.Name != "井陉县民族工作群(新)" {
		t.Fatalf("re-activate: %+v", g)
	}
	staff.Must(http.StatusBadRequest, "PATCH", path, map[string]any{"webhook_key": "not a key!"})
	staff.Must(http.StatusForbidden, "PATCH", path, map[string]any{"region_code": ntCountyOther})
	staff.Must(http.StatusConflict, "PATCH", fmt.Sprintf("/api/v1/notification-groups/%d", bareID), map[string]any{"webhook_key": newKey})
}

// Subscriptions take wx.requestSubscribeMessage's result object as it is; duty is for staff.
func TestNotifySubscriptionsAndDuty(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	area := e.Area(t)
	staff := e.Staff(t, "county_staff", area.County)
	instructor, _ := e.InstructorClient(t, staff, staff.Unit("village", area.Township()))

	var subs struct {
		Items []struct {
			TemplateID string   `json:"template_id"`
			Events     []string `json:"events"`
			Kind       string   `json:"kind"`
			Remaining  int      `json:"remaining"`
			Status     string   `json:"status"`
			Usable     bool     `json:"usable"`
		} `json:"items"`
	}
	body := map[string]any{"results": map[string]string{"errMsg": "requestSubscribeMessage:ok",
		"TPL_SENTIMENT_ANSWERED": "accept", "TPL_TIP_SUBMITTED": "reject"}}
	instructor.Must(http.StatusOK, "POST", "/api/v1/subscriptions", body)
	instructor.Must(http.StatusOK, "POST", "/api/v1/subscriptions", body).JSON(t, &subs)
	if len(subs.Items) != 2 {
		t.Fatalf("%+v", subs)
	}
	for _, s := range subs.Items {
		switch s.TemplateID {
		case "TPL_SENTIMENT_ANSWERED":
			if s.Remaining != 2 || !s.Usable || s.Kind != "one_time" || s.Events[0] != "sentiment.answered" {
				t.Fatalf("%+v", s)
			}
		case "TPL_TIP_SUBMITTED":
			if s.Usable || s.Status != "rejected" {
				t.Fatalf("%+v", s)
			}
		}
	}
	instructor.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{"TPL_SENTIMENT_ANSWERED": "ban"}}).JSON(t, &subs)
	for _, s := range subs.Items {
		if s.TemplateID == "TPL_SENTIMENT_ANSWERED" && (s.Usable || s.Remaining != 0 || s.Status != "banned") {
			t.Fatalf("ban: %+v", s)
		}
	}
	instructor.Must(http.StatusOK, "GET", "/api/v1/subscriptions", nil)
	for name, b := range map[string]any{
		"unknown template": map[string]any{"results": map[string]string{"SOMEONE_ELSES": "accept"}},
		"bad result":       map[string]any{"results": map[string]string{"TPL_TIP_SUBMITTED": "maybe"}},
		"empty":            map[string]any{"results": map[string]string{}},
		"no results":       map[string]any{},
	} {
		if got := instructor.Must(http.StatusBadRequest, "POST", "/api/v1/subscriptions", b).Err(t); len(got.Details) == 0 {
			t.Errorf("%s: %+v", name, got)
		}
	}
	e.Anon(t).Must(http.StatusUnauthorized, "POST", "/api/v1/subscriptions", body)

	staff.Must(http.StatusOK, "PUT", "/api/v1/me/duty", map[string]any{"on_duty": true})
	if _, on := ntMe(t, staff); on == nil || !*on {
		t.Fatalf("on_duty = %v", on)
	}
	staff.Must(http.StatusOK, "PUT", "/api/v1/me/duty", map[string]any{"on_duty": false})
	if _, on := ntMe(t, staff); on == nil || *on {
		t.Fatalf("on_duty = %v", on)
	}
	if _, on := ntMe(t, instructor); on != nil {
		t.Fatalf("an instructor shows on_duty %v", *on)
	}
	staff.Must(http.StatusBadRequest, "PUT", "/api/v1/me/duty", map[string]any{})
	staff.Must(http.StatusBadRequest, "PUT", "/api/v1/me/duty", map[string]any{"on_duty": "yes"})
	instructor.Must(http.StatusForbidden, "PUT", "/api/v1/me/duty", map[string]any{"on_duty": true})
	e.Staff(t, "admin", apitest.Province).Must(http.StatusForbidden, "PUT", "/api/v1/me/duty", map[string]any{"on_duty": true})
}
