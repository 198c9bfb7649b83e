package task

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/upload"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Service keeps tasks. Every method takes the caller explicitly (see the package comment).
type Service struct {
	db      *gorm.DB
	regions *region.Store
	files   upload.Attacher
	clock   clock.Clock
	log     *slog.Logger
}

// NewService wires tasks. files may be nil: tasks and reports then take no attachments.
func NewService(db *gorm.DB, regions *region.Store, files upload.Attacher, clk clock.Clock, log *slog.Logger) *Service {
	return &Service{db: db, regions: regions, files: files, clock: clk, log: log}
}

const (
	subjectType = "task"
	reportOwner = "task_report"
	maxTitle    = 60
	maxDesc     = 5000
	maxText     = 2000
	maxClientID = 64
	// maxAssignees keeps a task's notice (its event names every assignee) within the outbox
	// payload; a county has a few hundred instructors.
	maxAssignees = 2000
	maxAhead     = 366 * 24 * time.Hour
)

var (
	errNotFound     = apperr.New(http.StatusNotFound, "task_not_found", "任务不存在或不在您的范围内")
	errStaffOnly    = apperr.Forbidden("只有各级民族工作部门工作人员可以交办任务")
	errNoAudience   = apperr.Forbidden("无权查看交办任务")
	errAssigneeOnly = apperr.Forbidden("只有被交办任务的指导员可以反馈进展")
	errOutside      = apperr.Forbidden("交办范围超出了您的管辖范围")
)

// canAssign: staff of every level assign tasks; the system operator does not.
func canAssign(p *access.Principal) bool { return p.IsStaff() && p.Role != access.RoleAdmin }

func (s *Service) fresh() *gorm.DB { return s.db.Session(&gorm.Session{NewDB: true}) }

// visible limits a query on tasks to those p follows: issued in p's subtree, or assigned to an
// instructor of it.
func (s *Service) visible(p *access.Principal) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		if !p.IsStaff() {
			return q.Where("1 = 0")
		}
		issued := access.InRegion(p, "region_code")(s.fresh())
		theirs := s.fresh().Model(&Assignee{}).Select("task_id").Scopes(access.InRegion(p, "region_code"))
		return q.Where(issued.Or("id IN (?)", theirs))
	}
}

// transact runs fn in a transaction, retried when MySQL picks it as a deadlock victim.
func (s *Service) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return database.Transact(ctx, s.db, fn)
}

// ---- assigning ----

// Input assigns a task to InstructorIDs, or to every instructor in office in AssigneeRegion.
type Input struct {
	Title          string
	Description    string
	DueAt          string
	Attachments    []int64
	InstructorIDs  []int64
	AssigneeRegion string
}

// Create assigns a task and writes its notice into the outbox in the same transaction.
func (s *Service) Create(ctx context.Context, p *access.Principal, in Input) (View, error) {
	if !canAssign(p) {
		return View{}, errStaffOnly
	}
	now := s.clock.Now()
	t := Task{RegionCode: p.RegionCode, Title: strings.TrimSpace(in.Title), Description: strings.TrimSpace(in.Description),
		AssigneeRegion: strings.TrimSpace(in.AssigneeRegion), CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now}
	var v validate.Checker
	v.Required("title", "任务名称", t.Title, maxTitle)
	v.MaxLen("description", "任务要求", t.Description, maxDesc)
	if raw := strings.TrimSpace(in.DueAt); raw == "" {
		v.Fail("due_at", "完成时限不能为空")
	} else if due, err := time.Parse(time.RFC3339Nano, raw); err != nil {
		v.Fail("due_at", "完成时限应为RFC 3339格式的时间,如2024-05-31T18:00:00+08:00")
	} else {
		t.DueAt = due.UTC().Truncate(time.Second)
		v.Check(t.DueAt.After(now), "due_at", "完成时限应晚于当前时间")
		v.Check(t.DueAt.Before(now.Add(maxAhead)), "due_at", "完成时限不能超过一年以后")
	}
	if len(in.Attachments) > 0 && s.files == nil {
		v.Fail("attachments", "暂不支持附件")
	}
	ids := slices.Compact(slices.Sorted(slices.Values(in.InstructorIDs)))
	switch {
	case len(ids) > 0 && t.AssigneeRegion != "":
		v.Fail("assignee_region", "指定指导员和指定区域只能选一种")
	case len(ids) == 0 && t.AssigneeRegion == "":
		v.Fail("instructor_ids", "请选择交办的指导员,或指定区域交办给该区域全部在任指导员")
	case len(ids) > maxAssignees:
		v.Fail("instructor_ids", fmt.Sprintf("一次交办的指导员不能超过%d名", maxAssignees))
	case t.AssigneeRegion != "":
		if err := s.checkRegion(ctx, p, &v, t.AssigneeRegion); err != nil {
			return View{}, err
		}
	}
	for _, id := range ids {
		if id <= 0 {
			v.Fail("instructor_ids", "指导员编号应为正整数")
		}
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var as []Assignee
		var err error
		if t.AssigneeRegion != "" {
			as, err = regionInstructors(tx, p, t.AssigneeRegion)
		} else {
			as, err = listedInstructors(tx, p, ids)
		}
		if err != nil {
			return err
		}
		row := t
		row.AssigneeCount = len(as)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		insIDs := make([]int64, len(as))
		for i := range as {
			as[i].TaskID, as[i].State, as[i].CreatedAt, as[i].UpdatedAt = row.ID, StateAssigned, now, now
			insIDs[i] = as[i].InstructorID
		}
		if err := tx.CreateInBatches(as, 500).Error; err != nil {
			return err
		}
		if s.files != nil {
			if err := s.files.Attach(tx, p, in.Attachments, subjectType, row.ID, row.RegionCode); err != nil {
				return err
			}
		}
		t = row
		return s.emitAssigned(tx, t, insIDs, now)
	})
	if err != nil {
		return View{}, err
	}
	audit.Subject(ctx, subjectType, t.ID, t.RegionCode)
	return s.detail(ctx, p, t, nil)
}

// checkRegion validates a region a task is assigned to: an existing region of the caller's
// subtree.
func (s *Service) checkRegion(ctx context.Context, p *access.Principal, v *validate.Checker, code string) error {
	if !region.ValidCode(code) {
		v.Fail("assignee_region", "行政区划代码应为12位数字")
		return nil
	}
	ok, err := s.regions.Exists(ctx, code)
	if err != nil {
		return err
	}
	if !ok {
		v.Fail("assignee_region", "行政区划代码不存在")
		return nil
	}
	if !p.CanSeeRegion(code) {
		return errOutside.WithField("assignee_region", "不在您的管辖范围内")
	}
	return nil
}

type instructorRow struct {
	ID         int64
	UnitID     int64
	RegionCode string
	Status     string
}

func (r instructorRow) assignee() Assignee {
	return Assignee{InstructorID: r.ID, UnitID: r.UnitID, RegionCode: r.RegionCode}
}

// regionInstructors are the instructors in office in a region of the caller's subtree now.
func regionInstructors(tx *gorm.DB, p *access.Principal, code string) ([]Assignee, error) {
	var rows []instructorRow
	if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "region_code", "status").
		Scopes(access.InRegion(p, "region_code"), access.UnderRegion("region_code", code)).
		Where("status = ?", roster.StatusActive).Order("id").Limit(maxAssignees + 1).Find(&rows).Error; err != nil {
		return nil, err
	}
	switch {
	case len(rows) == 0:
		return nil, apperr.Field("assignee_region", "该区域没有在任的指导员")
	case len(rows) > maxAssignees:
		return nil, apperr.Field("assignee_region", fmt.Sprintf("该区域在任指导员超过%d名,请缩小范围或分批交办", maxAssignees))
	}
	out := make([]Assignee, len(rows))
	for i, r := range rows {
		out[i] = r.assignee()
	}
	return out, nil
}

// listedInstructors checks the chosen instructors: each in the caller's subtree and in office.
func listedInstructors(tx *gorm.DB, p *access.Principal, ids []int64) ([]Assignee, error) {
	var rows []instructorRow
	if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "region_code", "status").
		Scopes(access.InRegion(p, "region_code")).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	byID := make(map[int64]instructorRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]Assignee, 0, len(ids))
	for _, id := range ids {
		r, ok := byID[id]
		switch {
		case !ok:
			return nil, apperr.Field("instructor_ids", fmt.Sprintf("指导员%d不存在或不在您的管辖范围内", id))
		case r.Status != roster.StatusActive:
			return nil, apperr.Field("instructor_ids", fmt.Sprintf("指导员%d不在任,不能交办任务", id))
		}
		out = append(out, r.assignee())
	}
	return out, nil
}

// emitAssigned writes the task.assigned event in the transaction that assigns t. The payload
// carries what the notice says and who it goes to, so the dispatcher needs no task tables.
func (s *Service) emitAssigned(tx *gorm.DB, t Task, ids []int64, now time.Time) error {
	return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: t.ID, RegionCode: t.RegionCode, At: now,
		Payload: outbox.TaskAssigned{
			TaskID: t.ID, Title: t.Title, Summary: summary(t.Description, 120), DueAt: clock.Local(t.DueAt),
			RegionCode: t.RegionCode, AssigneeRegion: t.AssigneeRegion, InstructorIDs: ids,
		}})
}

func summary(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// ---- reading ----

// load finds a task the caller may see: staff who follow it, an instructor it is assigned to
// (with the assignment).
func (s *Service) load(db *gorm.DB, p *access.Principal, id int64) (Task, *Assignee, error) {
	var t Task
	switch {
	case p.IsInstructor():
		var a Assignee
		err := db.Where("task_id = ? AND instructor_id = ?", id, p.InstructorID).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return t, nil, errNotFound
		}
		if err != nil {
			return t, nil, err
		}
		err = db.Where("id = ?", id).Take(&t).Error
		return t, &a, err
	case p.IsStaff():
		err := db.Model(&Task{}).Scopes(s.visible(p)).Where("id = ?", id).Take(&t).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return t, nil, errNotFound
		}
		return t, nil, err
	}
	return t, nil, errNotFound
}

// followed limits a query on the assignees of t to those p follows: all of them when t was
// issued in p's subtree, else those of p's subtree.
func followed(p *access.Principal, t Task) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		if p.CanSeeRegion(t.RegionCode) {
			return q
		}
		return q.Scopes(access.InRegion(p, "region_code"))
	}
}

// Get returns one task with its attachments: for staff with the assignees they follow, for an
// instructor with their own assignment.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (View, error) {
	t, mine, err := s.load(s.db.WithContext(ctx), p, id)
	if err != nil {
		return View{}, err
	}
	return s.detail(ctx, p, t, mine)
}

// Filter narrows a task list. Overdue keeps the tasks past due with assignees not done (for an
// instructor: their own assignment not done).
type Filter struct {
	Overdue bool
	Page    paging.Page
}

// List lists tasks newest first: for staff those they follow with the progress of their
// assignees, for an instructor those assigned to them with their own state.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]View, string, error) {
	now := s.clock.Now()
	db := s.db.WithContext(ctx)
	q := db.Model(&Task{}).Scopes(f.Page.Apply("id"))
	switch {
	case p.IsInstructor():
		mine := s.fresh().Model(&Assignee{}).Select("task_id").Where("instructor_id = ?", p.InstructorID)
		if f.Overdue {
			mine = mine.Where("state <> ?", StateDone)
			q = q.Where("due_at < ?", now)
		}
		q = q.Where("id IN (?)", mine)
	case p.IsStaff():
		q = q.Scopes(s.visible(p))
		if f.Overdue {
			open := func() *gorm.DB { return s.fresh().Model(&Assignee{}).Select("task_id").Where("state <> ?", StateDone) }
			issued := access.InRegion(p, "region_code")(s.fresh()).Where("id IN (?)", open())
			theirs := s.fresh().Where("id IN (?)", open().Scopes(access.InRegion(p, "region_code")))
			q = q.Where("due_at < ?", now).Where(s.fresh().Where(issued).Or(theirs))
		}
	default:
		return nil, "", errNoAudience
	}
	var rows []Task
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(t Task) int64 { return t.ID })
	out := make([]View, len(rows))
	for i, t := range rows {
		out[i] = s.view(ctx, t, now)
	}
	if len(rows) == 0 {
		return out, next, nil
	}
	ids := make([]int64, len(rows))
	for i, t := range rows {
		ids[i] = t.ID
	}
	if p.IsInstructor() {
		var as []Assignee
		if err := db.Where("instructor_id = ? AND task_id IN ?", p.InstructorID, ids).Find(&as).Error; err != nil {
			return nil, "", err
		}
		byTask := map[int64]Assignee{}
		for _, a := range as {
			byTask[a.TaskID] = a
		}
		for i := range out {
			if a, ok := byTask[out[i].ID]; ok {
				v := assigneeView(a, rows[i], roster.Instructor{}, "", now)
				out[i].Mine = &v
			}
		}
		return out, next, nil
	}
	progress, err := s.progress(ctx, p, rows, now)
	if err != nil {
		return nil, "", err
	}
	for i := range out {
		pr := progress[out[i].ID]
		out[i].Progress = &pr
	}
	return out, next, nil
}

// progress counts the assignees p follows of each task by state.
func (s *Service) progress(ctx context.Context, p *access.Principal, tasks []Task, now time.Time) (map[int64]Progress, error) {
	var all, part []int64
	for _, t := range tasks {
		if p.CanSeeRegion(t.RegionCode) {
			all = append(all, t.ID)
		} else {
			part = append(part, t.ID)
		}
	}
	type count struct {
		TaskID int64
		State  string
		N      int64
	}
	var counts []count
	for _, group := range []struct {
		ids   []int64
		scope func(*gorm.DB) *gorm.DB
	}{
		{all, func(q *gorm.DB) *gorm.DB { return q }},
		{part, access.InRegion(p, "region_code")},
	} {
		if len(group.ids) == 0 {
			continue
		}
		var rows []count
		if err := s.db.WithContext(ctx).Model(&Assignee{}).Select("task_id, state, COUNT(*) AS n").
			Scopes(group.scope).Where("task_id IN ?", group.ids).Group("task_id, state").Scan(&rows).Error; err != nil {
			return nil, err
		}
		counts = append(counts, rows...)
	}
	due := map[int64]bool{}
	for _, t := range tasks {
		due[t.ID] = now.After(t.DueAt)
	}
	out := map[int64]Progress{}
	for _, c := range counts {
		pr := out[c.TaskID]
		pr.Assignees += c.N
		switch c.State {
		case StateAssigned:
			pr.Assigned += c.N
		case StateInProgress:
			pr.InProgress += c.N
		case StateDone:
			pr.Done += c.N
		}
		if c.State != StateDone && due[c.TaskID] {
			pr.Overdue += c.N
		}
		out[c.TaskID] = pr
	}
	return out, nil
}

func (s *Service) regionName(ctx context.Context, code string) string {
	if code == "" {
		return ""
	}
	if r, err := s.regions.Get(ctx, code); err == nil {
		return r.Name
	}
	return ""
}

func (s *Service) view(ctx context.Context, t Task, now time.Time) View {
	return View{
		ID: t.ID, Title: t.Title, Description: t.Description, DueAt: clock.Local(t.DueAt), Overdue: now.After(t.DueAt),
		RegionCode: t.RegionCode, RegionName: s.regionName(ctx, t.RegionCode),
		AssigneeRegion: t.AssigneeRegion, AssigneeRegionName: s.regionName(ctx, t.AssigneeRegion),
		AssigneeCount: t.AssigneeCount, CreatedAt: clock.Local(t.CreatedAt), UpdatedAt: clock.Local(t.UpdatedAt),
	}
}

// detail is the view of one task with its attachments and, for staff, the assignees they follow
// and their progress; mine is the calling instructor's assignment.
func (s *Service) detail(ctx context.Context, p *access.Principal, t Task, mine *Assignee) (View, error) {
	now := s.clock.Now()
	v := s.view(ctx, t, now)
	v.Attachments = []upload.View{}
	if s.files != nil {
		files, err := s.files.List(ctx, subjectType, []int64{t.ID})
		if err != nil {
			return View{}, err
		}
		if f := files[t.ID]; f != nil {
			v.Attachments = f
		}
	}
	if mine != nil {
		a := assigneeView(*mine, t, roster.Instructor{}, "", now)
		v.Mine = &a
		return v, nil
	}
	if !p.IsStaff() {
		return v, nil
	}
	db := s.db.WithContext(ctx)
	var as []Assignee
	if err := db.Scopes(followed(p, t)).Where("task_id = ?", t.ID).Order("id").Find(&as).Error; err != nil {
		return View{}, err
	}
	insIDs := make([]int64, len(as))
	unitIDs := make([]int64, len(as))
	for i, a := range as {
		insIDs[i], unitIDs[i] = a.InstructorID, a.UnitID
	}
	people, err := s.names(ctx, &roster.Instructor{}, insIDs)
	if err != nil {
		return View{}, err
	}
	units, err := s.names(ctx, &roster.Unit{}, unitIDs)
	if err != nil {
		return View{}, err
	}
	pr := Progress{}
	v.Assignees = make([]AssigneeView, len(as))
	for i, a := range as {
		av := assigneeView(a, t, roster.Instructor{Name: people[a.InstructorID]}, units[a.UnitID], now)
		v.Assignees[i] = av
		pr.Assignees++
		switch a.State {
		case StateAssigned:
			pr.Assigned++
		case StateInProgress:
			pr.InProgress++
		case StateDone:
			pr.Done++
		}
		if av.Overdue {
			pr.Overdue++
		}
	}
	v.Progress = &pr
	return v, nil
}

func assigneeView(a Assignee, t Task, ins roster.Instructor, unitName string, now time.Time) AssigneeView {
	return AssigneeView{
		InstructorID: a.InstructorID, Name: ins.Name, UnitID: a.UnitID, UnitName: unitName, RegionCode: a.RegionCode,
		State: a.State, StateName: roster.Label(States, a.State), Overdue: a.State != StateDone && now.After(t.DueAt),
		ReportCount: a.ReportCount, LastReportAt: clock.LocalPtr(a.LastReportAt), DoneAt: clock.LocalPtr(a.DoneAt),
	}
}

func (s *Service) names(ctx context.Context, model any, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for chunk := range slices.Chunk(ids, 500) {
		var rows []struct {
			ID   int64
			Name string
		}
		if err := s.db.WithContext(ctx).Model(model).Select("id", "name").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
	}
	return out, nil
}

// ---- reports ----

// ReportInput is an assignee's report. Done marks the task completed for them.
type ReportInput struct {
	ClientID    string
	Text        string
	Attachments []int64
	Done        bool
}

// Report records an assignee's progress or completion. Several reports are allowed; the first
// that says done marks the assignment done at that time. A retry with a client id already used
// returns the stored report (created false).
func (s *Service) Report(ctx context.Context, p *access.Principal, id int64, in ReportInput) (ReportView, bool, error) {
	if !p.IsInstructor() {
		return ReportView{}, false, errAssigneeOnly
	}
	in.Text, in.ClientID = strings.TrimSpace(in.Text), strings.TrimSpace(in.ClientID)
	var v validate.Checker
	v.Required("text", "进展情况", in.Text, maxText)
	v.MaxLen("client_id", "客户端编号", in.ClientID, maxClientID)
	if len(in.Attachments) > 0 && s.files == nil {
		v.Fail("attachments", "暂不支持附件")
	}
	if err := v.Err(); err != nil {
		return ReportView{}, false, err
	}
	now := s.clock.Now()
	var out Report
	auditRegion := ""
	created := false
	err := s.transact(ctx, func(tx *gorm.DB) error {
		created = false
		t, a, err := s.load(tx, p, id)
		if err != nil {
			return err
		}
		auditRegion = a.RegionCode
		if in.ClientID != "" {
			err := tx.Where("assignee_id = ? AND client_id = ?", a.ID, in.ClientID).Take(&out).Error
			if err == nil {
				return nil
			}
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
		r := Report{TaskID: t.ID, AssigneeID: a.ID, InstructorID: a.InstructorID, AccountID: p.AccountID,
			Text: in.Text, Done: in.Done, CreatedAt: now}
		if in.ClientID != "" {
			r.ClientID = &in.ClientID
		}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		if s.files != nil {
			if err := s.files.Attach(tx, p, in.Attachments, reportOwner, r.ID, a.RegionCode); err != nil {
				return err
			}
		}
		if err := tx.Model(&Assignee{}).Where("id = ?", a.ID).Updates(map[string]any{
			"report_count": gorm.Expr("report_count + 1"), "last_report_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		// Conditional updates: the first completion keeps its time, and progress never undoes it.
		if in.Done {
			err = tx.Model(&Assignee{}).Where("id = ? AND state <> ?", a.ID, StateDone).
				Updates(map[string]any{"state": StateDone, "done_at": now}).Error
		} else {
			err = tx.Model(&Assignee{}).Where("id = ? AND state = ?", a.ID, StateAssigned).Update("state", StateInProgress).Error
		}
		if err != nil {
			return err
		}
		out, created = r, true
		return nil
	})
	if err != nil && in.ClientID != "" && database.IsUniqueViolation(err) {
		// Two retries raced: the other one stored it.
		err = s.db.WithContext(ctx).Where("task_id = ? AND instructor_id = ? AND client_id = ?", id, p.InstructorID, in.ClientID).
			Take(&out).Error
		created = false
	}
	if err != nil {
		return ReportView{}, false, err
	}
	if created {
		// Filed under the assignee's region: the staff following them read it.
		audit.Subject(ctx, subjectType, id, auditRegion)
	}
	views, err := s.reportViews(ctx, []Report{out})
	if err != nil {
		return ReportView{}, false, err
	}
	return views[0], created, nil
}

// ReportFilter narrows the reports of a task.
type ReportFilter struct {
	InstructorID int64
	Page         paging.Page
}

// Reports lists the reports of a task newest first: for staff those of the assignees they
// follow, for an assignee their own.
func (s *Service) Reports(ctx context.Context, p *access.Principal, id int64, f ReportFilter) ([]ReportView, string, error) {
	db := s.db.WithContext(ctx)
	t, mine, err := s.load(db, p, id)
	if err != nil {
		return nil, "", err
	}
	q := db.Model(&Report{}).Scopes(f.Page.Apply("id")).Where("task_id = ?", t.ID)
	if mine != nil {
		q = q.Where("assignee_id = ?", mine.ID)
	} else {
		q = q.Where("assignee_id IN (?)", s.fresh().Model(&Assignee{}).Select("id").Scopes(followed(p, t)).Where("task_id = ?", t.ID))
	}
	if f.InstructorID > 0 {
		q = q.Where("instructor_id = ?", f.InstructorID)
	}
	var rows []Report
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(r Report) int64 { return r.ID })
	out, err := s.reportViews(ctx, rows)
	return out, next, err
}

func (s *Service) reportViews(ctx context.Context, rows []Report) ([]ReportView, error) {
	out := make([]ReportView, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	insIDs := make([]int64, len(rows))
	for i, r := range rows {
		ids[i], insIDs[i] = r.ID, r.InstructorID
	}
	people, err := s.names(ctx, &roster.Instructor{}, insIDs)
	if err != nil {
		return nil, err
	}
	files := map[int64][]upload.View{}
	if s.files != nil {
		if files, err = s.files.List(ctx, reportOwner, ids); err != nil {
			return nil, err
		}
	}
	for i, r := range rows {
		out[i] = ReportView{ID: r.ID, TaskID: r.TaskID, InstructorID: r.InstructorID, InstructorName: people[r.InstructorID],
			Text: r.Text, Done: r.Done, Attachments: files[r.ID], CreatedAt: clock.Local(r.CreatedAt)}
		if r.ClientID != nil {
			out[i].ClientID = *r.ClientID
		}
		if out[i].Attachments == nil {
			out[i].Attachments = []upload.View{}
		}
	}
	return out, nil
}
