package outbox_test

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/database/dbtest"
)

// rowsOfToday are payloads as the producers wrote them before the payload types existed (each
// a map marshalled by hand), copied from rows a test run left in its database. They stay
// readable: events written before an upgrade are fanned out after it.
var rowsOfToday = map[string]string{
	"tip.submitted":         `{"ack_deadline":"2026-12-06T17:26:15.625479861+08:00","action":"submit","actor":{"account_id":9,"role":"instructor","name":"测试3C9FAB"},"author_id":2,"from_status":"","level":"general","note":"","record_id":1,"record_kind":"tip","status":"submitted","title":"测试tip5FDAF3","unit_id":2}`,
	"tip.escalated":         `{"action":"escalate","actor":{"account_id":0,"role":"system","name":"系统"},"author_id":101,"automatic":true,"deadline":"2026-12-05T17:41:21.625479861+08:00","escalated_to":"province","from_status":"submitted","level":"critical","note":"超过签收时限未签收,系统自动上报","record_id":587,"record_kind":"tip","status":"escalated","title":"测试tipA1C706","unit_id":77}`,
	"tip.duplicate":         `{"action":"duplicate","actor":{"account_id":319,"role":"county_staff","name":"county_staff_C289CA"},"author_id":105,"duplicate_of":589,"from_status":"submitted","level":"serious","note":"同一事件","record_id":590,"record_kind":"tip","status":"submitted","title":"测试tip7A6438","unit_id":81}`,
	"sentiment.answered":    `{"action":"answer","actor":{"account_id":149,"role":"county_staff","name":"county_staff_193A68"},"answer":"管道已于本周维修完毕","author_id":59,"from_status":"open","note":"","record_id":7,"record_kind":"sentiment","status":"answered","title":"测试sentiment528F5D","unit_id":38}`,
	"sentiment.forwarded":   `{"action":"forward","actor":{"account_id":237,"role":"county_staff","name":"county_staff_FA77F9"},"author_id":84,"department":"县水务局","from_status":"open","note":"请一周内答复","record_id":560,"record_kind":"sentiment","status":"forwarded","title":"测试sentiment017C0A","unit_id":60}`,
	"visit.returned":        `{"action":"return","actor":{"account_id":153,"role":"county_staff","name":"county_staff_6CDCA4"},"author_id":60,"from_status":"submitted","note":"走访人数有误,请核对后重新提交","record_id":9,"record_kind":"visit","status":"returned","title":"测试visit15C443","unit_id":39}`,
	"mediation.followed_up": `{"action":"followups","actor":{"account_id":252,"role":"instructor","name":"测试C808D0"},"author_id":86,"followup_id":1,"from_status":"submitted","note":"回访:双方关系缓和","record_id":561,"record_kind":"mediation","status":"submitted","title":"测试mediation63C216","unit_id":62}`,
	"meeting.scheduled":     `{"agenda":"一、传达上级文件精神\n二、交流走访情况\n三、部署下月工作","audience":"list","ends_at":"2026-12-07T18:26:15+08:00","instructor_ids":[26,27],"meeting_id":1,"place":"长安区民宗局三楼会议室","region_code":"130102000000","starts_at":"2026-12-07T17:26:15+08:00","title":"民族团结进步创建月度例会0D9D10"}`,
	"meeting.changed":       `{"added_instructor_ids":[28],"agenda":"一、传达上级文件精神\n二、交流走访情况\n三、部署下月工作","audience":"list","changes":["place","starts_at","ends_at","instructor_ids"],"ends_at":"2026-12-07T20:26:15+08:00","instructor_ids":[26,27,28],"meeting_id":1,"place":"长安区政府二号楼会议室","region_code":"130102000000","removed_instructor_ids":[],"starts_at":"2026-12-07T19:26:15+08:00","title":"民族团结进步创建月度例会0D9D10"}`,
	"meeting.cancelled":     `{"agenda":"一、传达上级文件精神\n二、交流走访情况\n三、部署下月工作","audience":"list","ends_at":"2026-12-07T20:26:15+08:00","instructor_ids":[26,27],"meeting_id":1,"place":"长安区政府二号楼会议室","reason":"与县委中心组学习冲突,另行通知","region_code":"130102000000","starts_at":"2026-12-07T19:26:15+08:00","title":"民族团结进步创建月度例会0D9D10"}`,
	"meeting.reminder":      `{"agenda":"一、传达上级文件精神\n二、交流走访情况\n三、部署下月工作","audience":"list","ends_at":"2026-12-07T18:26:15+08:00","instructor_ids":[36,37],"meeting_id":3,"offset_minutes":1440,"place":"长安区民宗局三楼会议室","region_code":"130102000000","starts_at":"2026-12-07T17:26:15+08:00","starts_in":"1天","title":"民族团结进步创建月度例会A84EC7"}`,
	"task.assigned":         `{"assignee_region":"","due_at":"2026-12-05T17:31:21+08:00","instructor_ids":[106,107],"region_code":"130102000000","summary":"请于完成时限前对所在村(社区)开展一次涉民族因素矛盾纠纷排查, 拍照留存并反馈排查情况。","task_id":1,"title":"排查辖区涉民族因素矛盾纠纷897C0A"}`,
	"bulletin.published":    `{"bulletin_id":1,"published_at":"2026-12-05T17:26:15.625479861+08:00","region_code":"130102000000","scope":["130102000000"],"summary":"本月工作 开展民族团结进步宣传月活动 走访少数民族群众120户 请各指导员认真学习。","title":"工作简报第8E3E29期"}`,
	"group.disabled":        `{"audience":"county_staff","created_by":156,"group_id":6,"group_name":"通知群79962B","reason":"企业微信返回93000:webhook地址无效或机器人已被移除"}`,
}

func decode(t *testing.T, kind string) outbox.Payload {
	t.Helper()
	p, err := outbox.Decode(outbox.Event{Kind: kind, Payload: rowsOfToday[kind]})
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	if p.Kind().String() != kind {
		t.Fatalf("%s decoded as %s", kind, p.Kind())
	}
	return p
}

func TestRowsWrittenByTheUntypedProducersDecode(t *testing.T) {
	cst := time.FixedZone("", 8*3600)
	esc := decode(t, "tip.escalated").(outbox.Record)
	if esc.Event != outbox.TipEscalated || esc.RecordID != 587 || esc.AuthorID != 101 || esc.Level != "critical" ||
		esc.EscalatedTo != "province" || !esc.Automatic || esc.Deadline == nil || esc.Actor.Role != "system" || esc.Title != "测试tipA1C706" {
		t.Fatalf("tip.escalated: %+v", esc)
	}
	if sub := decode(t, "tip.submitted").(outbox.Record); sub.AckDeadline == nil || sub.Event != outbox.TipSteps.Submitted ||
		sub.Actor != (outbox.Actor{AccountID: 9, Role: "instructor", Name: "测试3C9FAB"}) {
		t.Fatalf("tip.submitted: %+v", sub)
	}
	if d := decode(t, "tip.duplicate").(outbox.Record); d.DuplicateOf != 589 || d.Note != "同一事件" {
		t.Fatalf("tip.duplicate: %+v", d)
	}
	if a := decode(t, "sentiment.answered").(outbox.Record); a.Answer != "管道已于本周维修完毕" || a.AuthorID != 59 {
		t.Fatalf("sentiment.answered: %+v", a)
	}
	if f := decode(t, "sentiment.forwarded").(outbox.Record); f.Department != "县水务局" {
		t.Fatalf("sentiment.forwarded: %+v", f)
	}
	if r := decode(t, "visit.returned").(outbox.Record); r.Event != outbox.VisitSteps.Returned || r.Note != "走访人数有误,请核对后重新提交" ||
		r.RecordKind != "visit" || r.UnitID != 39 || r.FromStatus != "submitted" || r.Status != "returned" || r.Action != "return" {
		t.Fatalf("visit.returned: %+v", r)
	}
	if f := decode(t, "mediation.followed_up").(outbox.Record); f.FollowupID != 1 {
		t.Fatalf("mediation.followed_up: %+v", f)
	}
	s := decode(t, "meeting.scheduled").(outbox.MeetingScheduled)
	if s.MeetingID != 1 || !slices.Equal(s.InstructorIDs, []int64{26, 27}) || s.Audience != "list" ||
		!s.StartsAt.Equal(time.Date(2026, 12, 7, 17, 26, 15, 0, cst)) || !strings.HasPrefix(s.Agenda, "一、") {
		t.Fatalf("meeting.scheduled: %+v", s)
	}
	if c := decode(t, "meeting.changed").(outbox.MeetingChanged); !slices.Equal(c.Changes, []string{"place", "starts_at", "ends_at", "instructor_ids"}) ||
		!slices.Equal(c.AddedInstructorIDs, []int64{28}) || c.RemovedInstructorIDs == nil || c.Place != "长安区政府二号楼会议室" {
		t.Fatalf("meeting.changed: %+v", c)
	}
	if c := decode(t, "meeting.cancelled").(outbox.MeetingCancelled); c.Reason != "与县委中心组学习冲突,另行通知" {
		t.Fatalf("meeting.cancelled: %+v", c)
	}
	if r := decode(t, "meeting.reminder").(outbox.MeetingReminder); r.StartsIn != "1天" || r.OffsetMinutes != 1440 || r.MeetingID != 3 {
		t.Fatalf("meeting.reminder: %+v", r)
	}
	if a := decode(t, "task.assigned").(outbox.TaskAssigned); a.TaskID != 1 || !slices.Equal(a.InstructorIDs, []int64{106, 107}) ||
		!a.DueAt.Equal(time.Date(2026, 12, 5, 17, 31, 21, 0, cst)) || a.Summary == "" {
		t.Fatalf("task.assigned: %+v", a)
	}
	if b := decode(t, "bulletin.published").(outbox.BulletinPublished); b.BulletinID != 1 || !slices.Equal(b.Scope, []string{"130102000000"}) ||
		b.PublishedAt.IsZero() || b.Title != "工作简报第8E3E29期" {
		t.Fatalf("bulletin.published: %+v", b)
	}
	if g := decode(t, "group.disabled").(outbox.GroupDisabled); g.CreatedBy != 156 || g.GroupName != "通知群79962B" || g.Audience != "county_staff" {
		t.Fatalf("group.disabled: %+v", g)
	}
	// A kind no longer declared is an error the dispatcher logs, not a panic.
	if _, err := outbox.Decode(outbox.Event{Kind: "visit.archived", Payload: "{}"}); err == nil {
		t.Fatal("an undeclared kind decoded")
	}
}

func openDB(t *testing.T) *database.DB {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, dbtest.DSN(t, "outbox"), database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, migrations.All); err != nil {
		t.Fatal(err)
	}
	return db
}

func keys(t *testing.T, raw string) []string {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(m))
}

// What Write stores decodes to the same payload, under the same JSON keys the untyped producers
// wrote for the same facts.
func TestWriteStoresWhatDecodeReads(t *testing.T) {
	db := openDB(t)
	at := time.Date(2026, 12, 5, 9, 26, 15, 0, time.UTC)
	for kind := range rowsOfToday {
		old := decode(t, kind)
		if err := outbox.Write(db.DB, outbox.Entry{SubjectType: "s", SubjectID: 7, RegionCode: "130102000000", At: at, Payload: old}); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		var row outbox.Event
		if err := db.Order("id DESC").Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		if row.Kind != kind || row.SubjectType != "s" || row.SubjectID != 7 || row.RegionCode != "130102000000" || row.ConsumedAt != nil {
			t.Fatalf("row %+v", row)
		}
		if got, want := keys(t, row.Payload), keys(t, rowsOfToday[kind]); !slices.Equal(got, want) {
			t.Errorf("%s writes keys %v, the untyped producer wrote %v", kind, got, want)
		}
		back, err := outbox.Decode(row)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(back)
		b, _ := json.Marshal(old)
		if string(a) != string(b) || back.Kind() != old.Kind() {
			t.Errorf("%s: wrote %s, read back %s", kind, b, a)
		}
	}
}

// A payload goes out only under a kind declared for its type: a record step cannot be written as
// a meeting kind, and a record step without a kind is not written at all.
func TestWriteRefusesAKindOfAnotherPayload(t *testing.T) {
	db := openDB(t)
	for _, p := range []outbox.Payload{
		outbox.Record{Event: outbox.MeetingScheduledKind, RecordID: 1},
		outbox.Record{RecordID: 1},
		nil,
	} {
		if err := outbox.Write(db.DB, outbox.Entry{SubjectType: "tip", SubjectID: 1, At: time.Now(), Payload: p}); err == nil {
			t.Errorf("%#v was written", p)
		}
	}
	var n int64
	db.Model(&outbox.Event{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d rows written", n)
	}
	if got := reflect.TypeOf(decode(t, "meeting.reminder")); got != reflect.TypeFor[outbox.MeetingReminder]() {
		t.Fatalf("meeting.reminder decodes as %v", got)
	}
}
