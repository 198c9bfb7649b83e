package adjustment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/assessment"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/sweep"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Service keeps the adjustment rounds. Every method takes the caller explicitly (see the package
// comment for who sees and does what).
type Service struct {
	db          *gorm.DB
	roster      *roster.Service
	assessments *assessment.Service
	regions     *region.Store
	clock       clock.Clock
	log         *slog.Logger
	opt         Options
}

// Options tune the rounds.
type Options struct {
	// RemindEvery is how often a county is reminded of terms that ran out undecided.
	RemindEvery time.Duration
}

// NewService wires the rounds.
func NewService(db *gorm.DB, rs *roster.Service, as *assessment.Service, regions *region.Store, clk clock.Clock,
	log *slog.Logger, opt Options) *Service {
	if opt.RemindEvery <= 0 {
		opt.RemindEvery = 7 * 24 * time.Hour
	}
	return &Service{db: db, roster: rs, assessments: as, regions: regions, clock: clk, log: log, opt: opt}
}

const (
	subjectType  = "adjustment-round"
	maxTitle     = 100
	maxNote      = 500
	maxDecisions = 200
	// maxWindowDays bounds a window: one whole term.
	maxWindowDays = 3 * 366
)

var (
	errNotFound     = apperr.New(http.StatusNotFound, "adjustment_round_not_found", "调整轮次不存在或不在您的范围内")
	errLaunchOnly   = apperr.Forbidden("只有省、市两级民族工作部门可以发起集中调整")
	errManagerOnly  = apperr.Forbidden("只有发起该轮调整的民族工作部门可以结束它")
	errStaffOnly    = apperr.Forbidden("只有民族工作部门工作人员可以查看集中调整")
	errCountyOnly   = apperr.Forbidden("只有县级民族工作部门可以对本县指导员作出调整决定")
	errClosed       = apperr.New(http.StatusConflict, "adjustment_round_closed", "该轮调整已结束,不能再作出决定")
	errOverlap      = apperr.New(http.StatusConflict, "adjustment_round_overlap", "与正在进行的调整轮次范围和时间重叠")
	errPendingLeft  = apperr.New(http.StatusConflict, "adjustment_pending", "尚有指导员未作出调整决定,不能结束本轮调整")
	errAlreadyShut  = apperr.New(http.StatusConflict, "adjustment_round_closed", "该轮调整已结束")
	errDecidedOther = apperr.New(http.StatusConflict, "adjustment_decided", "该指导员已作出另一项调整决定,不能更改")
)

// canLaunch: province staff at the province and city staff at a city (省、市两级).
func canLaunch(p *access.Principal) bool {
	if !p.IsStaff() {
		return false
	}
	lv := region.LevelOf(p.RegionCode)
	return (p.Role == access.RoleProvinceStaff && lv == region.LevelProvince) ||
		(p.Role == access.RoleCityStaff && lv == region.LevelCity)
}

// above lists the regions strictly above code: rounds launched there cover code's instructors.
func above(code string) []string {
	var out []string
	for _, n := range []int{2, 4} {
		c := code[:n] + strings.Repeat("0", 12-n)
		if c != code && region.LevelOf(c) > 0 && region.Contains(c, code) {
			out = append(out, c)
		}
	}
	return out
}

func (s *Service) fresh() *gorm.DB { return s.db.Session(&gorm.Session{NewDB: true}) }

// visible limits a query on rounds to those p may see: launched in p's subtree or above p.
func (s *Service) visible(p *access.Principal) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		if !p.IsStaff() {
			return q.Where("1 = 0")
		}
		below := access.InRegion(p, "region_code")(s.fresh())
		if up := above(p.RegionCode); len(up) > 0 {
			return q.Where(below.Or("region_code IN ?", up))
		}
		return q.Where(below)
	}
}

func countyOf(code string) string {
	if len(code) < 6 {
		return code
	}
	return code[:6] + "000000"
}

// today is the current calendar day in China, as dates are stored (midnight UTC).
func (s *Service) today() time.Time {
	n := s.clock.Now().In(clock.Shanghai)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *Service) regionName(ctx context.Context, code string) string {
	if r, err := s.regions.Get(ctx, code); err == nil {
		return r.Name
	}
	return ""
}

// ---- launching ----

// Input launches a round: its title and the window (dates, both included) the terms end in.
type Input struct {
	Title       string
	WindowStart string
	WindowEnd   string
}

// Launch starts a round for the caller's province or city: every instructor in office there
// whose term ends in the window is put on its list, and the counties concerned are told in the
// same transaction.
func (s *Service) Launch(ctx context.Context, p *access.Principal, in Input) (RoundView, error) {
	if !canLaunch(p) {
		return RoundView{}, errLaunchOnly
	}
	now := s.clock.Now()
	today := s.today()
	r := Round{RegionCode: p.RegionCode, Title: strings.TrimSpace(in.Title), Status: StatusOpen, CreatedBy: p.AccountID,
		CreatedAt: now, UpdatedAt: now}
	var v validate.Checker
	v.Required("title", "调整名称", r.Title, maxTitle)
	var okStart, okEnd bool
	r.WindowStart, okStart = parseDate(&v, "window_start", "任期届满起始日期", in.WindowStart)
	r.WindowEnd, okEnd = parseDate(&v, "window_end", "任期届满截止日期", in.WindowEnd)
	if okStart && okEnd {
		switch {
		case r.WindowEnd.Before(r.WindowStart):
			v.Fail("window_end", "截止日期不能早于起始日期")
		case r.WindowEnd.Sub(r.WindowStart) > maxWindowDays*24*time.Hour:
			v.Fail("window_end", "调整范围最长一个任期(3年)")
		}
		v.Check(!r.WindowStart.Before(today.AddDate(-3, 0, 0)), "window_start", "起始日期不能早于3年前")
		v.Check(!r.WindowEnd.After(today.AddDate(3, 0, 0)), "window_end", "截止日期不能晚于3年后")
	}
	if err := v.Err(); err != nil {
		return RoundView{}, err
	}
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		// An open round of a region above, below or the same, whose window meets this one, would
		// put the same instructors on two lists.
		var clash int64
		regions := append(above(p.RegionCode), p.RegionCode)
		q := tx.Model(&Round{}).Where("status = ? AND window_start <= ? AND window_end >= ?", StatusOpen, r.WindowEnd, r.WindowStart).
			Where(access.Subtree("region_code", region.Prefix(p.RegionCode))(s.fresh()).Or("region_code IN ?", regions))
		if err := q.Count(&clash).Error; err != nil {
			return err
		}
		if clash > 0 {
			return errOverlap.WithField("window_start", "与正在进行的调整轮次重叠:请先结束那一轮,或调整起止日期")
		}
		row := r
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		r = row
		if _, err := s.sync(tx, r, access.System()); err != nil {
			return err
		}
		var counties []outbox.AdjustmentCounty
		if err := tx.Model(&Member{}).Select("county_code, COUNT(*) AS instructors").Where("round_id = ?", r.ID).
			Group("county_code").Order("county_code").Scan(&counties).Error; err != nil {
			return err
		}
		if len(counties) == 0 {
			return nil
		}
		return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: r.ID, RegionCode: r.RegionCode, At: now,
			Payload: outbox.AdjustmentLaunched{RoundID: r.ID, Title: r.Title, WindowStart: roster.FormatDate(&r.WindowStart),
				WindowEnd: roster.FormatDate(&r.WindowEnd), RegionCode: r.RegionCode, Counties: counties}})
	})
	if err != nil {
		return RoundView{}, err
	}
	audit.Subject(ctx, subjectType, r.ID, r.RegionCode)
	return s.view(ctx, p, r)
}

func parseDate(v *validate.Checker, field, label, raw string) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		v.Fail(field, label+"不能为空")
		return time.Time{}, false
	}
	d, ok := roster.ParseDate(raw)
	if !ok {
		v.Fail(field, label+"应为“2024-05-01”格式")
	}
	return d, ok
}

// sync puts on r's list the instructors in office in r's subtree (and within's, a caller's
// subtree) whose term ends in the window and who are not on it yet: those appointed, imported or
// renewed with such a term after the round began. It returns how many it added.
func (s *Service) sync(tx *gorm.DB, r Round, within *access.Principal) (int, error) {
	var rows []roster.Instructor
	if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "region_code", "term_end").
		Scopes(access.Subtree("region_code", region.Prefix(r.RegionCode)), access.InRegion(within, "region_code")).
		Where("status = ? AND term_end >= ? AND term_end <= ?", roster.StatusActive, r.WindowStart, r.WindowEnd).
		Where("id NOT IN (?)", s.fresh().Model(&Member{}).Select("instructor_id").Where("round_id = ?", r.ID)).
		Order("id").Find(&rows).Error; err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	now := s.clock.Now()
	ms := make([]Member, len(rows))
	for i, ins := range rows {
		ms[i] = Member{RoundID: r.ID, InstructorID: ins.ID, UnitID: ins.UnitID, RegionCode: ins.RegionCode,
			CountyCode: countyOf(ins.RegionCode), TermEnd: *ins.TermEnd, CreatedAt: now, UpdatedAt: now}
	}
	// Two readers syncing at once add each instructor once.
	return len(ms), tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(ms, 500).Error
}

// ---- reading ----

func (s *Service) load(db *gorm.DB, p *access.Principal, id int64) (Round, error) {
	var r Round
	err := db.Model(&Round{}).Scopes(s.visible(p)).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, errNotFound
	}
	return r, err
}

// refresh syncs an open round's list in the caller's subtree before it is read.
func (s *Service) refresh(ctx context.Context, p *access.Principal, r Round) error {
	if r.Status != StatusOpen {
		return nil
	}
	return database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		_, err := s.sync(tx, r, p)
		return err
	})
}

// Get returns one round with the counts of the caller's subtree.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (RoundView, error) {
	if !p.IsStaff() {
		return RoundView{}, errStaffOnly
	}
	r, err := s.load(s.db.WithContext(ctx), p, id)
	if err != nil {
		return RoundView{}, err
	}
	if err := s.refresh(ctx, p, r); err != nil {
		return RoundView{}, err
	}
	return s.view(ctx, p, r)
}

// Filter narrows a list of rounds.
type Filter struct {
	Status string
	Page   paging.Page
}

// List lists the rounds the caller may see, newest first.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]RoundView, string, error) {
	if !p.IsStaff() {
		return nil, "", errStaffOnly
	}
	var v validate.Checker
	v.OneOf("status", "调整状态", f.Status, false, roster.OneOf(Statuses))
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Round{}).Scopes(s.visible(p), f.Page.Apply("id"))
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []Round
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(r Round) int64 { return r.ID })
	out := make([]RoundView, len(rows))
	for i, r := range rows {
		v, err := s.view(ctx, p, r)
		if err != nil {
			return nil, "", err
		}
		out[i] = v
	}
	return out, next, nil
}

func (s *Service) view(ctx context.Context, p *access.Principal, r Round) (RoundView, error) {
	out := RoundView{ID: r.ID, Title: r.Title, RegionCode: r.RegionCode, RegionName: s.regionName(ctx, r.RegionCode),
		WindowStart: roster.FormatDate(&r.WindowStart), WindowEnd: roster.FormatDate(&r.WindowEnd), Status: r.Status,
		StatusName: roster.Label(Statuses, r.Status), ClosedAt: clock.LocalPtr(r.ClosedAt),
		CreatedAt: clock.Local(r.CreatedAt), UpdatedAt: clock.Local(r.UpdatedAt)}
	counts, err := s.counts(s.db.WithContext(ctx), p, r.ID)
	if err != nil {
		return out, err
	}
	for _, c := range counts {
		out.Counts.add(c.Counts)
	}
	return out, nil
}

func (c *Counts) add(o Counts) {
	c.Total += o.Total
	c.Renewed += o.Renewed
	c.Replaced += o.Replaced
	c.Ended += o.Ended
	c.Elsewhere += o.Elsewhere
	c.Pending += o.Pending
	c.Overdue += o.Overdue
}

// Expressions of a member's state ("m" joined to its instructor "i"). Untouched: undecided, and
// the roster still shows the term the round decides.
const (
	untouchedSQL = "m.decision = '' AND i.status = 'active' AND i.term_end = m.term_end"
	elsewhereSQL = "m.decision = '' AND NOT (i.status = 'active' AND i.term_end IS NOT NULL AND i.term_end = m.term_end)"
)

// counts are a round's members in p's subtree by county and state.
func (s *Service) counts(db *gorm.DB, p *access.Principal, roundID int64) ([]CountyProgress, error) {
	today := s.today()
	var rows []struct {
		CountyCode string
		Decision   string
		Elsewhere  int
		Past       int
		N          int64
	}
	if err := db.Table("adjustment_members AS m").Joins("JOIN instructors AS i ON i.id = m.instructor_id").
		Select("m.county_code AS county_code, m.decision AS decision, "+
			"CASE WHEN "+elsewhereSQL+" THEN 1 ELSE 0 END AS elsewhere, "+
			"CASE WHEN m.term_end <= ? THEN 1 ELSE 0 END AS past, COUNT(*) AS n", today).
		Where("m.round_id = ?", roundID).Scopes(access.InRegion(p, "m.region_code")).
		Group("m.county_code, m.decision, elsewhere, past").Scan(&rows).Error; err != nil {
		return nil, err
	}
	by := map[string]*CountyProgress{}
	var order []string
	for _, r := range rows {
		c := by[r.CountyCode]
		if c == nil {
			c = &CountyProgress{CountyCode: r.CountyCode}
			by[r.CountyCode] = c
			order = append(order, r.CountyCode)
		}
		c.Total += r.N
		switch {
		case r.Decision == DecisionRenew:
			c.Renewed += r.N
		case r.Decision == DecisionReplace:
			c.Replaced += r.N
		case r.Decision == DecisionEnd:
			c.Ended += r.N
		case r.Elsewhere == 1:
			c.Elsewhere += r.N
		default:
			c.Pending += r.N
			if r.Past == 1 {
				c.Overdue += r.N
			}
		}
	}
	slices.Sort(order)
	out := make([]CountyProgress, len(order))
	for i, code := range order {
		out[i] = *by[code]
	}
	return out, nil
}

// Progress is a round's progress per county of the caller's subtree (for a city its counties,
// for the province every county, with its city).
func (s *Service) Progress(ctx context.Context, p *access.Principal, id int64) (Progress, error) {
	if !p.IsStaff() {
		return Progress{}, errStaffOnly
	}
	db := s.db.WithContext(ctx)
	r, err := s.load(db, p, id)
	if err != nil {
		return Progress{}, err
	}
	if err := s.refresh(ctx, p, r); err != nil {
		return Progress{}, err
	}
	counties, err := s.counts(db, p, r.ID)
	if err != nil {
		return Progress{}, err
	}
	out := Progress{Counties: counties}
	for i := range out.Counties {
		c := &out.Counties[i]
		c.CountyName = s.regionName(ctx, c.CountyCode)
		c.CityCode = c.CountyCode[:4] + "00000000"
		c.CityName = s.regionName(ctx, c.CityCode)
		out.Total.add(c.Counts)
	}
	out.Round, err = s.view(ctx, p, r)
	return out, err
}

// MemberFilter narrows a round's list.
type MemberFilter struct {
	State      string // a state, or "decided"
	RegionCode string
	Page       paging.Page
}

// Members lists the instructors of a round in the caller's subtree, with their state, decision
// and their grades of the term's years.
func (s *Service) Members(ctx context.Context, p *access.Principal, id int64, f MemberFilter) ([]MemberView, string, error) {
	if !p.IsStaff() {
		return nil, "", errStaffOnly
	}
	var v validate.Checker
	v.Check(f.State == "" || f.State == "decided" || roster.OneOf(States)(f.State), "state",
		"状态应为pending、overdue、renew、replace、end、elsewhere或decided")
	v.RegionCode("region_code", f.RegionCode)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	db := s.db.WithContext(ctx)
	r, err := s.load(db, p, id)
	if err != nil {
		return nil, "", err
	}
	if err := s.refresh(ctx, p, r); err != nil {
		return nil, "", err
	}
	today := s.today()
	q := db.Table("adjustment_members AS m").Joins("JOIN instructors AS i ON i.id = m.instructor_id").
		Select("m.*").Where("m.round_id = ?", r.ID).
		Scopes(access.InRegion(p, "m.region_code"), access.UnderRegion("m.region_code", f.RegionCode), f.Page.Apply("m.id"))
	switch f.State {
	case StatePending:
		q = q.Where(untouchedSQL)
	case StateOverdue:
		q = q.Where(untouchedSQL+" AND m.term_end <= ?", today)
	case StateElsewhere:
		q = q.Where(elsewhereSQL)
	case "decided":
		q = q.Where("m.decision <> ''")
	case DecisionRenew, DecisionReplace, DecisionEnd:
		q = q.Where("m.decision = ?", f.State)
	}
	var rows []Member
	if err := q.Scan(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(m Member) int64 { return m.ID })
	out, err := s.memberViews(ctx, rows)
	return out, next, err
}

func (s *Service) memberViews(ctx context.Context, rows []Member) ([]MemberView, error) {
	out := make([]MemberView, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	db := s.db.WithContext(ctx)
	var ids, unitIDs []int64
	for _, m := range rows {
		ids = append(ids, m.InstructorID)
		unitIDs = append(unitIDs, m.UnitID)
		if m.ReplacementID > 0 {
			ids = append(ids, m.ReplacementID)
		}
	}
	people := map[int64]roster.Instructor{}
	for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(ids))), 500) {
		var part []roster.Instructor
		if err := db.Select("id", "name", "status", "term_end").Where("id IN ?", chunk).Find(&part).Error; err != nil {
			return nil, err
		}
		for _, r := range part {
			people[r.ID] = r
		}
	}
	units := map[int64]string{}
	for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(unitIDs))), 500) {
		var part []roster.Unit
		if err := db.Select("id", "name").Where("id IN ?", chunk).Find(&part).Error; err != nil {
			return nil, err
		}
		for _, u := range part {
			units[u.ID] = u.Name
		}
	}
	// The grades of the years the term covered.
	minYear, maxYear := 9999, 0
	for _, m := range rows {
		end := m.TermEnd.Year()
		minYear, maxYear = min(minYear, end-roster.TermYears), max(maxYear, end)
	}
	grades, err := s.assessments.Briefs(ctx, slices.Compact(slices.Sorted(slices.Values(ids))), minYear, maxYear)
	if err != nil {
		return nil, err
	}
	today := s.today()
	for i, m := range rows {
		ins := people[m.InstructorID]
		v := MemberView{InstructorID: m.InstructorID, Name: ins.Name, UnitID: m.UnitID, UnitName: units[m.UnitID],
			RegionCode: m.RegionCode, CountyCode: m.CountyCode, CountyName: s.regionName(ctx, m.CountyCode),
			TermEnd: roster.FormatDate(&m.TermEnd), Status: ins.Status, StatusName: roster.Label(roster.InstructorStatuses, ins.Status),
			CurrentTermEnd: roster.FormatDate(ins.TermEnd), Decision: m.Decision, DecisionName: roster.Label(Decisions, m.Decision),
			ReasonCategory: m.ReasonCategory, ReasonCategoryName: roster.Label(roster.AdjustReasons, m.ReasonCategory),
			Note: m.Note, ReplacementID: m.ReplacementID, DecidedAt: clock.LocalPtr(m.DecidedAt), Assessments: []assessment.Brief{}}
		if m.ReplacementID > 0 {
			v.ReplacementName = people[m.ReplacementID].Name
		}
		untouched := ins.Status == roster.StatusActive && ins.TermEnd != nil && ins.TermEnd.Equal(m.TermEnd)
		switch {
		case m.Decision != "":
			v.State = m.Decision
		case !untouched:
			v.State = StateElsewhere
		case !m.TermEnd.After(today):
			v.State, v.Overdue = StateOverdue, true
		default:
			v.State = StatePending
		}
		v.StateName = roster.Label(States, v.State)
		for _, g := range grades[m.InstructorID] {
			if g.Year >= m.TermEnd.Year()-roster.TermYears && g.Year <= m.TermEnd.Year() {
				v.Assessments = append(v.Assessments, g)
			}
		}
		out[i] = v
	}
	return out, nil
}

// Close ends a round once every instructor on its list is decided (or handled on the roster).
func (s *Service) Close(ctx context.Context, p *access.Principal, id int64) (RoundView, error) {
	if !p.IsStaff() {
		return RoundView{}, errManagerOnly
	}
	var out Round
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		r, err := s.load(tx, p, id)
		if err != nil {
			return err
		}
		if !canLaunch(p) || p.RegionCode != r.RegionCode {
			return errManagerOnly
		}
		if r.Status != StatusOpen {
			return errAlreadyShut
		}
		if _, err := s.sync(tx, r, access.System()); err != nil {
			return err
		}
		var pending int64
		if err := tx.Table("adjustment_members AS m").Joins("JOIN instructors AS i ON i.id = m.instructor_id").
			Where("m.round_id = ? AND "+untouchedSQL, r.ID).Count(&pending).Error; err != nil {
			return err
		}
		if pending > 0 {
			return errPendingLeft.WithField("id", fmt.Sprintf("尚有%d名指导员未作出调整决定", pending))
		}
		now := s.clock.Now()
		res := tx.Model(&Round{}).Where("id = ? AND status = ?", r.ID, StatusOpen).
			Updates(map[string]any{"status": StatusClosed, "closed_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errAlreadyShut
		}
		r.Status, r.ClosedAt, r.UpdatedAt = StatusClosed, &now, now
		out = r
		return nil
	})
	if err != nil {
		return RoundView{}, err
	}
	audit.Subject(ctx, subjectType, out.ID, out.RegionCode)
	return s.view(ctx, p, out)
}

// ---- deciding ----

// DecisionInput is a county's decision on one instructor of a round. Replace takes a new person
// (Replacement) or an instructor already on the roster (ReplacementID); renew may start the new
// term on another day than the end of the current one.
type DecisionInput struct {
	InstructorID   int64
	Decision       string
	ReasonCategory string
	Note           string
	TermStart      string
	Replacement    *roster.InstructorInput
	ReplacementID  int64
}

// Decide records a county's decisions on several instructors of a round at once, each carried
// out by the roster's term code, all in one transaction: either every decision holds or none
// does, and an error names the item (decisions[2].reason_category). A decision already recorded
// is left as it is when asked again (a retried request); another decision for the same
// instructor is refused.
func (s *Service) Decide(ctx context.Context, p *access.Principal, id int64, items []DecisionInput) ([]MemberView, error) {
	if !p.IsStaff() || p.Role != access.RoleCountyStaff {
		return nil, errCountyOnly
	}
	var v validate.Checker
	v.Check(len(items) > 0, "decisions", "请至少对一名指导员作出决定")
	v.Check(len(items) <= maxDecisions, "decisions", fmt.Sprintf("一次最多提交%d项决定", maxDecisions))
	starts := make([]*time.Time, len(items))
	seen := map[int64]bool{}
	for i := range items {
		it := &items[i]
		at := fmt.Sprintf("decisions[%d].", i)
		it.Note = strings.TrimSpace(it.Note)
		if it.InstructorID <= 0 {
			v.Fail(at+"instructor_id", "请指定指导员")
		} else if seen[it.InstructorID] {
			v.Fail(at+"instructor_id", "同一名指导员只能作出一项决定")
		}
		seen[it.InstructorID] = true
		v.OneOf(at+"decision", "调整决定", it.Decision, true, roster.OneOf(Decisions))
		v.OneOf(at+"reason_category", "调整原因", it.ReasonCategory, true, roster.OneOf(roster.AdjustReasons))
		v.MaxLen(at+"note", "说明", it.Note, maxNote)
		if it.ReasonCategory == "other" {
			v.Check(it.Note != "", at+"note", "调整原因为“其他”时请写明说明")
		}
		if t := strings.TrimSpace(it.TermStart); t != "" {
			d, ok := roster.ParseDate(t)
			v.Check(ok, at+"term_start", "新任期开始日期应为“2024-05-01”格式")
			v.Check(it.Decision == DecisionRenew, at+"term_start", "只有续聘可以指定新任期的开始日期")
			if ok {
				starts[i] = &d
			}
		}
		if it.Decision == DecisionReplace && (it.Replacement == nil) == (it.ReplacementID == 0) {
			v.Fail(at+"replacement", "请填写替换人员的信息,或指定已登记的指导员(replacement_instructor_id),二者选一")
		}
		if it.Decision != DecisionReplace && (it.Replacement != nil || it.ReplacementID != 0) {
			v.Fail(at+"replacement", "只有替换需要填写替换人员")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var decided []Member
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		decided = decided[:0]
		r, err := s.load(tx, p, id)
		if err != nil {
			return err
		}
		if r.Status != StatusOpen {
			return errClosed
		}
		if _, err := s.sync(tx, r, p); err != nil {
			return err
		}
		for i, it := range items {
			m, err := s.decideOne(ctx, tx, p, r, it, starts[i], now)
			if err != nil {
				return atItem(err, i)
			}
			decided = append(decided, m)
		}
		return nil
	})
	s.roster.Committed() // the name index of the instructors changed (roster.Service.Committed)
	if err != nil {
		return nil, err
	}
	audit.Subject(ctx, subjectType, id, p.RegionCode)
	return s.memberViews(ctx, decided)
}

// decideOne carries out one decision through the roster and records it on the member.
func (s *Service) decideOne(ctx context.Context, tx *gorm.DB, p *access.Principal, r Round, it DecisionInput, start *time.Time, now time.Time) (Member, error) {
	var m Member
	err := tx.Model(&Member{}).Scopes(access.InRegion(p, "region_code")).
		Where("round_id = ? AND instructor_id = ?", r.ID, it.InstructorID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return m, apperr.New(http.StatusNotFound, "instructor_not_found", "该指导员不在本轮调整名单中,或不在您的管辖范围内").
			WithField("instructor_id", "不在本轮调整名单中或不在您的管辖范围内")
	}
	if err != nil {
		return m, err
	}
	if m.Decision != "" {
		if m.Decision == it.Decision && m.ReasonCategory == it.ReasonCategory {
			return m, nil // asked again: already so
		}
		return m, errDecidedOther.WithField("decision", "已决定为"+roster.Label(Decisions, m.Decision))
	}
	var replacement int64
	switch it.Decision {
	case DecisionRenew:
		err = s.roster.RenewIn(tx, p, m.InstructorID, start, it.ReasonCategory, it.Note)
	case DecisionEnd:
		err = s.roster.EndTermIn(tx, p, m.InstructorID, it.ReasonCategory, it.Note)
	case DecisionReplace:
		in := roster.AdjustInput{Action: roster.AdjustReplace, ReasonCategory: it.ReasonCategory, Note: it.Note,
			Replacement: it.Replacement, ReplacementID: it.ReplacementID}
		replacement, err = s.roster.AdjustIn(ctx, tx, p, m.InstructorID, in)
	}
	if err != nil {
		return m, err
	}
	m.Decision, m.ReasonCategory, m.Note, m.ReplacementID, m.DecidedBy, m.DecidedAt, m.UpdatedAt =
		it.Decision, it.ReasonCategory, it.Note, replacement, p.AccountID, &now, now
	res := tx.Model(&Member{}).Where("id = ? AND decision = ''", m.ID).Updates(map[string]any{
		"decision": m.Decision, "reason_category": m.ReasonCategory, "note": m.Note, "replacement_id": replacement,
		"decided_by": p.AccountID, "decided_at": now, "updated_at": now})
	if res.Error != nil {
		return m, res.Error
	}
	if res.RowsAffected == 0 {
		return m, errDecidedOther
	}
	return m, nil
}

// atItem names the item of a batch an error is about: its fields become decisions[i].field, and
// an error without a field points at the item's instructor.
func atItem(err error, i int) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	c := *e
	at := fmt.Sprintf("decisions[%d].", i)
	c.Details = nil
	for _, d := range e.Details {
		c.Details = append(c.Details, apperr.FieldError{Field: at + d.Field, Message: d.Message})
	}
	if len(c.Details) == 0 {
		c.Details = []apperr.FieldError{{Field: at + "instructor_id", Message: e.Message}}
	}
	return &c
}

// ---- reminders ----

// DueReminders reminds, through the outbox, each county of an open round whose instructors'
// terms ran out without its decision, at most once per RemindEvery; it returns how many
// reminders it wrote. Any number of instances may sweep at once: the reminder's key (round,
// county, day) lets one through.
func (s *Service) DueReminders(ctx context.Context) (int, error) {
	db := s.db.WithContext(ctx)
	var rounds []Round
	if err := db.Where("status = ?", StatusOpen).Order("id").Find(&rounds).Error; err != nil {
		return 0, err
	}
	today := s.today()
	done := 0
	for _, r := range rounds {
		if err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
			_, err := s.sync(tx, r, access.System())
			return err
		}); err != nil {
			return done, err
		}
		var rows []struct {
			CountyCode string
			N          int64
		}
		if err := db.Table("adjustment_members AS m").Joins("JOIN instructors AS i ON i.id = m.instructor_id").
			Select("m.county_code AS county_code, COUNT(*) AS n").
			Where("m.round_id = ? AND "+untouchedSQL+" AND m.term_end <= ?", r.ID, today).
			Group("m.county_code").Order("m.county_code").Scan(&rows).Error; err != nil {
			return done, err
		}
		for _, c := range rows {
			ok, err := s.remind(ctx, r, c.CountyCode, c.N, today)
			if err != nil {
				if ctx.Err() != nil {
					return done, nil
				}
				return done, fmt.Errorf("adjustment round %d county %s: %w", r.ID, c.CountyCode, err)
			}
			if ok {
				done++
			}
		}
	}
	return done, nil
}

func (s *Service) remind(ctx context.Context, r Round, county string, overdue int64, today time.Time) (bool, error) {
	now := s.clock.Now()
	written := false
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		written = false
		var last []Reminder
		if err := tx.Where("round_id = ? AND county_code = ?", r.ID, county).Order("sent_on DESC").Limit(1).Find(&last).Error; err != nil {
			return err
		}
		if len(last) == 1 && now.Sub(last[0].CreatedAt) < s.opt.RemindEvery {
			return nil
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Reminder{RoundID: r.ID, CountyCode: county, SentOn: today, Overdue: overdue, CreatedAt: now})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		undecided := func() *gorm.DB {
			return tx.Table("adjustment_members AS m").Joins("JOIN instructors AS i ON i.id = m.instructor_id").
				Where("m.round_id = ? AND m.county_code = ? AND "+untouchedSQL, r.ID, county)
		}
		var pending int64
		if err := undecided().Count(&pending).Error; err != nil {
			return err
		}
		// The earliest ended term, read as a column (an aggregate of dates loses its type on SQLite).
		var first []Member
		if err := undecided().Select("m.term_end").Order("m.term_end").Limit(1).Scan(&first).Error; err != nil {
			return err
		}
		earliest := ""
		if len(first) == 1 {
			earliest = roster.FormatDate(&first[0].TermEnd)
		}
		written = true
		return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: r.ID, RegionCode: county, At: now,
			Payload: outbox.AdjustmentOverdue{RoundID: r.ID, Title: r.Title, CountyCode: county, Overdue: overdue,
				Pending: pending, Earliest: earliest}})
	})
	return written, err
}

// Sweep runs DueReminders every interval until ctx ends; a zero interval disables it.
func (s *Service) Sweep(ctx context.Context, every time.Duration) {
	sweep.Counting(ctx, s.log, every, "adjustment reminders written", s.DueReminders)
}
