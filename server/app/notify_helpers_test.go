package app_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// The notification tests each work in a county of their own (apitest.Env.Area): groups
// registered in a county receive every alert of that county, and when nobody is on duty every
// officer of it is told.

type ntNotification struct {
	ID         int64  `json:"id"`
	EventKind  string `json:"event_kind"`
	SubjectID  int64  `json:"subject_id"`
	Channel    string `json:"channel"`
	TargetKind string `json:"target_kind"`
	TargetID   int64  `json:"target_id"`
	TargetName string `json:"target_name"`
	Title      string `json:"title"`
	Status     string `json:"status"`
	Attempts   int    `json:"attempts"`
	Reason     string `json:"reason"`
	ErrorCode  int    `json:"error_code"`
	SentAt     string `json:"sent_at"`
}

type ntGroup struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	RegionCode     string `json:"region_code"`
	Audience       string `json:"audience"`
	WebhookKeyHint string `json:"webhook_key_hint"`
	Status         string `json:"status"`
	DisabledReason string `json:"disabled_reason"`
}

// ntOfficer is a staff member with WeChat bound (staff bind no WeChat through the API yet: the
// openid is set underneath) who accepted the tip templates in the mini-program.
type ntOfficer struct {
	*apitest.Client
	ID     int64
	OpenID string
}

func ntMe(t *testing.T, c *apitest.Client) (id int64, onDuty *bool) {
	t.Helper()
	var me struct {
		User struct {
			ID     int64 `json:"id"`
			OnDuty *bool `json:"on_duty"`
		} `json:"user"`
	}
	c.Must(http.StatusOK, "GET", "/api/v1/me", nil).JSON(t, &me)
	return me.User.ID, me.User.OnDuty
}

func ntStaffOfficer(t *testing.T, e *apitest.Env, role, region string, onDuty bool) ntOfficer {
	t.Helper()
	c := e.Staff(t, role, region)
	id, _ := ntMe(t, c)
	// The officer links WeChat from the mini-program: the fake maps a code c to the openid o_c.
	code := "staff_" + strings.ToLower(apitest.Unique()+apitest.Unique())
	openid := "o_" + code
	c.Must(http.StatusOK, "POST", "/api/v1/me/wechat", map[string]string{"code": code})
	// Accepted three times: three one-time grants.
	for range 3 {
		c.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{
			"TPL_TIP_SUBMITTED": "accept", "TPL_TIP_ESCALATED": "accept", "errMsg": "requestSubscribeMessage:ok"}})
	}
	c.Must(http.StatusOK, "PUT", "/api/v1/me/duty", map[string]any{"on_duty": onDuty})
	return ntOfficer{Client: c, ID: id, OpenID: openid}
}

// ntKey is a fresh robot webhook key.
func ntKey() string { return "ntkey" + apitest.Unique() + apitest.Unique() }

func ntWebhook(key string) string {
	return "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + key
}

func ntCreateGroup(t *testing.T, c *apitest.Client, region, audience, key string) ntGroup {
	t.Helper()
	var g ntGroup
	c.Must(http.StatusCreated, "POST", "/api/v1/notification-groups", map[string]any{
		"name": "通知群" + apitest.Unique(), "region_code": region, "audience": audience, "webhook_key": ntWebhook(key)}).JSON(t, &g)
	return g
}

// ntLog reads the delivery log for one subject as c sees it.
func ntLog(t *testing.T, c *apitest.Client, query string) []ntNotification {
	t.Helper()
	var l struct {
		Items []ntNotification `json:"items"`
	}
	c.Must(http.StatusOK, "GET", "/api/v1/notifications?limit=100&"+query, nil).JSON(t, &l)
	return l.Items
}

// ntWaitFinal waits until c's log for a subject has want rows, none pending or sending.
func ntWaitFinal(t *testing.T, c *apitest.Client, subjectID int64, want int) []ntNotification {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		rows := ntLog(t, c, fmt.Sprintf("subject_type=tip&subject_id=%d", subjectID))
		done := len(rows) == want
		for _, r := range rows {
			done = done && r.Status != "pending" && r.Status != "sending"
		}
		if done {
			return rows
		}
		if time.Now().After(deadline) {
			t.Fatalf("subject %d: delivery log not final: %+v", subjectID, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ntWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ntJoinedCount is how a joined robot message says how many tips it stands for.
var ntJoinedCount = regexp.MustCompile(`<font color="warning">(\d+) 条待签收</font>`)

// ntRobotTo lists the robot messages the fake accepted for key that mention text.
func ntRobotTo(e *apitest.Env, key, text string) []string {
	var out []string
	for _, m := range e.WX.RobotMessages() {
		if m.Key == key && strings.Contains(m.Content, text) {
			out = append(out, m.Content)
		}
	}
	return out
}

// ntSubscribedTo lists the openids that received a subscribe message whose thing1 starts with
// the title.
func ntSubscribedTo(e *apitest.Env, title string) map[string]int {
	out := map[string]int{}
	for _, m := range e.WX.SubscribeMessages() {
		if strings.HasPrefix(title, strings.TrimSuffix(m.Data["thing1"], "…")) && m.Data["thing1"] != "" {
			out[m.ToUser]++
		}
	}
	return out
}

// ntTip submits a tip of this level as the instructor and returns its id and title.
func ntTip(t *testing.T, e *apitest.Env, instructor *apitest.Client, level string) (int64, string) {
	t.Helper()
	body := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
	body["tip"].(map[string]any)["level"] = level
	return instructor.Submit("tip", body), body["title"].(string)
}

// ntIdle waits until nothing is waiting in the whole queue, so that a failure injected into the
// shared fake server is met by this test's send and not by a leftover of another test.
func ntIdle(t *testing.T, e *apitest.Env) {
	t.Helper()
	ntWait(t, "an idle notification queue", func() bool {
		return countRows(t, e, "SELECT COUNT(*) FROM notifications WHERE status IN ('pending','sending') AND next_attempt_at <= ?", e.Clock.Now()) == 0 &&
			countRows(t, e, "SELECT COUNT(*) FROM events WHERE consumed_at IS NULL") == 0
	})
}
