package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/region"
)

type tkAssignee struct {
	InstructorID int64      `json:"instructor_id"`
	Name         string     `json:"name"`
	UnitName     string     `json:"unit_name"`
	State        string     `json:"state"`
	Overdue      bool       `json:"overdue"`
	ReportCount  int        `json:"report_count"`
	LastReportAt *time.Time `json:"last_report_at"`
	DoneAt       *time.Time `json:"done_at"`
}

type tkProgress struct {
	Assignees, Assigned, Done, Overdue int64
	InProgress                         int64 `json:"in_progress"`
}

type tkView struct {
	ID             int64        `json:"id"`
	Title          string       `json:"title"`
	Description    string       `json:"description"`
	DueAt          time.Time    `json:"due_at"`
	Overdue        bool         `json:"overdue"`
	RegionCode     string       `json:"region_code"`
	RegionName     string       `json:"region_name"`
	AssigneeRegion string       `json:"assignee_region"`
	AssigneeCount  int          `json:"assignee_count"`
	Attachments    []uploadView `json:"attachments"`
	Progress       *tkProgress  `json:"progress"`
	Assignees      []tkAssignee `json:"assignees"`
	Mine           *tkAssignee  `json:"mine"`
}

type tkList struct {
	Items []tkView `json:"items"`
}

func (l tkList) find(id int64) (tkView, bool) {
	i := slices.IndexFunc(l.Items, func(v tkView) bool { return v.ID == id })
	if i < 0 {
		return tkView{}, false
	}
	return l.Items[i], true
}

type tkReport struct {
	ID             int64        `json:"id"`
	TaskID         int64        `json:"task_id"`
	InstructorID   int64        `json:"instructor_id"`
	InstructorName string       `json:"instructor_name"`
	ClientID       string       `json:"client_id"`
	Text           string       `json:"text"`
	Done           bool         `json:"done"`
	Attachments    []uploadView `json:"attachments"`
}

func tkPath(id int64, rest ...string) string {
	p := fmt.Sprintf("/api/v1/tasks/%d", id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// taskBody is a valid task due in d (by the shared clock) for the instructors.
func taskBody(e *apitest.Env, d time.Duration, ids ...int64) map[string]any {
	return map[string]any{
		"title":       "排查辖区涉民族因素矛盾纠纷" + apitest.Unique(),
		"description": "请于完成时限前对所在村(社区)开展一次涉民族因素矛盾纠纷排查,\n拍照留存并反馈排查情况。",
		"due_at":      phoneTime(e, d), "instructor_ids": ids,
	}
}

func createTask(t *testing.T, c *apitest.Client, body map[string]any) tkView {
	t.Helper()
	var v tkView
	c.Must(http.StatusCreated, "POST", "/api/v1/tasks", body).JSON(t, &v)
	return v
}

func listTasks(t *testing.T, c *apitest.Client, query string) tkList {
	t.Helper()
	var l tkList
	c.Must(http.StatusOK, "GET", "/api/v1/tasks"+query, nil).JSON(t, &l)
	return l
}

// A county assigns a task to two of its instructors with an attachment; the notice is in the
// outbox and reaches the assignees; one reports progress with a photo and then completion, the
// other does nothing and is overdue once the due time passes.
// Not parallel: a server ten minutes ahead runs its sweeps over every test's data.
func TestTaskAssignReportAndOverdue(t *testing.T) {
	w := newMeetingWorld(t)
	e := w.e
	a, b := w.ins[0], w.ins[1]
	aID, bID := w.insIDs[0], w.insIDs[1]
	tpl := e.Config.Notify.Templates["task_assigned"].ID
	if tpl != "" {
		for _, c := range []*apitest.Client{a, b} {
			c.Must(http.StatusOK, "POST", "/api/v1/subscriptions", map[string]any{"results": map[string]string{tpl: "accept"}})
		}
	}

	file := mustUpload(t, w.staff, "排查表.png", pngImage(t))
	body := taskBody(e, 5*time.Minute, aID, bID, aID)
	tk := createTask(t, w.staff, mergeBody(body, map[string]any{"attachments": []int64{file.ID}}))
	if tk.AssigneeCount != 2 || tk.RegionCode != w.area.County || tk.RegionName != w.area.CountyName || tk.Overdue ||
		len(tk.Attachments) != 1 || tk.Attachments[0].ID != file.ID || tk.Progress == nil || tk.Progress.Assigned != 2 ||
		len(tk.Assignees) != 2 || tk.Assignees[0].Name == "" || tk.Assignees[0].UnitName == "" {
		t.Fatalf("created: %+v", tk)
	}

	// The notice is in the outbox, written with the task, addressed to each assignee.
	raw := eventPayloads(t, e, "task", tk.ID, "task.assigned")
	if len(raw) != 1 {
		t.Fatalf("%d task.assigned events", len(raw))
	}
	var payload struct {
		TaskID        int64   `json:"task_id"`
		Title         string  `json:"title"`
		DueAt         string  `json:"due_at"`
		RegionCode    string  `json:"region_code"`
		InstructorIDs []int64 `json:"instructor_ids"`
	}
	if err := json.Unmarshal([]byte(raw[0]), &payload); err != nil {
		t.Fatal(err)
	}
	if payload.TaskID != tk.ID || payload.Title != tk.Title || payload.RegionCode != w.area.County ||
		!slices.Equal(payload.InstructorIDs, []int64{aID, bID}) || !strings.HasSuffix(payload.DueAt, "+08:00") {
		t.Fatalf("payload: %s", raw[0])
	}
	// Through notify: a subscribe message to each assignee's account (sent when the template is
	// configured and accepted, else logged as skipped).
	accounts := map[string]int64{}
	for _, id := range []int64{aID, bID} {
		var acc int64
		e.DB().Raw("SELECT id FROM accounts WHERE instructor_id = ?", id).Scan(&acc)
		accounts[fmt.Sprint(acc)] = id
	}
	type row struct {
		Target, Status, Channel string
	}
	var rows []row
	ntWait(t, "the task notices", func() bool {
		rows = nil
		e.DB().Raw("SELECT target, status, channel FROM notifications WHERE event_kind = 'task.assigned' AND subject_id = ?", tk.ID).Scan(&rows)
		done := len(rows) == 2
		for _, r := range rows {
			done = done && r.Status != "pending" && r.Status != "sending"
		}
		return done
	})
	for _, r := range rows {
		if _, ok := accounts[r.Target]; !ok || r.Channel != "subscribe" {
			t.Fatalf("notice to %+v", r)
		}
		if (tpl == "" && r.Status != "skipped") || (tpl != "" && r.Status != "sent") {
			t.Fatalf("notice %+v with template %q", r, tpl)
		}
	}
	if tpl != "" {
		subs := ntSubscribedTo(e, tk.Title)
		if subs[openID(t, e, aID)] != 1 || subs[openID(t, e, bID)] != 1 {
			t.Fatalf("subscribe messages: %v", subs)
		}
	}

	// The assignees see it with their state.
	l := listTasks(t, a, "")
	if v, ok := l.find(tk.ID); !ok || v.Mine == nil || v.Mine.State != "assigned" || v.Progress != nil {
		t.Fatalf("assignee list: %+v", l.Items)
	}
	if _, ok := listTasks(t, w.ins[2], "").find(tk.ID); ok {
		t.Fatal("an instructor not assigned lists the task")
	}
	var v tkView
	a.Must(http.StatusOK, "GET", tkPath(tk.ID), nil).JSON(t, &v)
	if len(v.Attachments) != 1 || v.Mine == nil || v.Assignees != nil {
		t.Fatalf("assignee view: %+v", v)
	}

	// Progress with a photo, retried by a weak network: stored once.
	photo := mustUpload(t, a, "排查现场.png", pngImage(t))
	clientID := apitest.ClientID()
	report := map[string]any{"client_id": clientID, "text": "已完成3个村民小组的排查,未发现矛盾纠纷", "attachments": []int64{photo.ID}, "done": false}
	var r1, r2 tkReport
	a.Must(http.StatusCreated, "POST", tkPath(tk.ID, "reports"), report).JSON(t, &r1)
	a.Must(http.StatusOK, "POST", tkPath(tk.ID, "reports"), report).JSON(t, &r2)
	if r1.ID != r2.ID || r1.Done || len(r1.Attachments) != 1 || r1.Attachments[0].ID != photo.ID || r1.InstructorName == "" || r1.ClientID != clientID {
		t.Fatalf("reports: %+v %+v", r1, r2)
	}
	a.Must(http.StatusOK, "GET", tkPath(tk.ID), nil).JSON(t, &v)
	if v.Mine.State != "in_progress" || v.Mine.ReportCount != 1 || v.Mine.LastReportAt == nil || v.Mine.DoneAt != nil {
		t.Fatalf("after progress: %+v", v.Mine)
	}
	// Completion; a later supplement keeps the completion time.
	var done tkReport
	a.Must(http.StatusCreated, "POST", tkPath(tk.ID, "reports"), map[string]any{"text": "全部排查完毕", "done": true}).JSON(t, &done)
	a.Must(http.StatusOK, "GET", tkPath(tk.ID), nil).JSON(t, &v)
	doneAt := v.Mine.DoneAt
	if !done.Done || v.Mine.State != "done" || doneAt == nil || v.Mine.ReportCount != 2 {
		t.Fatalf("after completion: %+v", v.Mine)
	}
	a.Must(http.StatusCreated, "POST", tkPath(tk.ID, "reports"), map[string]any{"text": "补充:排查台账已归档"})
	a.Must(http.StatusOK, "GET", tkPath(tk.ID), nil).JSON(t, &v)
	if v.Mine.State != "done" || !v.Mine.DoneAt.Equal(*doneAt) || v.Mine.ReportCount != 3 {
		t.Fatalf("after a supplement: %+v", v.Mine)
	}

	// Staff see the progress and every report; an assignee only their own.
	w.staff.Must(http.StatusOK, "GET", tkPath(tk.ID), nil).JSON(t, &v)
	if v.Progress.Done != 1 || v.Progress.Assigned != 1 || v.Progress.Assignees != 2 || v.Progress.Overdue != 0 {
		t.Fatalf("staff progress: %+v", v.Progress)
	}
	var reports struct {
		Items []tkReport `json:"items"`
	}
	for _, who := range []string{"county_in", "city_in", "province"} {
		w.callers[who].Must(http.StatusOK, "GET", tkPath(tk.ID, "reports"), nil).JSON(t, &reports)
		if len(reports.Items) != 3 || reports.Items[2].ID != r1.ID || len(reports.Items[2].Attachments) != 1 ||
			!strings.HasPrefix(reports.Items[2].Attachments[0].URL, fmt.Sprintf("/api/v1/files/%d?exp=", photo.ID)) {
			t.Fatalf("%s reports: %+v", who, reports.Items)
		}
	}
	w.staff.Must(http.StatusOK, "GET", tkPath(tk.ID, "reports")+fmt.Sprintf("?instructor_id=%d", bID), nil).JSON(t, &reports)
	if len(reports.Items) != 0 {
		t.Fatalf("reports of the other assignee: %+v", reports.Items)
	}
	b.Must(http.StatusOK, "GET", tkPath(tk.ID, "reports"), nil).JSON(t, &reports)
	if len(reports.Items) != 0 {
		t.Fatalf("an assignee sees another's reports: %+v", reports.Items)
	}
	// The staff list carries the progress counts; nothing is overdue yet.
	if v, ok := listTasks(t, w.staff, "").find(tk.ID); !ok || v.Progress == nil || v.Progress.Done != 1 || v.Progress.Assignees != 2 {
		t.Fatalf("staff list: %+v", v)
	}
	if _, ok := listTasks(t, w.staff, "?overdue=true").find(tk.ID); ok {
		t.Fatal("overdue before the due time")
	}

	// Ten minutes later (within the access token's life) the task is overdue for who has not done it.
	later := apitest.Another(t, clock.NewFake(e.Clock.Now().Add(10*time.Minute)))
	for _, who := range []string{"county_in", "city_in", "province"} {
		l := listTasks(t, later.As(t, w.callers[who].Token), "?overdue=true&limit=100")
		v, ok := l.find(tk.ID)
		if !ok || !v.Overdue || v.Progress == nil || v.Progress.Overdue != 1 || v.Progress.Done != 1 {
			t.Fatalf("%s overdue list: %+v", who, v)
		}
	}
	for _, who := range []string{"county_out", "city_out"} {
		if _, ok := listTasks(t, later.As(t, w.callers[who].Token), "?overdue=true&limit=100").find(tk.ID); ok {
			t.Fatalf("%s lists an overdue task out of scope", who)
		}
	}
	if v, ok := listTasks(t, later.As(t, b.Token), "?overdue=true").find(tk.ID); !ok || !v.Mine.Overdue || v.Mine.State != "assigned" {
		t.Fatalf("overdue for the assignee who did nothing: %+v", v)
	}
	if _, ok := listTasks(t, later.As(t, a.Token), "?overdue=true").find(tk.ID); ok {
		t.Fatal("overdue for the assignee who completed it")
	}
	later.As(t, w.staff.Token).Must(http.StatusOK, "GET", tkPath(tk.ID), nil).JSON(t, &v)
	for _, as := range v.Assignees {
		if as.Overdue != (as.InstructorID == bID) {
			t.Fatalf("overdue flags: %+v", v.Assignees)
		}
	}
	// A late report is still taken.
	later.As(t, b.Token).Must(http.StatusCreated, "POST", tkPath(tk.ID, "reports"), map[string]any{"text": "逾期完成", "done": true})
	if _, ok := listTasks(t, later.As(t, w.staff.Token), "?overdue=true&limit=100").find(tk.ID); ok {
		t.Fatal("still overdue once everyone is done")
	}
}

func mergeBody(b map[string]any, extra map[string]any) map[string]any {
	for k, v := range extra {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// A task for every instructor in office in a region of the issuer's subtree.
func TestTaskForARegion(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	active := int64(len(activeIn(t, e, region.Prefix(w.area.Township()))))
	tk := createTask(t, w.staff, mergeBody(taskBody(e, 24*time.Hour), map[string]any{"instructor_ids": nil, "assignee_region": w.area.Township()}))
	if int64(tk.AssigneeCount) != active || active < 2 || tk.AssigneeRegion != w.area.Township() || tk.Progress.Assignees != active {
		t.Fatalf("region task: %+v (township has %d active instructors)", tk, active)
	}
	var ids []int64
	e.DB().Table("task_assignees").Where("task_id = ?", tk.ID).Order("instructor_id").Pluck("instructor_id", &ids)
	if !slices.Contains(ids, w.insIDs[0]) || !slices.Contains(ids, w.insIDs[1]) || slices.Contains(ids, w.insIDs[2]) {
		t.Fatalf("assignees %v: the township's instructors %v, not the county seat's %d", ids, w.insIDs[:2], w.insIDs[2])
	}
	// A city assigns to a county of it; the county follows the task, its neighbour does not.
	city := w.callers["city_in"]
	ct := createTask(t, city, mergeBody(taskBody(e, 24*time.Hour), map[string]any{"instructor_ids": nil, "assignee_region": w.area.County}))
	var v tkView
	w.staff.Must(http.StatusOK, "GET", tkPath(ct.ID), nil).JSON(t, &v)
	if v.RegionCode != w.area.City || int64(len(v.Assignees)) != v.Progress.Assignees || v.Progress.Assignees < 4 {
		t.Fatalf("county view of the city's task: %+v", v)
	}
	w.callers["county_out"].Must(http.StatusNotFound, "GET", tkPath(ct.ID), nil)
	// Outside the issuer's subtree, or empty.
	if r := w.staff.Must(http.StatusForbidden, "POST", "/api/v1/tasks", mergeBody(taskBody(e, time.Hour), map[string]any{"instructor_ids": nil, "assignee_region": w.area.Neighbour})).Err(t); r.Details[0].Field != "assignee_region" {
		t.Fatalf("region outside: %+v", r)
	}
	if r := w.staff.Must(http.StatusBadRequest, "POST", "/api/v1/tasks", mergeBody(taskBody(e, time.Hour), map[string]any{"instructor_ids": nil, "assignee_region": region.Prefix(w.area.County) + "999000"})).Err(t); r.Details[0].Field != "assignee_region" {
		t.Fatalf("unknown region: %+v", r)
	}
}

func TestTaskScope(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	tk := createTask(t, w.staff, taskBody(e, time.Hour, w.insIDs[0]))
	w.callers["assignee"], w.callers["not_assigned"], w.callers["instructor_other"] = w.ins[0], w.ins[1], w.outsider
	// A task of the city assigned to the same instructor: the county follows it, its neighbour does not.
	cityTask := createTask(t, w.callers["city_in"], taskBody(e, time.Hour, w.insIDs[0]))

	def := func(base expect, fallback int) func(string) int {
		return func(who string) int {
			if s, ok := base[who]; ok {
				return s
			}
			if who == "anonymous" {
				return 401
			}
			return fallback
		}
	}
	cases := []struct {
		method, path string
		body         any
		want         func(string) int
	}{
		{"GET", tkPath(tk.ID), nil, def(expect{"county_in": 200, "city_in": 200, "province": 200, "assignee": 200}, 404)},
		{"GET", tkPath(tk.ID, "reports"), nil, def(expect{"county_in": 200, "city_in": 200, "province": 200, "assignee": 200}, 404)},
		{"POST", tkPath(tk.ID, "reports"), map[string]any{"text": "进展"}, def(expect{"assignee": 201, "not_assigned": 404, "instructor_other": 404}, 403)},
		{"GET", tkPath(cityTask.ID), nil, def(expect{"county_in": 200, "city_in": 200, "province": 200, "assignee": 200}, 404)},
		{"GET", tkPath(cityTask.ID, "reports"), nil, def(expect{"county_in": 200, "city_in": 200, "province": 200, "assignee": 200}, 404)},
		{"POST", "/api/v1/tasks", taskBody(e, time.Hour, w.insIDs[0]), def(expect{"county_in": 201, "city_in": 201, "province": 201,
			"county_out": 400, "city_out": 400}, 403)},
		{"GET", "/api/v1/tasks", nil, def(expect{}, 200)},
	}
	for _, c := range cases {
		for who, client := range w.callers {
			want := c.want(who)
			if r := client.Do(c.method, c.path, c.body); r.Status != want {
				t.Errorf("%s %s %s: %d, want %d: %s", who, c.method, c.path, r.Status, want, r.Body)
			}
		}
	}
	// Lists: each sees only what is theirs.
	for who, want := range map[string][2]bool{
		"county_in": {true, true}, "county_out": {false, false}, "city_in": {true, true}, "city_out": {false, false},
		"province": {true, true}, "assignee": {true, true}, "not_assigned": {false, false},
		"instructor_other": {false, false},
	} {
		l := listTasks(t, w.callers[who], "?limit=100")
		_, own := l.find(tk.ID)
		_, city := l.find(cityTask.ID)
		if own != want[0] || city != want[1] {
			t.Errorf("%s lists the county's task %v and the city's %v, want %v", who, own, city, want)
		}
	}
	// The county sees its own part of the city's task; a report the assignee made is among it.
	var reports struct {
		Items []tkReport `json:"items"`
	}
	w.ins[0].Must(http.StatusCreated, "POST", tkPath(cityTask.ID, "reports"), map[string]any{"text": "收到"})
	w.staff.Must(http.StatusOK, "GET", tkPath(cityTask.ID, "reports"), nil).JSON(t, &reports)
	if len(reports.Items) != 1 || reports.Items[0].InstructorID != w.insIDs[0] {
		t.Fatalf("county reads the city task's reports: %+v", reports.Items)
	}
	// Attachments: only the uploader's own, not someone else's.
	photo := mustUpload(t, w.ins[1], "别人的照片.png", pngImage(t))
	if r := w.ins[0].Must(http.StatusBadRequest, "POST", tkPath(tk.ID, "reports"), map[string]any{"text": "x", "attachments": []int64{photo.ID}}).Err(t); r.Details[0].Field != "attachments" {
		t.Fatalf("someone else's attachment: %+v", r)
	}
}

func TestTaskBadInput(t *testing.T) {
	t.Parallel()
	w := newMeetingWorld(t)
	e := w.e
	tk := createTask(t, w.staff, taskBody(e, time.Hour, w.insIDs[0]))
	with := func(changes map[string]any) map[string]any {
		return mergeBody(taskBody(e, time.Hour, w.insIDs[0]), changes)
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"malformed", "POST", "/api/v1/tasks", `{"title":`, 400, ""},
		{"not an object", "POST", "/api/v1/tasks", `"任务"`, 400, ""},
		{"empty", "POST", "/api/v1/tasks", ``, 400, ""},
		{"title type", "POST", "/api/v1/tasks", with(map[string]any{"title": 3}), 400, "title"},
		{"no title", "POST", "/api/v1/tasks", with(map[string]any{"title": nil}), 400, "title"},
		{"long title", "POST", "/api/v1/tasks", with(map[string]any{"title": strings.Repeat("任", 61)}), 400, "title"},
		{"long description", "POST", "/api/v1/tasks", with(map[string]any{"description": strings.Repeat("要", 5001)}), 400, "description"},
		{"no due", "POST", "/api/v1/tasks", with(map[string]any{"due_at": nil}), 400, "due_at"},
		{"bad due", "POST", "/api/v1/tasks", with(map[string]any{"due_at": "月底前"}), 400, "due_at"},
		{"past due", "POST", "/api/v1/tasks", with(map[string]any{"due_at": phoneTime(e, -time.Minute)}), 400, "due_at"},
		{"far due", "POST", "/api/v1/tasks", with(map[string]any{"due_at": phoneTime(e, 400*24*time.Hour)}), 400, "due_at"},
		{"nobody", "POST", "/api/v1/tasks", with(map[string]any{"instructor_ids": nil}), 400, "instructor_ids"},
		{"empty list", "POST", "/api/v1/tasks", with(map[string]any{"instructor_ids": []int64{}}), 400, "instructor_ids"},
		{"both", "POST", "/api/v1/tasks", with(map[string]any{"assignee_region": w.area.Township()}), 400, "assignee_region"},
		{"ids type", "POST", "/api/v1/tasks", with(map[string]any{"instructor_ids": []string{"a"}}), 400, "instructor_ids"},
		{"unknown instructor", "POST", "/api/v1/tasks", with(map[string]any{"instructor_ids": []int64{1 << 40}}), 400, "instructor_ids"},
		{"negative instructor", "POST", "/api/v1/tasks", with(map[string]any{"instructor_ids": []int64{-3}}), 400, "instructor_ids"},
		{"bad region", "POST", "/api/v1/tasks", with(map[string]any{"instructor_ids": nil, "assignee_region": "长安区"}), 400, "assignee_region"},
		{"attachment type", "POST", "/api/v1/tasks", with(map[string]any{"attachments": "1"}), 400, "attachments"},
		{"unknown attachment", "POST", "/api/v1/tasks", with(map[string]any{"attachments": []int64{1 << 40}}), 400, "attachments"},
		{"bad id", "GET", "/api/v1/tasks/abc", nil, 404, ""},
		{"missing", "GET", tkPath(1 << 40), nil, 404, ""},
		{"bad overdue", "GET", "/api/v1/tasks?overdue=yes", nil, 400, "overdue"},
		{"bad cursor", "GET", "/api/v1/tasks?cursor=zzz", nil, 400, "cursor"},
		{"reports bad instructor", "GET", tkPath(tk.ID, "reports") + "?instructor_id=x", nil, 400, "instructor_id"},
		{"reports bad limit", "GET", tkPath(tk.ID, "reports") + "?limit=0", nil, 400, "limit"},
	}
	for _, c := range cases {
		r := w.staff.Do(c.method, c.path, c.body)
		if r.Status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.Status, c.status, r.Body)
			continue
		}
		eb := r.Err(t)
		if c.field != "" && (len(eb.Details) == 0 || eb.Details[0].Field != c.field) {
			t.Errorf("%s: details %+v, want field %s", c.name, eb.Details, c.field)
		}
	}
	for _, c := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"malformed", `{"text"`, 400, ""},
		{"no text", map[string]any{"done": true}, 400, "text"},
		{"blank text", map[string]any{"text": "  "}, 400, "text"},
		{"long text", map[string]any{"text": strings.Repeat("进", 2001)}, 400, "text"},
		{"done type", map[string]any{"text": "x", "done": "yes"}, 400, "done"},
		{"text type", map[string]any{"text": 1}, 400, "text"},
		{"long client id", map[string]any{"text": "x", "client_id": strings.Repeat("c", 65)}, 400, "client_id"},
		{"attachments type", map[string]any{"text": "x", "attachments": map[string]int{"a": 1}}, 400, "attachments"},
		{"bad attachment", map[string]any{"text": "x", "attachments": []int64{0}}, 400, "attachments"},
	} {
		r := w.ins[0].Do("POST", tkPath(tk.ID, "reports"), c.body)
		if r.Status != c.status {
			t.Errorf("report %s: %d, want %d: %s", c.name, r.Status, c.status, r.Body)
			continue
		}
		if eb := r.Err(t); c.field != "" && (len(eb.Details) == 0 || eb.Details[0].Field != c.field) {
			t.Errorf("report %s: details %+v, want field %s", c.name, eb.Details, c.field)
		}
	}
	// Nothing of the refused reports was kept.
	var v tkView
	w.ins[0].Must(http.StatusOK, "GET", tkPath(tk.ID), nil).JSON(t, &v)
	if v.Mine.ReportCount != 0 || v.Mine.State != "assigned" {
		t.Fatalf("after refused reports: %+v", v.Mine)
	}
}
