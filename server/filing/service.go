package filing

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Service files rosters and decides on filings. Every method takes the caller; staff see the
// filings of regions in their subtree.
type Service struct {
	db      *gorm.DB
	roster  *roster.Service
	regions *region.Store
	clock   clock.Clock
	log     *slog.Logger
	opt     Options
}

// Options tune the reminder of counties whose roster changed after their last accepted filing.
type Options struct {
	// RemindAfter: how long the roster has differed before the county is reminded.
	RemindAfter time.Duration
	// RemindEvery: the least time between two reminders of one county.
	RemindEvery time.Duration
}

// NewService wires filings.
func NewService(db *gorm.DB, rs *roster.Service, regions *region.Store, clk clock.Clock, log *slog.Logger, opt Options) *Service {
	return &Service{db: db, roster: rs, regions: regions, clock: clk, log: log, opt: opt}
}

// subjectType is the events' subject type of a filing.
const subjectType = "filing"

func notice(f Filing) outbox.Filing {
	return outbox.Filing{FilingID: f.ID, Level: f.Level, RegionCode: f.RegionCode, ParentCode: f.ParentCode,
		InstructorCount: f.InstructorCount}
}

var (
	errNotFound  = apperr.New(http.StatusNotFound, "filing_not_found", "备案不存在或不在您的管辖范围内")
	errStaffOnly = apperr.Forbidden("只有民族工作部门工作人员可以查看和办理备案")
	errDecided   = apperr.New(http.StatusConflict, "filing_decided", "该备案已被接收或退回")
)

// File snapshots the caller's roster and files it to the level above: county staff file their
// county's instructors in office; city staff file the latest accepted filing of each of their
// counties. One filing per region may await a decision at a time.
func (s *Service) File(ctx context.Context, p *access.Principal, note string) (Detail, error) {
	if !p.IsStaff() {
		return Detail{}, errStaffOnly
	}
	var level string
	switch p.Role {
	case access.RoleCountyStaff:
		level = LevelCounty
	case access.RoleCityStaff:
		level = LevelCity
	default:
		return Detail{}, apperr.Forbidden("备案由县级民族工作部门报市级、市级报省级;省级和系统管理员无需备案")
	}
	note = strings.TrimSpace(note)
	var v validate.Checker
	v.MaxLen("note", "备注", note, 500)
	if err := v.Err(); err != nil {
		return Detail{}, err
	}
	self, err := s.regions.Get(ctx, p.RegionCode)
	if err != nil {
		return Detail{}, err
	}
	var counties []region.Region
	if level == LevelCity {
		if counties, err = s.regions.Children(ctx, p.RegionCode); err != nil {
			return Detail{}, err
		}
	}
	now := s.clock.Now()
	pending := p.RegionCode
	f := Filing{Level: level, RegionCode: p.RegionCode, ParentCode: self.ParentCode, Status: StatusSubmitted,
		PendingRegion: &pending, Note: note, FiledBy: p.AccountID, FiledAt: now}
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		f.ID = 0 // a retried attempt inserts afresh
		if err := tx.Create(&f).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return apperr.New(http.StatusConflict, "filing_pending", "已有一份备案等待上级接收,请等其接收或退回后再备案")
			}
			return err
		}
		var rows []Row
		if level == LevelCounty {
			snap, err := s.roster.ActiveIn(ctx, tx, p.RegionCode)
			if err != nil {
				return err
			}
			rows = make([]Row, len(snap))
			for i, r := range snap {
				rows[i] = Row{FilingID: f.ID, InstructorID: r.InstructorID, Name: r.Name, Gender: r.Gender, Ethnicity: r.Ethnicity,
					PhoneMasked: r.PhoneMasked, PhoneHash: r.PhoneHash, PoliticalStatus: r.PoliticalStatus, Position: r.Position,
					SourceCategory: r.SourceCategory, Status: r.Status, UnitID: r.UnitID, UnitName: r.UnitName, UnitKind: r.UnitKind,
					RegionCode: r.RegionCode, TermStart: r.TermStart, TermEnd: r.TermEnd}
			}
		} else {
			var err error
			if rows, err = s.cityRows(tx, f.ID, counties); err != nil {
				return err
			}
		}
		units := map[int64]bool{}
		for _, r := range rows {
			units[r.UnitID] = true
		}
		if len(rows) > 0 {
			if err := tx.CreateInBatches(&rows, roster.BatchRows(tx)).Error; err != nil {
				return err
			}
		}
		f.InstructorCount, f.UnitCount = len(rows), len(units)
		if err := tx.Model(&Filing{}).Where("id = ?", f.ID).
			Updates(map[string]any{"instructor_count": f.InstructorCount, "unit_count": f.UnitCount}).Error; err != nil {
			return err
		}
		// The level that accepts it hears of it at once.
		return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: f.ID, RegionCode: f.RegionCode, At: now,
			Payload: outbox.FilingSubmitted{Filing: notice(f), Note: note}})
	})
	if err != nil {
		return Detail{}, err
	}
	return s.Get(ctx, p, f.ID)
}

// cityRows copies the rows of each county's latest accepted filing into city filing id and
// records which filings it consists of.
func (s *Service) cityRows(tx *gorm.DB, id int64, counties []region.Region) ([]Row, error) {
	codes := make([]string, len(counties))
	for i, c := range counties {
		codes[i] = c.Code
	}
	latest, err := latestFilings(tx, codes, true)
	if err != nil {
		return nil, err
	}
	if len(latest) == 0 {
		return nil, apperr.New(http.StatusConflict, "nothing_to_file", "辖区内各县(市、区)尚无已接收的备案,请先接收县级备案")
	}
	var out []Row
	for _, code := range codes {
		part, ok := latest[code]
		if !ok {
			continue
		}
		if err := tx.Create(&Part{FilingID: id, PartFilingID: part.ID, RegionCode: code,
			InstructorCount: part.InstructorCount, FiledAt: part.FiledAt}).Error; err != nil {
			return nil, err
		}
		var rows []Row
		if err := tx.Where("filing_id = ?", part.ID).Order("id").Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			r.ID, r.FilingID, r.PartFilingID = 0, id, part.ID
			out = append(out, r)
		}
	}
	return out, nil
}

// latestFilings returns the newest filing (the newest accepted one when accepted) of each of
// the regions that has one.
func latestFilings(db *gorm.DB, codes []string, accepted bool) (map[string]Filing, error) {
	out := map[string]Filing{}
	if len(codes) == 0 {
		return out, nil
	}
	sub := db.Model(&Filing{}).Select("MAX(id)").Where("region_code IN ?", codes).Group("region_code")
	if accepted {
		sub = sub.Where("status = ?", StatusAccepted)
	}
	var rows []Filing
	if err := db.Where("id IN (?)", sub).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, f := range rows {
		out[f.RegionCode] = f
	}
	return out, nil
}

// Filter narrows the list of filings.
type Filter struct {
	Level string
	// Statuses are the statuses asked for, any of them; none means all.
	Statuses   []string
	RegionCode string
	Page       paging.Page
}

// List lists the filings of regions in the caller's subtree, newest first.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]View, string, error) {
	if !p.IsStaff() {
		return nil, "", errStaffOnly
	}
	var v validate.Checker
	v.OneOf("level", "备案层级", f.Level, false, roster.OneOf(Levels))
	v.OneOfEach("status", "状态", f.Statuses, roster.OneOf(Statuses))
	v.RegionCode("region_code", f.RegionCode)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Filing{}).Scopes(access.InRegion(p, "region_code"), f.Page.Apply("id"))
	q = q.Scopes(access.UnderRegion("region_code", f.RegionCode))
	if f.Level != "" {
		q = q.Where("level = ?", f.Level)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	var rows []Filing
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(f Filing) int64 { return f.ID })
	out := make([]View, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.view(ctx, r, nil))
	}
	return out, next, nil
}

func (s *Service) find(db *gorm.DB, p *access.Principal, id int64) (Filing, error) {
	if !p.IsStaff() {
		return Filing{}, errStaffOnly
	}
	var f Filing
	err := db.Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return f, errNotFound
	}
	return f, err
}

// Get returns a filing in scope with its rows.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (Detail, error) {
	db := s.db.WithContext(ctx)
	f, err := s.find(db, p, id)
	if err != nil {
		return Detail{}, err
	}
	var parts []Part
	if err := db.Where("filing_id = ?", id).Order("region_code").Find(&parts).Error; err != nil {
		return Detail{}, err
	}
	rows, err := s.rows(db, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{View: s.view(ctx, f, parts), Rows: make([]RowView, len(rows))}
	for i, r := range rows {
		d.Rows[i] = s.rowView(ctx, r)
	}
	return d, nil
}

func (s *Service) rows(db *gorm.DB, id int64) ([]Row, error) {
	var rows []Row
	err := db.Where("filing_id = ?", id).Order("region_code, unit_id, instructor_id").Find(&rows).Error
	return rows, err
}

// Accept accepts a filing awaiting the caller's decision.
func (s *Service) Accept(ctx context.Context, p *access.Principal, id int64) (View, error) {
	return s.decide(ctx, p, id, StatusAccepted, "")
}

// Return returns a filing to the filer with the reason; the filer corrects the roster and files
// again.
func (s *Service) Return(ctx context.Context, p *access.Principal, id int64, reason string) (View, error) {
	reason = strings.TrimSpace(reason)
	var v validate.Checker
	v.Required("reason", "退回原因", reason, 500)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	return s.decide(ctx, p, id, StatusReturned, reason)
}

// receives reports whether p is the level a filing is filed to: the city's staff for a county
// filing, the province's for a city filing.
func receives(p *access.Principal, f Filing) bool {
	if p.RegionCode != f.ParentCode {
		return false
	}
	return (f.Level == LevelCounty && p.Role == access.RoleCityStaff) ||
		(f.Level == LevelCity && p.Role == access.RoleProvinceStaff)
}

func (s *Service) decide(ctx context.Context, p *access.Principal, id int64, status, reason string) (View, error) {
	var out Filing
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		f, err := s.find(tx, p, id)
		if err != nil {
			return err
		}
		if !receives(p, f) {
			return apperr.Forbidden("只有接收备案的上级民族工作部门(县级备案由市级、市级备案由省级)可以接收或退回")
		}
		if f.Status != StatusSubmitted {
			return errDecided
		}
		now := s.clock.Now()
		res := tx.Model(&Filing{}).Where("id = ? AND status = ?", id, StatusSubmitted).Updates(map[string]any{
			"status": status, "pending_region": nil, "decided_by": p.AccountID, "decided_at": now, "return_reason": reason})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errDecided
		}
		if out, err = s.find(tx, p, id); err != nil {
			return err
		}
		// The filer hears how it was decided.
		var payload outbox.Payload = outbox.FilingAccepted{Filing: notice(out)}
		if status == StatusReturned {
			payload = outbox.FilingReturned{Filing: notice(out), Reason: reason}
		}
		return outbox.Write(tx, outbox.Entry{SubjectType: subjectType, SubjectID: out.ID, RegionCode: out.RegionCode, At: now, Payload: payload})
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, out, nil), nil
}

// Diff compares a filing with the previous accepted filing of the same region: instructors
// added, removed, and those whose filed fields changed.
func (s *Service) Diff(ctx context.Context, p *access.Principal, id int64) (Diff, error) {
	db := s.db.WithContext(ctx)
	f, err := s.find(db, p, id)
	if err != nil {
		return Diff{}, err
	}
	out := Diff{FilingID: id, Added: []RowView{}, Removed: []RowView{}, Changed: []Change{}}
	var base []Filing
	if err := db.Where("region_code = ? AND status = ? AND id < ?", f.RegionCode, StatusAccepted, id).
		Order("id DESC").Limit(1).Find(&base).Error; err != nil {
		return Diff{}, err
	}
	cur, err := s.rows(db, id)
	if err != nil {
		return Diff{}, err
	}
	var before []Row
	if len(base) > 0 {
		out.BaseFilingID, out.BaseFiledAt = base[0].ID, clock.LocalPtr(&base[0].FiledAt)
		if before, err = s.rows(db, base[0].ID); err != nil {
			return Diff{}, err
		}
	}
	old := make(map[int64]Row, len(before))
	for _, r := range before {
		old[r.InstructorID] = r
	}
	seen := map[int64]bool{}
	for _, r := range cur {
		seen[r.InstructorID] = true
		o, ok := old[r.InstructorID]
		if !ok {
			out.Added = append(out.Added, s.rowView(ctx, r))
			continue
		}
		if fields := s.changes(ctx, o, r); len(fields) > 0 {
			out.Changed = append(out.Changed, Change{InstructorID: r.InstructorID, Name: r.Name, Fields: fields})
		}
	}
	for _, r := range before {
		if !seen[r.InstructorID] {
			out.Removed = append(out.Removed, s.rowView(ctx, r))
		}
	}
	return out, nil
}

// changes lists the filed fields that differ between two rows of one instructor.
func (s *Service) changes(ctx context.Context, a, b Row) []FieldChange {
	av, bv := s.rowView(ctx, a), s.rowView(ctx, b)
	var out []FieldChange
	add := func(field, label string, differ bool, before, after string) {
		if differ {
			out = append(out, FieldChange{Field: field, Label: label, Before: before, After: after})
		}
	}
	add("name", "姓名", a.Name != b.Name, a.Name, b.Name)
	add("gender", "性别", a.Gender != b.Gender, av.GenderName, bv.GenderName)
	add("ethnicity", "民族", a.Ethnicity != b.Ethnicity, av.EthnicityName, bv.EthnicityName)
	add("phone", "手机号", a.PhoneHash != b.PhoneHash, a.PhoneMasked, b.PhoneMasked)
	add("political_status", "政治面貌", a.PoliticalStatus != b.PoliticalStatus, av.PoliticalStatusName, bv.PoliticalStatusName)
	add("position", "职务", a.Position != b.Position, a.Position, b.Position)
	add("source_category", "选聘范围", a.SourceCategory != b.SourceCategory, av.SourceCategoryName, bv.SourceCategoryName)
	add("unit", "所在单位", a.UnitID != b.UnitID || a.UnitName != b.UnitName, a.UnitName, b.UnitName)
	add("region_code", "所在区划", a.RegionCode != b.RegionCode, av.RegionName, bv.RegionName)
	add("term_start", "任期开始", av.TermStart != bv.TermStart, av.TermStart, bv.TermStart)
	add("term_end", "任期结束", av.TermEnd != bv.TermEnd, av.TermEnd, bv.TermEnd)
	return out
}

// Overview shows, for a region in scope (the caller's own by default), every city and county of
// its subtree with its latest filing and its latest accepted filing.
func (s *Service) Overview(ctx context.Context, p *access.Principal, code string) (Overview, error) {
	if !p.IsStaff() {
		return Overview{}, errStaffOnly
	}
	if code == "" {
		code = p.RegionCode
	}
	if !region.ValidCode(code) {
		return Overview{}, apperr.Field("region_code", "行政区划代码应为12位数字")
	}
	r, err := s.regions.Get(ctx, code)
	if errors.Is(err, region.ErrNotFound) {
		return Overview{}, apperr.Field("region_code", "行政区划代码不存在")
	}
	if err != nil {
		return Overview{}, err
	}
	if !p.CanSeeRegion(code) {
		return Overview{}, apperr.Forbidden("该行政区划不在您的管辖范围内").WithField("region_code", "不在您的管辖范围内")
	}
	if r.Level > region.LevelCounty {
		return Overview{}, apperr.Field("region_code", "请选择省、市或县级行政区划")
	}
	var filers []region.Region
	switch r.Level {
	case region.LevelProvince:
		cities, err := s.regions.Children(ctx, code)
		if err != nil {
			return Overview{}, err
		}
		for _, c := range cities {
			counties, err := s.regions.Children(ctx, c.Code)
			if err != nil {
				return Overview{}, err
			}
			filers = append(filers, c)
			filers = append(filers, counties...)
		}
	case region.LevelCity:
		counties, err := s.regions.Children(ctx, code)
		if err != nil {
			return Overview{}, err
		}
		filers = append([]region.Region{r}, counties...)
	default:
		filers = []region.Region{r}
	}
	codes := make([]string, len(filers))
	for i, f := range filers {
		codes[i] = f.Code
	}
	db := s.db.WithContext(ctx)
	latest, err := latestFilings(db, codes, false)
	if err != nil {
		return Overview{}, err
	}
	accepted, err := latestFilings(db, codes, true)
	if err != nil {
		return Overview{}, err
	}
	changed, err := s.changedSince(ctx, db, code, filers, accepted)
	if err != nil {
		return Overview{}, err
	}
	var stale []Staleness
	if err := db.Where("region_code IN ?", codes).Find(&stale).Error; err != nil {
		return Overview{}, err
	}
	staleness := map[string]Staleness{}
	for _, st := range stale {
		staleness[st.RegionCode] = st
	}
	now := s.clock.Now()
	out := Overview{RegionCode: code, RegionName: r.Name, Items: make([]OverviewItem, 0, len(filers))}
	for _, f := range filers {
		item := OverviewItem{RegionCode: f.Code, RegionName: f.Name, Level: region.LevelName(f.Level), ParentCode: f.ParentCode,
			RosterChanged: changed[f.Code], State: StateNever}
		l, filed := latest[f.Code]
		if filed {
			item.Latest = summary(l)
		}
		a, ok := accepted[f.Code]
		if ok {
			item.LatestAccepted = summary(a)
			days := daysSince(a.FiledAt, now)
			item.DaysSinceAccepted = &days
			if st, ok := staleness[f.Code]; ok && st.AcceptedFilingID == a.ID && item.RosterChanged {
				item.StaleSince, item.RemindedAt = clock.LocalPtr(&st.StaleSince), clock.LocalPtr(st.RemindedAt)
			}
		}
		switch {
		case filed && l.Status == StatusSubmitted:
			item.State = StatePending
		case filed && l.Status == StatusReturned:
			item.State = StateReturned
		case ok && item.RosterChanged:
			item.State = StateChanged
		case ok:
			item.State = StateCurrent
		}
		item.StateName = roster.Label(States, item.State)
		out.Items = append(out.Items, item)
	}
	return out, nil
}

// changedSince tells, for each filer, whether what it would file now differs from its last
// accepted filing: a county's instructors in office (read at once for the whole overview, without
// decrypting phones), a city's counties' latest accepted filings.
func (s *Service) changedSince(ctx context.Context, db *gorm.DB, root string, filers []region.Region, accepted map[string]Filing) (map[string]bool, error) {
	var counties, cities []string
	var ids []int64
	for _, f := range filers {
		if f.Level == region.LevelCounty {
			counties = append(counties, f.Code)
			if a, ok := accepted[f.Code]; ok {
				ids = append(ids, a.ID)
			}
		} else if f.Level == region.LevelCity {
			cities = append(cities, f.Code)
		}
	}
	out := map[string]bool{}
	if len(counties) > 0 {
		cur, err := s.currentPrints(ctx, db, root, counties)
		if err != nil {
			return nil, err
		}
		filed, err := filedPrints(db, ids)
		if err != nil {
			return nil, err
		}
		empty := fingerprint(nil)
		for _, c := range counties {
			was := empty
			if a, ok := accepted[c]; ok && filed[a.ID] != "" {
				was = filed[a.ID]
			}
			out[c] = cur[c] != was
		}
	}
	for _, city := range cities {
		children, err := s.regions.Children(ctx, city)
		if err != nil {
			return nil, err
		}
		codes := make([]string, len(children))
		for i, c := range children {
			codes[i] = c.Code
		}
		now, err := latestFilings(db, codes, true)
		if err != nil {
			return nil, err
		}
		held := map[string]int64{}
		if a, ok := accepted[city]; ok {
			var parts []Part
			if err := db.Where("filing_id = ?", a.ID).Find(&parts).Error; err != nil {
				return nil, err
			}
			for _, p := range parts {
				held[p.RegionCode] = p.PartFilingID
			}
		}
		for c, f := range now {
			if held[c] != f.ID {
				out[city] = true
			}
		}
	}
	return out, nil
}

func summary(f Filing) *Summary {
	return &Summary{ID: f.ID, Status: f.Status, StatusName: roster.Label(Statuses, f.Status),
		InstructorCount: f.InstructorCount, FiledAt: clock.Local(f.FiledAt), DecidedAt: clock.LocalPtr(f.DecidedAt)}
}

func (s *Service) regionName(ctx context.Context, code string) string {
	if r, err := s.regions.Get(ctx, code); err == nil {
		return r.Name
	}
	return ""
}

func (s *Service) view(ctx context.Context, f Filing, parts []Part) View {
	v := View{
		ID: f.ID, Level: f.Level, LevelName: roster.Label(Levels, f.Level),
		RegionCode: f.RegionCode, RegionName: s.regionName(ctx, f.RegionCode),
		ParentCode: f.ParentCode, ParentName: s.regionName(ctx, f.ParentCode),
		Status: f.Status, StatusName: roster.Label(Statuses, f.Status),
		InstructorCount: f.InstructorCount, UnitCount: f.UnitCount, Note: f.Note, FiledBy: f.FiledBy,
		FiledAt: clock.Local(f.FiledAt), DecidedAt: clock.LocalPtr(f.DecidedAt), ReturnReason: f.ReturnReason,
	}
	for _, pt := range parts {
		v.Parts = append(v.Parts, PartView{FilingID: pt.PartFilingID, RegionCode: pt.RegionCode,
			RegionName: s.regionName(ctx, pt.RegionCode), InstructorCount: pt.InstructorCount, FiledAt: clock.Local(pt.FiledAt)})
	}
	return v
}

func (s *Service) rowView(ctx context.Context, r Row) RowView {
	return RowView{
		InstructorID: r.InstructorID, Name: r.Name,
		Gender: r.Gender, GenderName: roster.Label(roster.Genders, r.Gender),
		Ethnicity: r.Ethnicity, EthnicityName: roster.Label(roster.Ethnicities, r.Ethnicity),
		Phone: r.PhoneMasked, PoliticalStatus: r.PoliticalStatus, PoliticalStatusName: roster.Label(roster.PoliticalStatuses, r.PoliticalStatus),
		Position: r.Position, SourceCategory: r.SourceCategory, SourceCategoryName: roster.Label(roster.SourceCategories, r.SourceCategory),
		Status: r.Status, StatusName: roster.Label(roster.InstructorStatuses, r.Status),
		UnitID: r.UnitID, UnitName: r.UnitName, UnitKind: r.UnitKind, UnitKindName: roster.Label(roster.UnitKinds, r.UnitKind),
		RegionCode: r.RegionCode, RegionName: s.regionName(ctx, r.RegionCode),
		TermStart: roster.FormatDate(r.TermStart), TermEnd: roster.FormatDate(r.TermEnd), PartFilingID: r.PartFilingID,
	}
}
