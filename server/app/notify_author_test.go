package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/wxfake"
)

// ntOpenID is the openid bound to an account.
func ntOpenID(t *testing.T, e *apitest.Env, c *apitest.Client) string {
	t.Helper()
	accountID, _ := ntMe(t, c)
	var openid string
	if err := e.DB().Raw("SELECT openid FROM accounts WHERE id = ?", accountID).Scan(&openid).Error; err != nil || openid == "" {
		t.Fatalf("openid %q: %v", openid, err)
	}
	return openid
}

// ntFinalLog waits until c's delivery log for query has one row, neither pending nor sending.
func ntFinalLog(t *testing.T, c *apitest.Client, query string) ntNotification {
	t.Helper()
	var rows []ntNotification
	ntWait(t, "the delivery log of "+query, func() bool {
		rows = ntLog(t, c, query)
		return len(rows) == 1 && rows[0].Status != "pending" && rows[0].Status != "sending"
	})
	return rows[0]
}

// ntMessagesTo lists the subscribe messages the fake accepted for openid with this template.
func ntMessagesTo(e *apitest.Env, openid, templateID string) []wxfake.SubscribeMessage {
	var out []wxfake.SubscribeMessage
	for _, m := range e.WX.SubscribeMessages() {
		if m.ToUser == openid && m.TemplateID == templateID {
			out = append(out, m)
		}
	}
	return out
}

// The instructor hears back: county staff acknowledging their tip, or returning their visit log
// with a note, sends them one subscribe message each, opening the record in the mini-program. An
// instructor whose account has no WeChat bound gets none, and the delivery log says why.
// Not parallel: it waits for the whole notification queue to be idle.
func TestNotifyAuthorHearsBack(t *testing.T) {
	e := apitest.Shared(t)
	area := e.Area(t)
	staff := e.Staff(t, "county_staff", area.County)
	unit := staff.Unit("village", area.Township())
	instructor, _ := e.InstructorClient(t, staff, unit)
	openid := ntOpenID(t, e, instructor)
	// Accepted in the mini-program (mine: tip_acknowledged, record_returned, sentiment_answered).
	instructor.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{
		"TPL_TIP_ACKNOWLEDGED": "accept", "TPL_RECORD_RETURNED": "accept", "errMsg": "requestSubscribeMessage:ok"}})

	tipID, title := ntTip(t, e, instructor, "general")
	staff.Must(http.StatusOK, "POST", recordPath("tip", tipID, "acknowledge"), map[string]any{})
	ntWait(t, "the acknowledgement", func() bool { return len(ntMessagesTo(e, openid, "TPL_TIP_ACKNOWLEDGED")) > 0 })

	body := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	visitID := instructor.Submit("visit", body)
	note := "走访人数有误,请核对后重新提交"
	staff.Must(http.StatusOK, "POST", recordPath("visit", visitID, "return"), map[string]any{"note": note})
	ntWait(t, "the return", func() bool { return len(ntMessagesTo(e, openid, "TPL_RECORD_RETURNED")) > 0 })
	ntIdle(t, e)

	acks := ntMessagesTo(e, openid, "TPL_TIP_ACKNOWLEDGED")
	if len(acks) != 1 {
		t.Fatalf("acknowledgement messages: %+v", acks)
	}
	m := acks[0]
	if m.Page != fmt.Sprintf("pages/record-detail/index?kind=tip&id=%d", tipID) || !strings.HasPrefix(title, strings.TrimSuffix(m.Data["thing1"], "…")) ||
		m.Data["thing2"] != area.CountyName+"民族工作部门" || m.Data["phrase4"] != "已签收" || m.MiniprogramState == "" {
		t.Fatalf("acknowledgement: %+v", m)
	}
	returns := ntMessagesTo(e, openid, "TPL_RECORD_RETURNED")
	if len(returns) != 1 {
		t.Fatalf("return messages: %+v", returns)
	}
	m = returns[0]
	if m.Page != fmt.Sprintf("pages/record-detail/index?kind=visit&id=%d", visitID) || m.Data["thing3"] != note ||
		m.Data["phrase2"] != "已退回" || !strings.HasPrefix(body["title"].(string), strings.TrimSuffix(m.Data["thing1"], "…")) {
		t.Fatalf("return: %+v", m)
	}
	for _, q := range []string{
		fmt.Sprintf("subject_type=tip&subject_id=%d&event_kind=tip.acknowledged", tipID),
		fmt.Sprintf("subject_type=visit&subject_id=%d&event_kind=visit.returned", visitID),
	} {
		if r := ntFinalLog(t, staff, q); r.Status != "sent" || r.Channel != "subscribe" || r.TargetKind != "account" {
			t.Fatalf("%s: %+v", q, r)
		}
	}
	// The record the message opens shows the note.
	if v := getRecord(t, instructor, "visit", visitID); v.Status != "returned" || v.ReturnNote != note {
		t.Fatalf("visit: %+v", v)
	}

	// An instructor whose account has no WeChat bound (cleared underneath): skipped, with the reason.
	unbound, _ := e.InstructorClient(t, staff, unit)
	unboundVisit := unbound.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -time.Hour)))
	accountID, _ := ntMe(t, unbound)
	if err := e.DB().Exec("UPDATE accounts SET openid = NULL WHERE id = ?", accountID).Error; err != nil {
		t.Fatal(err)
	}
	sentBefore := len(e.WX.SubscribeMessages())
	staff.Must(http.StatusOK, "POST", recordPath("visit", unboundVisit, "return"), map[string]any{"note": "请补充照片"})
	if r := ntFinalLog(t, staff, fmt.Sprintf("subject_type=visit&subject_id=%d", unboundVisit)); r.Status != "skipped" || r.EventKind != "visit.returned" || r.TargetID != accountID || !strings.Contains(r.Reason, "未绑定微信") {
		t.Fatalf("unbound instructor: %+v", r)
	}
	for _, m := range e.WX.SubscribeMessages()[sentBefore:] {
		if strings.HasSuffix(m.Page, fmt.Sprintf("kind=visit&id=%d", unboundVisit)) {
			t.Fatalf("a message went out for the unbound instructor: %+v", m)
		}
	}
}
