package app_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
)

func tipBody(e *apitest.Env, level string) map[string]any {
	body := apitest.RecordBody("tip", phoneTime(e, -10*time.Minute))
	body["tip"].(map[string]any)["level"] = level
	return body
}

func TestTipLifecycleWithTimeline(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	id := w.author.Submit("tip", tipBody(e, "serious"))
	path := recordPath("tip", id)

	var v recordView
	w.staff.Must(http.StatusOK, "POST", path+"/acknowledge", map[string]any{"note": "已签收,马上核实"}).JSON(t, &v)
	if v.Status != "acknowledged" || v.Tip.AckDeadline != nil || v.Editable {
		t.Fatalf("acknowledged: %+v %+v", v, v.Tip)
	}
	// Staff acted: the author can no longer change or withdraw it.
	if r := w.author.Must(http.StatusConflict, "PATCH", path, map[string]any{"title": "改"}).Err(t); r.Code != "record_locked" {
		t.Fatalf("edit after acknowledge: %+v", r)
	}
	w.author.Must(http.StatusConflict, "POST", path+"/withdraw", map[string]any{"reason": "误报"})
	// Instructors do not act on tips.
	w.author.Must(http.StatusForbidden, "POST", path+"/handle", nil)

	w.staff.Must(http.StatusOK, "POST", path+"/handle", map[string]any{"note": "已派人到现场"})
	v = recordView{}
	w.staff.Must(http.StatusOK, "POST", path+"/resolve", map[string]any{"note": "双方达成谅解"}).JSON(t, &v)
	if v.Status != "resolved" || v.StatusName != "已化解" {
		t.Fatalf("resolved: %+v", v)
	}
	if r := w.staff.Must(http.StatusConflict, "POST", path+"/acknowledge", nil).Err(t); r.Code != "invalid_transition" {
		t.Fatalf("acknowledge a resolved tip: %+v", r)
	}
	w.staff.Must(http.StatusConflict, "POST", path+"/return", map[string]any{"note": "请补充"})

	// The author follows every step with who and when.
	v = getRecord(t, w.author, "tip", id)
	if got := v.actions(); !slices.Equal(got, []string{"submit", "acknowledge", "handle", "resolve"}) {
		t.Fatalf("timeline actions %v", got)
	}
	steps := v.Timeline
	if steps[1].Actor.Role != "county_staff" || steps[1].Actor.Name == "" || steps[1].Note != "已签收,马上核实" ||
		steps[1].FromStatus != "submitted" || steps[1].ToStatus != "acknowledged" || steps[3].ToStatus != "resolved" {
		t.Fatalf("timeline: %+v", steps)
	}
	for i := 1; i < len(steps); i++ {
		if steps[i].CreatedAt.Before(steps[i-1].CreatedAt) {
			t.Fatalf("timeline out of order: %+v", steps)
		}
	}
	for _, kind := range []string{"tip.submitted", "tip.acknowledged", "tip.handling", "tip.resolved"} {
		if n := countRows(t, e, "SELECT COUNT(*) FROM events WHERE subject_id = ? AND kind = ?", id, kind); n != 1 {
			t.Errorf("event %s: %d rows", kind, n)
		}
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM record_versions WHERE record_id = ?", id); n != 4 || v.Version != 4 {
		t.Fatalf("versions: %d rows, version %d", n, v.Version)
	}
}

func TestTipManualEscalation(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	city := w.callers["city_in"]

	serious := w.author.Submit("tip", tipBody(e, "serious"))
	var v recordView
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", serious, "escalate"), map[string]any{"note": "涉及两个乡镇,请市里协调"}).JSON(t, &v)
	if v.Status != "escalated" || v.Tip.EscalatedTo != "city" {
		t.Fatalf("escalated: %+v %+v", v, v.Tip)
	}
	if r := w.staff.Must(http.StatusConflict, "POST", recordPath("tip", serious, "escalate"), nil).Err(t); r.Code != "invalid_transition" {
		t.Fatalf("escalate twice: %+v", r)
	}
	var inbox recordList
	city.Must(http.StatusOK, "GET", "/api/v1/tips?escalated_to=city&status=escalated", nil).JSON(t, &inbox)
	if !inbox.has(serious) {
		t.Fatalf("city inbox lacks tip %d", serious)
	}
	// The city takes it over.
	city.Must(http.StatusOK, "POST", recordPath("tip", serious, "acknowledge"), nil).JSON(t, &v)
	if v.Status != "acknowledged" || v.Tip.EscalatedTo != "city" {
		t.Fatalf("city acknowledged: %+v", v)
	}

	major := w.author.Submit("tip", tipBody(e, "major"))
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", major, "acknowledge"), nil)
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", major, "escalate"), nil).JSON(t, &v)
	if v.Tip.EscalatedTo != "province" {
		t.Fatalf("major tip escalated to %q, want province", v.Tip.EscalatedTo)
	}
	w.callers["province"].Must(http.StatusOK, "GET", "/api/v1/tips?escalated_to=province", nil).JSON(t, &inbox)
	if !inbox.has(major) || inbox.has(serious) {
		t.Fatalf("province inbox: %+v", inbox.Items)
	}
}

// Not parallel: servers ahead run their sweeps (the escalation among them) over every test's tips.
func TestUnacknowledgedTipEscalatesByItself(t *testing.T) {
	w := newRecordWorld(t)
	e := w.e
	ctx := context.Background()
	general := w.author.Submit("tip", tipBody(e, "general"))
	critical := w.author.Submit("tip", tipBody(e, "critical"))
	handled := w.author.Submit("tip", tipBody(e, "critical"))
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", handled, "acknowledge"), nil)

	// 20 minutes later, on a freshly started instance (the deadline is a column, so a restart
	// loses nothing): only the critical tip is overdue.
	soon := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(20*time.Minute)))
	if _, err := soon.App.Records.EscalateOverdue(ctx); err != nil {
		t.Fatal(err)
	}
	if v := getRecord(t, w.staff, "tip", general); v.Status != "submitted" {
		t.Fatalf("general tip after 20 min: %s", v.Status)
	}
	if v := getRecord(t, w.staff, "tip", handled); v.Status != "acknowledged" {
		t.Fatalf("acknowledged tip after 20 min: %s", v.Status)
	}
	v := getRecord(t, w.staff, "tip", critical)
	last := v.Timeline[len(v.Timeline)-1]
	if v.Status != "escalated" || v.Tip.EscalatedTo != "province" || v.Tip.AckDeadline != nil ||
		last.Action != "escalate" || last.Actor.Role != "system" || last.Data["automatic"] != true {
		t.Fatalf("critical tip: %+v %+v %+v", v, v.Tip, last)
	}

	// A day later the general one goes to the city.
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(25*time.Hour)))
	if _, err := later.App.Records.EscalateOverdue(ctx); err != nil {
		t.Fatal(err)
	}
	if v := getRecord(t, w.staff, "tip", general); v.Status != "escalated" || v.Tip.EscalatedTo != "city" {
		t.Fatalf("general tip after 25 h: %+v", v.Tip)
	}
	// Sweeping again changes nothing.
	if _, err := later.App.Records.EscalateOverdue(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{general, critical} {
		if n := countRows(t, e, "SELECT COUNT(*) FROM record_steps WHERE record_id = ? AND action = 'escalate'", id); n != 1 {
			t.Fatalf("tip %d escalated %d times", id, n)
		}
		if n := countRows(t, e, "SELECT COUNT(*) FROM events WHERE subject_id = ? AND kind = 'tip.escalated'", id); n != 1 {
			t.Fatalf("tip %d: %d escalation events", id, n)
		}
	}
	// An escalated tip is still the county's to acknowledge.
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", general, "acknowledge"), nil)

	// Returned and resubmitted, a tip waits for acknowledgement afresh, and escalates again.
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", critical, "return"), map[string]any{"note": "请补充涉及人员"})
	w.author.Must(http.StatusOK, "PATCH", recordPath("tip", critical), map[string]any{"tip": map[string]any{"people_involved": 9}})
	var v2 recordView
	w.author.Must(http.StatusOK, "POST", recordPath("tip", critical, "resubmit"), nil).JSON(t, &v2)
	if v2.Status != "submitted" || v2.Tip.AckDeadline == nil || v2.Tip.EscalatedTo != "" {
		t.Fatalf("resubmitted tip: %+v %+v", v2, v2.Tip)
	}
	if _, err := later.App.Records.EscalateOverdue(ctx); err != nil {
		t.Fatal(err)
	}
	if v := getRecord(t, w.staff, "tip", critical); v.Status != "escalated" || v.Tip.EscalatedTo != "province" {
		t.Fatalf("resubmitted tip after its deadline: %+v", v.Tip)
	}
}

// Not parallel: servers ahead run their sweeps (the escalation among them) over every test's tips.
func TestConcurrentSweepsEscalateOnce(t *testing.T) {
	w := newRecordWorld(t)
	e := w.e
	var ids []int64
	for i := 0; i < 5; i++ {
		ids = append(ids, w.author.Submit("tip", tipBody(e, "critical")))
	}
	when := e.Clock.Now().Add(time.Hour)
	instances := []*apitest.Env{apitest.Another(t, clock.NewFake(when)), apitest.Another(t, clock.NewFake(when))}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = instances[i%2].App.Records.EscalateOverdue(context.Background())
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if v := getRecord(t, w.staff, "tip", id); v.Status != "escalated" {
			t.Fatalf("tip %d: %s", id, v.Status)
		}
		steps := countRows(t, e, "SELECT COUNT(*) FROM record_steps WHERE record_id = ? AND action = 'escalate'", id)
		events := countRows(t, e, "SELECT COUNT(*) FROM events WHERE subject_id = ? AND kind = 'tip.escalated'", id)
		versions := countRows(t, e, "SELECT COUNT(*) FROM record_versions WHERE record_id = ?", id)
		if steps != 1 || events != 1 || versions != 2 {
			t.Fatalf("tip %d: %d escalation steps, %d events, %d versions; want 1, 1, 2", id, steps, events, versions)
		}
	}
}

// Not parallel: a server an hour ahead runs its sweeps over every test's data.
func TestDuplicateTipFollowsOriginal(t *testing.T) {
	w := newRecordWorld(t)
	e := w.e
	// A second instructor of the same county reports the same incident.
	reporter, _ := e.InstructorClient(t, w.staff, w.staff.Unit("community", w.area.County))
	original := w.author.Submit("tip", tipBody(e, "serious"))
	dup := reporter.Submit("tip", tipBody(e, "serious"))

	// Out of scope: another county cannot see either tip; a tip elsewhere is no original.
	w.callers["county_out"].Must(http.StatusNotFound, "POST", recordPath("tip", dup, "duplicate"), map[string]any{"of": original})
	elsewhere := w.callers["instructor_other"].Submit("tip", tipBody(e, "general"))
	if r := w.staff.Must(http.StatusBadRequest, "POST", recordPath("tip", dup, "duplicate"), map[string]any{"of": elsewhere}).Err(t); r.Details[0].Field != "of" {
		t.Fatalf("original out of scope: %+v", r)
	}
	w.staff.Must(http.StatusBadRequest, "POST", recordPath("tip", dup, "duplicate"), map[string]any{"of": dup})
	w.staff.Must(http.StatusBadRequest, "POST", recordPath("tip", dup, "duplicate"), map[string]any{})

	var v recordView
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", dup, "duplicate"), map[string]any{"of": original, "note": "同一事件"}).JSON(t, &v)
	if v.Tip.DuplicateOf != original || v.Status != "submitted" || v.Tip.AckDeadline != nil || v.Editable {
		t.Fatalf("duplicate: %+v %+v", v, v.Tip)
	}
	// The duplicate is acted on through its original.
	if r := w.staff.Must(http.StatusConflict, "POST", recordPath("tip", dup, "acknowledge"), nil).Err(t); r.Code != "tip_is_duplicate" {
		t.Fatalf("acting on a duplicate: %+v", r)
	}
	reporter.Must(http.StatusConflict, "PATCH", recordPath("tip", dup), map[string]any{"title": "改"})

	w.staff.Must(http.StatusOK, "POST", recordPath("tip", original, "acknowledge"), nil)
	if v := getRecord(t, reporter, "tip", dup); v.Status != "acknowledged" {
		t.Fatalf("duplicate after the original was acknowledged: %s", v.Status)
	}
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", original, "resolve"), map[string]any{"note": "已化解"})
	v = getRecord(t, reporter, "tip", dup)
	if v.Status != "resolved" || v.actions()[len(v.Timeline)-1] != "follow" {
		t.Fatalf("duplicate after the original was resolved: %+v", v)
	}
	// Lists filter by the followed state too.
	var resolved recordList
	w.staff.Must(http.StatusOK, "GET", "/api/v1/tips?status=resolved&limit=100", nil).JSON(t, &resolved)
	if !resolved.has(dup) || !resolved.has(original) {
		t.Fatalf("resolved list lacks the pair")
	}

	// A duplicate of an unacknowledged tip escalates with it.
	first := w.author.Submit("tip", tipBody(e, "critical"))
	second := reporter.Submit("tip", tipBody(e, "critical"))
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", second, "duplicate"), map[string]any{"of": first})
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(time.Hour)))
	if _, err := later.App.Records.EscalateOverdue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v := getRecord(t, w.staff, "tip", second); v.Status != "escalated" || v.Tip.EscalatedTo != "province" {
		t.Fatalf("duplicate of an escalated tip: %+v %+v", v, v.Tip)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM events WHERE subject_id = ? AND kind = 'tip.escalated'", second); n != 0 {
		t.Fatalf("a duplicate raised its own alert")
	}
}
