package training

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Service keeps training plans, sessions, enrolments and hours. Every method takes the caller
// explicitly (see the package comment for who sees and does what).
type Service struct {
	db      *gorm.DB
	regions *region.Store
	clock   clock.Clock
	log     *slog.Logger
	opt     Options
}

// Options tune training.
type Options struct {
	// Reminders are how long before a session starts its enrolled instructors are reminded.
	Reminders []time.Duration
}

// NewService wires training.
func NewService(db *gorm.DB, regions *region.Store, clk clock.Clock, log *slog.Logger, opt Options) *Service {
	return &Service{db: db, regions: regions, clock: clk, log: log, opt: opt}
}

const (
	planSubject    = "training-plan"
	sessionSubject = "training-session"
	maxTitle       = 100
	maxGoals       = 5000
	maxTopic       = 200
	maxLecturer    = 100
	maxPlace       = 100
	maxURL         = 500
	maxHoursTenths = 2000 // 200 hours
	maxDuration    = 31 * 24 * time.Hour
	maxAway        = 2 * 366 * 24 * time.Hour
	maxEnrol       = 2000
)

var (
	errPlanNotFound    = apperr.New(http.StatusNotFound, "training_plan_not_found", "培训计划不存在或不在您的范围内")
	errSessionNotFound = apperr.New(http.StatusNotFound, "training_session_not_found", "培训不存在或不在您的范围内")
	errIssuerOnly      = apperr.Forbidden("只有省、市两级民族工作部门可以制定培训计划和组织培训")
	errManagerOnly     = apperr.Forbidden("只有制定该计划、组织该培训的民族工作部门可以修改")
	errStaffOnly       = apperr.Forbidden("只有民族工作部门工作人员可以查看培训计划、报名和学时")
	errRecorderOnly    = apperr.Forbidden("只有各级民族工作部门工作人员可以登记报名和参训情况")
	errInstructorOnly  = apperr.Forbidden("只有指导员有个人培训记录")
)

// canIssue: province staff at the province and city staff at a city make plans and hold
// sessions; training is organised by those two levels only (省、市两级).
func canIssue(p *access.Principal) bool {
	if !p.IsStaff() {
		return false
	}
	lv := region.LevelOf(p.RegionCode)
	return (p.Role == access.RoleProvinceStaff && lv == region.LevelProvince) ||
		(p.Role == access.RoleCityStaff && lv == region.LevelCity)
}

// manages: the issuer's own level changes its plans and sessions; a level above reads them.
func manages(p *access.Principal, regionCode string) bool {
	return canIssue(p) && p.RegionCode == regionCode
}

// canRecord: staff of every level enrol instructors of their subtree and record their
// attendance; the system operator does not.
func canRecord(p *access.Principal) bool {
	return p.IsStaff() && p.Role != access.RoleAdmin
}

// above lists the regions strictly above code (province, city…): sessions issued there are
// meant for code's instructors too.
func above(code string) []string {
	var out []string
	for _, n := range []int{2, 4, 6, 9} {
		c := code[:n] + strings.Repeat("0", 12-n)
		if c != code && region.LevelOf(c) > 0 && region.Contains(c, code) && (len(out) == 0 || out[len(out)-1] != c) {
			out = append(out, c)
		}
	}
	return out
}

// visible limits a query on plans or sessions to those p may see: issued in p's subtree or above
// p. Anyone but staff matches nothing.
func (s *Service) visible(p *access.Principal) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		if !p.IsStaff() {
			return q.Where("1 = 0")
		}
		below := access.InRegion(p, "region_code")(s.db.Session(&gorm.Session{NewDB: true}))
		if up := above(p.RegionCode); len(up) > 0 {
			return q.Where(below.Or("region_code IN ?", up))
		}
		return q.Where(below)
	}
}

// transact runs fn in a transaction, retried when MySQL picks it as a deadlock victim.
func (s *Service) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return database.Transact(ctx, s.db, fn)
}

func (s *Service) regionName(ctx context.Context, code string) string {
	if r, err := s.regions.Get(ctx, code); err == nil {
		return r.Name
	}
	return ""
}

// yearOf is the calendar year of t in China.
func yearOf(t time.Time) int { return t.In(clock.Shanghai).Year() }

// yearRange is [1 January, next 1 January) of year in China, in UTC.
func yearRange(year int) (time.Time, time.Time) {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, clock.Shanghai)
	return from.UTC(), from.AddDate(1, 0, 0).UTC()
}

// checkYear validates a year: a plan's, or a filter's.
func (s *Service) checkYear(v *validate.Checker, field string, year int) {
	now := yearOf(s.clock.Now())
	v.Check(year >= now-2 && year <= now+1, field, fmt.Sprintf("年度应在%d到%d之间", now-2, now+1))
}

// ParseYear reads an optional year query parameter; 0 when absent.
func ParseYear(field, raw string) (int, error) {
	if raw == "" {
		return 0, nil
	}
	y, err := strconv.Atoi(raw)
	if err != nil || y < 1000 || y > 9999 {
		return 0, apperr.Field(field, "年度应为四位数字,如2024")
	}
	return y, nil
}

// ---- plans ----

// PlanInput makes a plan; PlanPatch changes one (nil fields stay).
type PlanInput struct {
	Year  int
	Title string
	Goals string
}

type PlanPatch struct {
	Year  *int
	Title *string
	Goals *string
}

func (s *Service) checkPlan(v *validate.Checker, pl *Plan) {
	pl.Title, pl.Goals = strings.TrimSpace(pl.Title), strings.TrimSpace(pl.Goals)
	v.Required("title", "计划名称", pl.Title, maxTitle)
	v.MaxLen("goals", "培训目标和内容", pl.Goals, maxGoals)
	s.checkYear(v, "year", pl.Year)
}

// CreatePlan makes an annual plan of the caller's province or city.
func (s *Service) CreatePlan(ctx context.Context, p *access.Principal, in PlanInput) (PlanView, error) {
	if !canIssue(p) {
		return PlanView{}, errIssuerOnly
	}
	now := s.clock.Now()
	pl := Plan{RegionCode: p.RegionCode, Year: in.Year, Title: in.Title, Goals: in.Goals, CreatedBy: p.AccountID,
		CreatedAt: now, UpdatedAt: now}
	var v validate.Checker
	s.checkPlan(&v, &pl)
	if err := v.Err(); err != nil {
		return PlanView{}, err
	}
	if err := s.db.WithContext(ctx).Create(&pl).Error; err != nil {
		return PlanView{}, err
	}
	audit.Subject(ctx, planSubject, pl.ID, pl.RegionCode)
	views, err := s.planViews(ctx, []Plan{pl})
	if err != nil {
		return PlanView{}, err
	}
	return views[0], nil
}

func (s *Service) loadPlan(db *gorm.DB, p *access.Principal, id int64) (Plan, error) {
	var pl Plan
	err := db.Model(&Plan{}).Scopes(s.visible(p)).Where("id = ?", id).Take(&pl).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return pl, errPlanNotFound
	}
	return pl, err
}

// GetPlan returns one plan the caller may see.
func (s *Service) GetPlan(ctx context.Context, p *access.Principal, id int64) (PlanView, error) {
	if !p.IsStaff() {
		return PlanView{}, errStaffOnly
	}
	pl, err := s.loadPlan(s.db.WithContext(ctx), p, id)
	if err != nil {
		return PlanView{}, err
	}
	views, err := s.planViews(ctx, []Plan{pl})
	if err != nil {
		return PlanView{}, err
	}
	return views[0], nil
}

// PlanFilter narrows a plan list.
type PlanFilter struct {
	Year int
	Page paging.Page
}

// ListPlans lists the plans the caller may see, newest first.
func (s *Service) ListPlans(ctx context.Context, p *access.Principal, f PlanFilter) ([]PlanView, string, error) {
	if !p.IsStaff() {
		return nil, "", errStaffOnly
	}
	q := s.db.WithContext(ctx).Model(&Plan{}).Scopes(s.visible(p), f.Page.Apply("id"))
	if f.Year != 0 {
		q = q.Where("year = ?", f.Year)
	}
	var rows []Plan
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(pl Plan) int64 { return pl.ID })
	out, err := s.planViews(ctx, rows)
	return out, next, err
}

// UpdatePlan changes a plan of the caller's own region. A plan's year must stay the year of the
// sessions it holds.
func (s *Service) UpdatePlan(ctx context.Context, p *access.Principal, id int64, in PlanPatch) (PlanView, error) {
	if !p.IsStaff() {
		return PlanView{}, errManagerOnly
	}
	var out Plan
	err := s.transact(ctx, func(tx *gorm.DB) error {
		pl, err := s.loadPlan(tx, p, id)
		if err != nil {
			return err
		}
		if !manages(p, pl.RegionCode) {
			return errManagerOnly
		}
		if in.Title != nil {
			pl.Title = *in.Title
		}
		if in.Goals != nil {
			pl.Goals = *in.Goals
		}
		var v validate.Checker
		if in.Year != nil && *in.Year != pl.Year {
			pl.Year = *in.Year
			var n int64
			from, to := yearRange(pl.Year)
			if err := tx.Model(&Session{}).Where("plan_id = ? AND (starts_at < ? OR starts_at >= ?)", pl.ID, from, to).
				Count(&n).Error; err != nil {
				return err
			}
			v.Check(n == 0, "year", "计划中已有不在该年度的培训,不能修改年度")
		}
		s.checkPlan(&v, &pl)
		if err := v.Err(); err != nil {
			return err
		}
		pl.UpdatedAt = s.clock.Now()
		if err := tx.Model(&Plan{}).Where("id = ?", pl.ID).Updates(map[string]any{
			"year": pl.Year, "title": pl.Title, "goals": pl.Goals, "updated_at": pl.UpdatedAt}).Error; err != nil {
			return err
		}
		out = pl
		return nil
	})
	if err != nil {
		return PlanView{}, err
	}
	views, err := s.planViews(ctx, []Plan{out})
	if err != nil {
		return PlanView{}, err
	}
	return views[0], nil
}

func (s *Service) planViews(ctx context.Context, rows []Plan) ([]PlanView, error) {
	out := make([]PlanView, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	for i, pl := range rows {
		ids[i] = pl.ID
	}
	var sums []struct {
		PlanID int64
		N      int64
		Tenths int64
	}
	if err := s.db.WithContext(ctx).Model(&Session{}).Select("plan_id, COUNT(*) AS n, COALESCE(SUM(hours_tenths), 0) AS tenths").
		Where("plan_id IN ?", ids).Group("plan_id").Scan(&sums).Error; err != nil {
		return nil, err
	}
	byPlan := map[int64]int{}
	for i, r := range sums {
		byPlan[r.PlanID] = i
	}
	for i, pl := range rows {
		out[i] = PlanView{ID: pl.ID, Year: pl.Year, Title: pl.Title, Goals: pl.Goals, RegionCode: pl.RegionCode,
			RegionName: s.regionName(ctx, pl.RegionCode), CreatedAt: clock.Local(pl.CreatedAt), UpdatedAt: clock.Local(pl.UpdatedAt)}
		if j, ok := byPlan[pl.ID]; ok {
			out[i].SessionCount, out[i].Hours = sums[j].N, hours(int(sums[j].Tenths))
		}
	}
	return out, nil
}

// ---- sessions ----

// SessionInput holds a session. Times are RFC 3339 strings, checked here so that every field
// error is reported at once; Hours is a decimal with at most one place (3.5).
type SessionInput struct {
	PlanID   int64
	Title    string
	Topic    string
	Topics   []string
	Lecturer string
	Method   string
	Mode     string
	Place    string
	URL      string
	StartsAt string
	EndsAt   string
	Hours    *float64
}

// SessionPatch changes a session; nil fields stay.
type SessionPatch struct {
	PlanID   *int64
	Title    *string
	Topic    *string
	Topics   *[]string
	Lecturer *string
	Method   *string
	Mode     *string
	Place    *string
	URL      *string
	StartsAt *string
	EndsAt   *string
	Hours    *float64
}

func parseTime(v *validate.Checker, field, label, raw string) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		v.Fail(field, label+"不能为空")
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		v.Fail(field, label+"应为RFC 3339格式的时间,如2024-05-01T09:30:00+08:00")
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Second), true
}

// tenths turns a decimal number of hours into tenths; ok is false when it has more than one
// decimal place or is out of (0, max].
func tenths(h float64, maxTenths int) (int, bool) {
	t := h * 10
	r := math.Round(t)
	if math.IsNaN(t) || math.Abs(t-r) > 1e-6 || r <= 0 || r > float64(maxTenths) {
		return 0, false
	}
	return int(r), true
}

// checkSession validates and normalises every field of a session.
func (s *Service) checkSession(v *validate.Checker, ss *Session, now time.Time) {
	ss.Title, ss.Topic, ss.Lecturer = strings.TrimSpace(ss.Title), strings.TrimSpace(ss.Topic), strings.TrimSpace(ss.Lecturer)
	ss.Place, ss.URL = strings.TrimSpace(ss.Place), strings.TrimSpace(ss.URL)
	v.Required("title", "培训名称", ss.Title, maxTitle)
	v.MaxLen("topic", "培训主题", ss.Topic, maxTopic)
	v.Check(ss.Topics != "", "topics", "请选择培训内容(民族理论政策、法律法规、创建实务,可多选)")
	v.MaxLen("lecturer", "授课人", ss.Lecturer, maxLecturer)
	v.OneOf("method", "培训方式", ss.Method, true, roster.OneOf(Methods))
	v.OneOf("mode", "线上或线下", ss.Mode, true, roster.OneOf(Modes))
	v.MaxLen("place", "培训地点", ss.Place, maxPlace)
	v.MaxLen("url", "线上培训链接", ss.URL, maxURL)
	switch ss.Mode {
	case ModeOffline:
		v.Check(ss.Place != "", "place", "线下培训的培训地点不能为空")
	case ModeOnline:
		v.Check(ss.URL != "", "url", "线上培训的链接不能为空")
	}
	if ss.URL != "" && !strings.HasPrefix(ss.URL, "https://") && !strings.HasPrefix(ss.URL, "http://") {
		v.Fail("url", "线上培训链接应以http://或https://开头")
	}
	if ss.HoursTenths <= 0 || ss.HoursTenths > maxHoursTenths {
		v.Fail("hours", "学时应大于0、不超过200,最多一位小数,如3.5")
	}
	if ss.StartsAt.IsZero() || ss.EndsAt.IsZero() {
		return
	}
	v.Check(ss.StartsAt.After(now.Add(-maxAway)) && ss.StartsAt.Before(now.Add(maxAway)), "starts_at", "培训时间应在前后两年之内")
	switch {
	case !ss.EndsAt.After(ss.StartsAt):
		v.Fail("ends_at", "结束时间应晚于开始时间")
	case ss.EndsAt.Sub(ss.StartsAt) > maxDuration:
		v.Fail("ends_at", "一次培训不能超过31天")
	}
}

// checkPlanOf validates the plan a session is put in: a plan of the same issuer, of the year the
// session starts in.
func (s *Service) checkPlanOf(tx *gorm.DB, v *validate.Checker, ss Session) error {
	if ss.PlanID == 0 {
		return nil
	}
	var pl Plan
	err := tx.Where("id = ?", ss.PlanID).Take(&pl).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && pl.RegionCode != ss.RegionCode):
		v.Fail("plan_id", "培训计划不存在或不是本单位的计划")
	case err != nil:
		return err
	case !ss.StartsAt.IsZero() && yearOf(ss.StartsAt) != pl.Year:
		v.Fail("starts_at", fmt.Sprintf("培训时间应在所属计划的年度(%d年)内", pl.Year))
	}
	return nil
}

func (s *Service) hoursOf(v *validate.Checker, h *float64) int {
	if h == nil {
		v.Fail("hours", "学时不能为空")
		return 0
	}
	t, ok := tenths(*h, maxHoursTenths)
	if !ok {
		v.Fail("hours", "学时应大于0、不超过200,最多一位小数,如3.5")
	}
	return t
}

// checkTopics validates the topic codes of a request and returns them as stored.
func checkTopics(v *validate.Checker, codes []string) string {
	for _, c := range codes {
		if !roster.OneOf(Topics)(c) {
			v.Fail("topics", "培训内容应为民族理论政策(ethnic_theory_policy)、法律法规(laws_regulations)、创建实务(creation_practice)之一")
			return ""
		}
	}
	return joinTopics(codes)
}

// CreateSession holds a session of the caller's province or city.
func (s *Service) CreateSession(ctx context.Context, p *access.Principal, in SessionInput) (SessionView, error) {
	if !canIssue(p) {
		return SessionView{}, errIssuerOnly
	}
	now := s.clock.Now()
	ss := Session{PlanID: in.PlanID, RegionCode: p.RegionCode, Title: in.Title, Topic: in.Topic, Lecturer: in.Lecturer,
		Method: in.Method, Mode: in.Mode, Place: in.Place, URL: in.URL, CreatedBy: p.AccountID, CreatedAt: now, UpdatedAt: now}
	var v validate.Checker
	ss.Topics = checkTopics(&v, in.Topics)
	v.Check(in.PlanID >= 0, "plan_id", "培训计划编号应为正整数")
	ss.StartsAt, _ = parseTime(&v, "starts_at", "开始时间", in.StartsAt)
	ss.EndsAt, _ = parseTime(&v, "ends_at", "结束时间", in.EndsAt)
	ss.HoursTenths = s.hoursOf(&v, in.Hours)
	s.checkSession(&v, &ss, now)
	err := s.transact(ctx, func(tx *gorm.DB) error {
		if err := s.checkPlanOf(tx, &v, ss); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		row := ss
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		ss = row
		return nil
	})
	if err != nil {
		return SessionView{}, err
	}
	audit.Subject(ctx, sessionSubject, ss.ID, ss.RegionCode)
	return s.sessionView(ctx, ss, nil)
}

// loadSession finds a session the caller may see: staff above or below it, an instructor when
// enrolled (with the enrolment).
func (s *Service) loadSession(db *gorm.DB, p *access.Principal, id int64) (Session, *Enrolment, error) {
	var ss Session
	if p.IsInstructor() {
		var e Enrolment
		err := db.Where("session_id = ? AND instructor_id = ?", id, p.InstructorID).Take(&e).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ss, nil, errSessionNotFound
		}
		if err != nil {
			return ss, nil, err
		}
		if err := db.Where("id = ?", id).Take(&ss).Error; err != nil {
			return ss, nil, err
		}
		return ss, &e, nil
	}
	err := db.Model(&Session{}).Scopes(s.visible(p)).Where("id = ?", id).Take(&ss).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ss, nil, errSessionNotFound
	}
	return ss, nil, err
}

// GetSession returns one session.
func (s *Service) GetSession(ctx context.Context, p *access.Principal, id int64) (SessionView, error) {
	ss, mine, err := s.loadSession(s.db.WithContext(ctx), p, id)
	if err != nil {
		return SessionView{}, err
	}
	return s.sessionView(ctx, ss, mine)
}

// SessionFilter narrows a session list.
type SessionFilter struct {
	Year   int
	PlanID int64
	Page   paging.Page
}

// ListSessions lists sessions newest first: for staff those they may see, for an instructor
// those they are enrolled in (with their own enrolment).
func (s *Service) ListSessions(ctx context.Context, p *access.Principal, f SessionFilter) ([]SessionView, string, error) {
	db := s.db.WithContext(ctx)
	q := db.Model(&Session{}).Scopes(f.Page.Apply("id"))
	switch {
	case p.IsInstructor():
		q = q.Where("id IN (?)", s.db.Model(&Enrolment{}).Select("session_id").Where("instructor_id = ?", p.InstructorID))
	case p.IsStaff():
		q = q.Scopes(s.visible(p))
	default:
		return nil, "", errStaffOnly
	}
	if f.Year != 0 {
		from, to := yearRange(f.Year)
		q = q.Where("starts_at >= ? AND starts_at < ?", from, to)
	}
	if f.PlanID > 0 {
		q = q.Where("plan_id = ?", f.PlanID)
	}
	var rows []Session
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(ss Session) int64 { return ss.ID })
	mine := map[int64]*Enrolment{}
	if p.IsInstructor() && len(rows) > 0 {
		ids := make([]int64, len(rows))
		for i, ss := range rows {
			ids[i] = ss.ID
		}
		var es []Enrolment
		if err := db.Where("instructor_id = ? AND session_id IN ?", p.InstructorID, ids).Find(&es).Error; err != nil {
			return nil, "", err
		}
		for i := range es {
			mine[es[i].SessionID] = &es[i]
		}
	}
	out, err := s.sessionViews(ctx, rows, mine)
	return out, next, err
}

// UpdateSession changes a session of the caller's own region.
func (s *Service) UpdateSession(ctx context.Context, p *access.Principal, id int64, in SessionPatch) (SessionView, error) {
	if !p.IsStaff() {
		return SessionView{}, errManagerOnly
	}
	now := s.clock.Now()
	var out Session
	err := s.transact(ctx, func(tx *gorm.DB) error {
		cur, _, err := s.loadSession(tx, p, id)
		if err != nil {
			return err
		}
		if !manages(p, cur.RegionCode) {
			return errManagerOnly
		}
		next := cur
		set := func(dst *string, val *string) {
			if val != nil {
				*dst = *val
			}
		}
		set(&next.Title, in.Title)
		set(&next.Topic, in.Topic)
		set(&next.Lecturer, in.Lecturer)
		set(&next.Method, in.Method)
		set(&next.Mode, in.Mode)
		set(&next.Place, in.Place)
		set(&next.URL, in.URL)
		var v validate.Checker
		if in.Topics != nil {
			next.Topics = checkTopics(&v, *in.Topics)
		}
		if in.PlanID != nil {
			next.PlanID = *in.PlanID
			v.Check(next.PlanID > 0, "plan_id", "培训计划编号应为正整数")
		}
		if in.StartsAt != nil {
			next.StartsAt, _ = parseTime(&v, "starts_at", "开始时间", *in.StartsAt)
		}
		if in.EndsAt != nil {
			next.EndsAt, _ = parseTime(&v, "ends_at", "结束时间", *in.EndsAt)
		}
		if in.Hours != nil {
			next.HoursTenths = s.hoursOf(&v, in.Hours)
		}
		s.checkSession(&v, &next, now)
		if next.PlanID != cur.PlanID || !next.StartsAt.Equal(cur.StartsAt) {
			if err := s.checkPlanOf(tx, &v, next); err != nil {
				return err
			}
		}
		if next.StartsAt.After(now) && !next.StartsAt.Equal(cur.StartsAt) {
			var n int64
			if err := tx.Model(&Enrolment{}).Where("session_id = ? AND status <> ?", cur.ID, StatusEnrolled).Count(&n).Error; err != nil {
				return err
			}
			v.Check(n == 0, "starts_at", "已登记参训情况的培训不能改到将来")
		}
		// Who was trained is counted per year: a session with attendance stays in its year.
		if !next.StartsAt.IsZero() && yearOf(next.StartsAt) != yearOf(cur.StartsAt) {
			var n int64
			if err := tx.Model(&Enrolment{}).Where("session_id = ? AND status = ?", cur.ID, StatusAttended).Count(&n).Error; err != nil {
				return err
			}
			v.Check(n == 0, "starts_at", "已登记参训情况的培训不能改到其他年度")
		}
		if err := v.Err(); err != nil {
			return err
		}
		next.UpdatedAt = now
		if err := tx.Model(&Session{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"plan_id": next.PlanID, "title": next.Title, "topic": next.Topic, "topics": next.Topics, "lecturer": next.Lecturer, "method": next.Method,
			"mode": next.Mode, "place": next.Place, "url": next.URL, "starts_at": next.StartsAt, "ends_at": next.EndsAt,
			"hours_tenths": next.HoursTenths, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return SessionView{}, err
	}
	return s.sessionView(ctx, out, nil)
}

func (s *Service) sessionView(ctx context.Context, ss Session, mine *Enrolment) (SessionView, error) {
	m := map[int64]*Enrolment{}
	if mine != nil {
		m[ss.ID] = mine
	}
	views, err := s.sessionViews(ctx, []Session{ss}, m)
	if err != nil {
		return SessionView{}, err
	}
	return views[0], nil
}

func (s *Service) sessionViews(ctx context.Context, rows []Session, mine map[int64]*Enrolment) ([]SessionView, error) {
	out := make([]SessionView, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	for i, ss := range rows {
		ids[i] = ss.ID
	}
	var counts []struct {
		SessionID int64
		Status    string
		N         int64
	}
	if err := s.db.WithContext(ctx).Model(&Enrolment{}).Select("session_id, status, COUNT(*) AS n").
		Where("session_id IN ?", ids).Group("session_id, status").Scan(&counts).Error; err != nil {
		return nil, err
	}
	enrolled, attended := map[int64]int64{}, map[int64]int64{}
	for _, c := range counts {
		enrolled[c.SessionID] += c.N
		if c.Status == StatusAttended {
			attended[c.SessionID] += c.N
		}
	}
	for i, ss := range rows {
		v := SessionView{
			ID: ss.ID, Year: yearOf(ss.StartsAt), Title: ss.Title, Topic: ss.Topic, Lecturer: ss.Lecturer,
			Topics: splitTopics(ss.Topics), TopicNames: topicNames(splitTopics(ss.Topics)),
			Method: ss.Method, MethodName: roster.Label(Methods, ss.Method), Mode: ss.Mode, ModeName: roster.Label(Modes, ss.Mode),
			Place: ss.Place, URL: ss.URL, StartsAt: clock.Local(ss.StartsAt), EndsAt: clock.Local(ss.EndsAt),
			Hours: hours(ss.HoursTenths), RegionCode: ss.RegionCode, RegionName: s.regionName(ctx, ss.RegionCode),
			Enrolled: enrolled[ss.ID], Attended: attended[ss.ID],
			CreatedAt: clock.Local(ss.CreatedAt), UpdatedAt: clock.Local(ss.UpdatedAt),
		}
		if ss.PlanID > 0 {
			id := ss.PlanID
			v.PlanID = &id
		}
		if e := mine[ss.ID]; e != nil {
			ev := enrolmentView(*e, ss, roster.Instructor{}, "")
			v.Mine = &ev
		}
		out[i] = v
	}
	return out, nil
}

// credited is the hours an enrolment counts for, in tenths.
func credited(e Enrolment, ss Session) int {
	switch {
	case e.Status != StatusAttended:
		return 0
	case e.HoursTenths != nil:
		return *e.HoursTenths
	}
	return ss.HoursTenths
}

func enrolmentView(e Enrolment, ss Session, ins roster.Instructor, unitName string) EnrolmentView {
	return EnrolmentView{
		InstructorID: e.InstructorID, Name: ins.Name, UnitID: e.UnitID, UnitName: unitName, RegionCode: e.RegionCode,
		Status: e.Status, StatusName: roster.Label(Statuses, e.Status), Hours: hours(credited(e, ss)),
		RecordedAt: clock.LocalPtr(e.RecordedAt), EnrolledAt: clock.Local(e.CreatedAt),
	}
}
