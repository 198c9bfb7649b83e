package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/wxfake"
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

// A test message goes to the group's robot at once, through the dispatcher's robot sender, and
// the answer says what WeCom made of it: delivered; refused (93000 disables the group, as it
// would for a notification); held by the robot's pace. Only groups in scope, only active ones.
func TestNotifyGroupTestMessage(t *testing.T) {
	// Not parallel: it injects failures into the shared fake WeChat.
	e := apitest.Shared(t)
	area := e.Area(t)
	county := area.County
	staff := e.Staff(t, "county_staff", county)
	other := e.Staff(t, "county_staff", area.Neighbour)
	admin := e.Staff(t, "admin", apitest.Province)
	instructor, _ := e.InstructorClient(t, staff, staff.Unit("village", area.Township()))
	var me struct {
		User struct {
			DisplayName string `json:"display_name"`
			Username    string `json:"username"`
		} `json:"user"`
	}
	staff.Must(http.StatusOK, "GET", "/api/v1/me", nil).JSON(t, &me)

	type result struct {
		Status    string  `json:"status"`
		Reason    string  `json:"reason"`
		ErrorCode int     `json:"error_code"`
		SentAt    string  `json:"sent_at"`
		RetryAt   string  `json:"retry_at"`
		Group     ntGroup `json:"group"`
	}
	key := ntKey()
	g := ntCreateGroup(t, staff, county, "county_staff", key)
	path := fmt.Sprintf("/api/v1/notification-groups/%d/test", g.ID)

	// Delivered: the robot has the message, naming the group and who sent it.
	var r result
	staff.Must(http.StatusOK, "POST", path, nil).JSON(t, &r)
	got := ntRobotTo(e, key, "测试消息")
	if r.Status != "sent" || r.Reason != "" || r.ErrorCode != 0 || r.SentAt == "" || r.Group.ID != g.ID || r.Group.Status != "active" {
		t.Fatalf("sent: %+v", r)
	}
	if len(got) != 1 || !strings.Contains(got[0], g.Name) || !strings.Contains(got[0], area.CountyName) ||
		!strings.Contains(got[0], me.User.DisplayName) {
		t.Fatalf("the robot got %q", got)
	}
	// The system administrator manages groups too; nothing of it enters the delivery log.
	admin.Must(http.StatusOK, "POST", path, nil).JSON(t, &r)
	if r.Status != "sent" || len(ntRobotTo(e, key, "测试消息")) != 2 {
		t.Fatalf("admin's test: %+v", r)
	}
	if rows := ntLog(t, staff, "channel=robot&subject_type=notification_group"); len(rows) != 0 {
		t.Fatalf("a test message in the delivery log: %+v", rows)
	}

	// Out of scope, not a group, not staff: refused without a message going out.
	other.Must(http.StatusNotFound, "POST", path, nil).Err(t)
	staff.Must(http.StatusNotFound, "POST", "/api/v1/notification-groups/999999999/test", nil).Err(t)
	staff.Must(http.StatusNotFound, "POST", "/api/v1/notification-groups/abc/test", nil).Err(t)
	instructor.Must(http.StatusForbidden, "POST", path, nil).Err(t)
	// of the three administrators only the system administrator manages groups
	e.Staff(t, "security_admin", apitest.Province).Must(http.StatusForbidden, "POST", path, nil).Err(t)
	e.Staff(t, "audit_admin", apitest.Province).Must(http.StatusForbidden, "POST", path, nil).Err(t)
	e.Anon(t).Must(http.StatusUnauthorized, "POST", path, nil)
	if n := len(ntRobotTo(e, key, "测试消息")); n != 2 {
		t.Fatalf("refused calls sent %d messages", n)
	}

	// A transient refusal is answered as it is, not retried.
	ntIdle(t, e)
	e.WX.Inject(wxfake.EndpointRobot, -1, 1)
	staff.Must(http.StatusOK, "POST", path, nil).JSON(t, &r)
	if r.Status != "failed" || r.ErrorCode != -1 || !strings.Contains(r.Reason, "系统繁忙") || r.Group.Status != "active" {
		t.Fatalf("transient failure: %+v", r)
	}
	// WeCom's own rate limit holds the robot: the answer says when to try again.
	ntIdle(t, e)
	e.WX.Inject(wxfake.EndpointRobot, 45009, 1)
	staff.Must(http.StatusOK, "POST", path, nil).JSON(t, &r)
	if r.Status != "rate_limited" || r.ErrorCode != 45009 || r.RetryAt == "" || !strings.Contains(r.Reason, "45009") {
		t.Fatalf("WeCom's limit: %+v", r)
	}

	// An invalid webhook: the group is disabled at once, with the reason; a disabled group is
	// refused a test until it is re-keyed.
	key2 := ntKey()
	g2 := ntCreateGroup(t, staff, county, "instructors", key2)
	path2 := fmt.Sprintf("/api/v1/notification-groups/%d/test", g2.ID)
	e.WX.DisableRobot(key2)
	staff.Must(http.StatusOK, "POST", path2, nil).JSON(t, &r)
	if r.Status != "failed" || r.ErrorCode != 93000 || r.Group.Status != "disabled" || !strings.Contains(r.Group.DisabledReason, "93000") {
		t.Fatalf("invalid webhook: %+v", r)
	}
	if got := staff.Must(http.StatusConflict, "POST", path2, nil).Err(t); got.Code != "notification_group_disabled" {
		t.Fatalf("disabled group: %+v", got)
	}
	key3 := ntKey()
	staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/notification-groups/%d", g2.ID), map[string]any{"webhook_key": key3})
	staff.Must(http.StatusOK, "POST", path2, nil).JSON(t, &r)
	if r.Status != "sent" || len(ntRobotTo(e, key3, "测试消息")) != 1 {
		t.Fatalf("after re-keying: %+v", r)
	}

	// The robot's pace counts test messages with notifications: past it, nothing is sent.
	slow := apitest.Another(t, clock.NewFake(e.Clock.Now()), func(c *config.Config) { c.Notify.RobotPerMinute = 2 })
	key4 := ntKey()
	g4 := ntCreateGroup(t, staff, county, "instructors", key4)
	path4 := fmt.Sprintf("/api/v1/notification-groups/%d/test", g4.ID)
	as := slow.As(t, staff.Token)
	for range 2 {
		as.Must(http.StatusOK, "POST", path4, nil).JSON(t, &r)
		if r.Status != "sent" {
			t.Fatalf("within the pace: %+v", r)
		}
	}
	as.Must(http.StatusOK, "POST", path4, nil).JSON(t, &r)
	if r.Status != "rate_limited" || r.ErrorCode != 0 || r.RetryAt == "" || !strings.Contains(r.Reason, "每分钟最多2条") {
		t.Fatalf("past the pace: %+v", r)
	}
	if n := len(ntRobotTo(e, key4, "测试消息")); n != 2 {
		t.Fatalf("the robot got %d test messages, want 2", n)
	}
}
