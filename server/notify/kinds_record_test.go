package notify

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/region"
)

// recordEvent writes an outbox event as server/record's workflow does: subject type is the
// record kind, the payload carries the author and the acting staff member.
func (e *testEnv) recordEvent(kind, subjectType string, subjectID, authorID int64, title, note string) int64 {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{
		"record_id": subjectID, "record_kind": subjectType, "title": title, "note": note, "author_id": authorID,
		"status": "x", "actor": map[string]any{"account_id": 9, "role": "county_staff", "name": "王科长"},
	})
	ev := Event{Kind: kind, SubjectType: subjectType, SubjectID: subjectID, RegionCode: town, Payload: string(b), CreatedAt: e.clock.Now()}
	if err := e.db.Create(&ev).Error; err != nil {
		e.t.Fatal(err)
	}
	return ev.ID
}

// instructorAccount creates an instructor's account; openid "" leaves WeChat unbound.
func (e *testEnv) instructorAccount(instructorID int64, openid string) int64 {
	e.t.Helper()
	a := testAccount{Role: "instructor", RegionCode: town, InstructorID: &instructorID, Status: "active",
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if openid != "" {
		a.OpenID = &openid
	}
	if err := e.db.Create(&a).Error; err != nil {
		e.t.Fatal(err)
	}
	return a.ID
}

// The author of a tip hears that staff acknowledged it, and the author of any returned record
// hears why, by one subscribe message each with the configured template and page; an author
// without WeChat is skipped with the reason, one without an account gets no row.
func TestAuthorHearsBack(t *testing.T) {
	e := newTestEnv(t)
	def := Templates(config.Default().Notify)
	for name, id := range map[string]string{"tip_acknowledged": "TPL_ACK", "record_returned": "TPL_RETURNED"} {
		tpl := def[name]
		tpl.ID = id
		e.tpl[name] = tpl
	}
	if err := e.db.Create(&region.Region{Code: county, ParentCode: city, Name: "长安区", Level: region.LevelCounty}).Error; err != nil {
		t.Fatal(err)
	}
	author := e.instructorAccount(555, "o_author")
	e.grant(author, "TPL_ACK", SubOneTime, 1)
	e.grant(author, "TPL_RETURNED", SubOneTime, 1)
	unbound := e.instructorAccount(556, "")

	ack := e.recordEvent("tip.acknowledged", "tip", 42, 555, "村民宅基地纠纷", "")
	note := "走访人数与签到表不一致,请核对后补充走访照片再重新提交"
	returned := e.recordEvent("visit.returned", "visit", 43, 555, "入户走访马家", note)
	ackUnbound := e.recordEvent("tip.acknowledged", "tip", 44, 556, "t", "")
	noAccount := e.recordEvent("mediation.returned", "mediation", 45, 557, "t", "请补充调解协议")
	d := e.dispatcher(testOptions)
	d.regions = region.NewStore(e.db.DB) // names the acknowledging department
	e.drain(d, 5)

	subs := e.wx.SubscribeMessages()
	if len(subs) != 2 {
		t.Fatalf("subscribe messages: %+v", subs)
	}
	byTemplate := map[string]int{}
	for i, m := range subs {
		byTemplate[m.TemplateID] = i
		if m.ToUser != "o_author" {
			t.Fatalf("message to %q: %+v", m.ToUser, m)
		}
	}
	m := subs[byTemplate["TPL_ACK"]]
	if m.TemplateID != "TPL_ACK" || m.Page != "pages/record-detail/index?kind=tip&id=42" ||
		m.Data["thing1"] != "村民宅基地纠纷" || m.Data["thing2"] != "长安区民族工作部门" || m.Data["phrase4"] != "已签收" ||
		m.Data["time3"] != "2026-03-02 17:00" {
		t.Fatalf("acknowledged: %+v", m)
	}
	m = subs[byTemplate["TPL_RETURNED"]]
	if m.TemplateID != "TPL_RETURNED" || m.Page != "pages/record-detail/index?kind=visit&id=43" ||
		m.Data["thing1"] != "入户走访马家" || m.Data["phrase2"] != "已退回" || m.Data["time4"] != "2026-03-02 17:00" {
		t.Fatalf("returned: %+v", m)
	}
	// The note is cut to a thing's 20 characters; the whole of it is in the stored message.
	if got := m.Data["thing3"]; utf8.RuneCountInString(got) != 20 || !strings.HasPrefix(note, strings.TrimSuffix(got, "…")) {
		t.Fatalf("note not cut to 20 characters: %q", got)
	}
	for _, tc := range []struct {
		event int64
		text  []string
	}{
		{ack, []string{"您报送的线索「村民宅基地纠纷」已由长安区民族工作部门签收"}},
		{returned, []string{"走访日志「入户走访马家」已被长安区民族工作部门退回修改", "退回原因:" + note, "重新提交"}},
	} {
		rows := e.notifications("event_id = ?", tc.event)
		if len(rows) != 1 || rows[0].Status != StatusSent || rows[0].Target != id(author) {
			t.Fatalf("event %d: %+v", tc.event, rows)
		}
		var msg Message
		if err := json.Unmarshal([]byte(rows[0].Content), &msg); err != nil {
			t.Fatal(err)
		}
		for _, s := range tc.text {
			if !strings.Contains(msg.Text, s) {
				t.Errorf("event %d: text %q lacks %q", tc.event, msg.Text, s)
			}
		}
	}

	rows := e.notifications("event_id = ?", ackUnbound)
	if len(rows) != 1 || rows[0].Target != id(unbound) || rows[0].Status != StatusSkipped || !strings.Contains(rows[0].LastError, "未绑定微信") {
		t.Fatalf("author without WeChat: %+v", rows)
	}
	if rows := e.notifications("event_id = ?", noAccount); len(rows) != 0 {
		t.Fatalf("author without an account: %+v", rows)
	}
	var sub Subscription
	e.db.Where("account_id = ? AND template_id = ?", author, "TPL_RETURNED").Take(&sub)
	if sub.Remaining != 0 {
		t.Fatalf("grant not spent: %+v", sub)
	}
}

// One acceptance of record_returned covers the four kinds: each is sent with that template, to
// the record's own detail page.
func TestReturnedKindsShareOneTemplate(t *testing.T) {
	e := newTestEnv(t)
	tpl := Templates(config.Default().Notify)["record_returned"]
	tpl.ID = "TPL_RETURNED"
	e.tpl["record_returned"] = tpl
	author := e.instructorAccount(600, "o_four")
	e.grant(author, "TPL_RETURNED", SubOneTime, 4)
	kindsReturned := []string{"visit", "sentiment", "tip", "mediation"}
	for i, k := range kindsReturned {
		e.recordEvent(k+".returned", k, int64(70+i), 600, k+"记录", "请补充")
		e.clock.Advance(time.Second)
	}
	e.drain(e.dispatcher(testOptions), 5)
	var pages []string
	for _, m := range e.wx.SubscribeMessages() {
		if m.TemplateID != "TPL_RETURNED" || m.ToUser != "o_four" || m.Data["thing3"] != "请补充" {
			t.Fatalf("message: %+v", m)
		}
		pages = append(pages, m.Page)
	}
	slices.Sort(pages)
	want := []string{"pages/record-detail/index?kind=mediation&id=73", "pages/record-detail/index?kind=sentiment&id=71",
		"pages/record-detail/index?kind=tip&id=72", "pages/record-detail/index?kind=visit&id=70"}
	if !slices.Equal(pages, want) {
		t.Fatalf("pages %v, want %v", pages, want)
	}
	// The subscriptions API names every event a template stands for.
	s := NewService(e.db.DB, e.box, nil, e.clock, e.tpl, nil)
	if got := s.templateEvents()["TPL_RETURNED"]; !slices.Equal(got, []string{"mediation.returned", "sentiment.returned", "tip.returned", "visit.returned"}) {
		t.Fatalf("template events: %v", got)
	}
}
