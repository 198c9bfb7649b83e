package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// A submitted tip reaches the county staff group as a robot message and each on-duty officer as a
// subscribe message; when nobody is on duty, every county officer gets it.
func TestNotifyTipAlertReachesGroupAndOnDutyOfficers(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	area := e.Area(t)
	ntCountyAlert, ntTownAlert := area.County, area.Township()
	on1 := ntStaffOfficer(t, e, "county_staff", ntCountyAlert, true)
	on2 := ntStaffOfficer(t, e, "county_staff", ntCountyAlert, true)
	off := ntStaffOfficer(t, e, "county_staff", ntCountyAlert, false)
	key := ntKey()
	g := ntCreateGroup(t, on1.Client, ntCountyAlert, "county_staff", key)
	instructor, _ := e.InstructorClient(t, on1.Client, on1.Unit("village", ntTownAlert))

	if _, onDuty := ntMe(t, on1.Client); onDuty == nil || !*onDuty {
		t.Fatalf("GET /me on_duty = %v, want true", onDuty)
	}
	tipID, title := ntTip(t, e, instructor, "serious")
	rows := ntWaitFinal(t, on1.Client, tipID, 3)
	for _, r := range rows {
		if r.Status != "sent" || r.EventKind != "tip.submitted" || r.Attempts != 1 || r.SentAt == "" || !strings.Contains(r.Title, title) {
			t.Fatalf("log row: %+v", r)
		}
		if r.Channel == "robot" && (r.TargetKind != "group" || r.TargetID != g.ID || r.TargetName != g.Name) {
			t.Fatalf("robot row: %+v", r)
		}
	}
	if got := ntRobotTo(e, key, title); len(got) != 1 || !strings.Contains(got[0], "较大") || !strings.Contains(got[0], area.CountyName+area.TownshipNames[0]) {
		t.Fatalf("robot messages: %q", got)
	}
	if got := ntSubscribedTo(e, title); len(got) != 2 || got[on1.OpenID] != 1 || got[on2.OpenID] != 1 {
		t.Fatalf("subscribe messages to %v, want one each to the two officers on duty", got)
	}

	// Nobody on duty: all three officers.
	on1.Must(http.StatusOK, "PUT", "/api/v1/me/duty", map[string]any{"on_duty": false})
	on2.Must(http.StatusOK, "PUT", "/api/v1/me/duty", map[string]any{"on_duty": false})
	tipID, title = ntTip(t, e, instructor, "general")
	ntWaitFinal(t, on1.Client, tipID, 4)
	if got := ntSubscribedTo(e, title); len(got) != 3 || got[off.OpenID] != 1 {
		t.Fatalf("nobody on duty: subscribe messages to %v, want all three county officers", got)
	}
	if got := ntRobotTo(e, key, title); len(got) != 1 {
		t.Fatalf("robot messages: %q", got)
	}
}

// A major tip reaches the city at once (its staff group and city staff); escalating it reaches
// the province. An answered sentiment reaches the instructor who reported it.
func TestNotifyMajorTipEscalationAndSentimentAnswer(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	// A city of the test's own: the city's group and officers are told of every major tip in it.
	city := e.City(t)
	ntCitySouth, ntCountySouth, ntTownSouth := city.Code, city.Counties[0].County, city.Counties[0].Township()
	county := ntStaffOfficer(t, e, "county_staff", ntCountySouth, true)
	cityOfficer := ntStaffOfficer(t, e, "city_staff", ntCitySouth, false)
	countyKey, cityKey := ntKey(), ntKey()
	ntCreateGroup(t, county.Client, ntCountySouth, "county_staff", countyKey)
	ntCreateGroup(t, cityOfficer.Client, ntCitySouth, "city_staff", cityKey)
	instructor, _ := e.InstructorClient(t, county.Client, county.Unit("village", ntTownSouth))

	tipID, title := ntTip(t, e, instructor, "major")
	// Four deliveries in any order: the dispatcher sends them concurrently.
	ntWait(t, "the city's and the county's messages", func() bool {
		return len(ntRobotTo(e, cityKey, title)) == 1 && ntSubscribedTo(e, title)[cityOfficer.OpenID] == 1 &&
			len(ntRobotTo(e, countyKey, title)) == 1 && ntSubscribedTo(e, title)[county.OpenID] == 1
	})
	// The city sees the rows of its subtree.
	if rows := ntLog(t, cityOfficer.Client, fmt.Sprintf("subject_type=tip&subject_id=%d&event_kind=tip.submitted", tipID)); len(rows) < 4 {
		t.Fatalf("city log: %+v", rows)
	}

	// Escalated (major → province): the province's staff get it.
	province := ntStaffOfficer(t, e, "province_staff", apitest.Province, true)
	county.Must(http.StatusOK, "POST", recordPath("tip", tipID, "escalate"), map[string]any{"note": "请省里协调"})
	ntWait(t, "the province's message", func() bool {
		for _, m := range e.WX.SubscribeMessages() {
			if m.ToUser == province.OpenID && m.TemplateID == "TPL_TIP_ESCALATED" && strings.HasPrefix(title, strings.TrimSuffix(m.Data["thing1"], "…")) {
				return true
			}
		}
		return false
	})

	// Sentiment answered → its reporter.
	instructorAccount, _ := ntMe(t, instructor)
	var openid string
	if err := e.DB().Raw("SELECT openid FROM accounts WHERE id = ?", instructorAccount).Scan(&openid).Error; err != nil || openid == "" {
		t.Fatalf("instructor openid %q: %v", openid, err)
	}
	instructor.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{"TPL_SENTIMENT_ANSWERED": "accept"}})
	sentimentID := instructor.Submit("sentiment", apitest.RecordBody("sentiment", phoneTime(e, -time.Hour)))
	county.Must(http.StatusOK, "POST", recordPath("sentiment", sentimentID, "answer"), map[string]any{"answer": "管道已于本周维修完毕"})
	ntWait(t, "the reporter's message", func() bool {
		for _, m := range e.WX.SubscribeMessages() {
			if m.ToUser == openid && m.TemplateID == "TPL_SENTIMENT_ANSWERED" && m.Data["thing2"] == "管道已于本周维修完毕" {
				return true
			}
		}
		return false
	})
}
