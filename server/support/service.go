package support

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
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

// Service keeps support records and suggestions. Every method takes the caller explicitly (see
// the package comment for who sees and does what).
type Service struct {
	db      *gorm.DB
	roster  *roster.Service
	regions *region.Store
	clock   clock.Clock
}

// NewService wires support.
func NewService(db *gorm.DB, rs *roster.Service, regions *region.Store, clk clock.Clock) *Service {
	return &Service{db: db, roster: rs, regions: regions, clock: clk}
}

const (
	recordSubject     = "support-record"
	suggestionSubject = "suggestion"
	maxGivenBy        = 100
	maxNote           = 2000
	maxContent        = 1000
	maxAnswer         = 2000
	// maxRecipients bounds one record: a county has a few hundred instructors; a city or the
	// province records support for a whole region by region, in several records if need be.
	maxRecipients = 2000
	// maxBack is how far back support may be recorded: the measures' five years.
	maxBackYears = 5
)

var (
	errRecordNotFound = apperr.New(http.StatusNotFound, "support_record_not_found", "支持记录不存在或不在您的管辖范围内")
	errStaffOnly      = apperr.Forbidden("只有各级民族工作部门工作人员可以登记和查看对指导员的支持")
	errOutside        = apperr.Forbidden("支持对象超出了您的管辖范围")
)

// canRecord: officers of every level; not the administrators.
func canRecord(p *access.Principal) bool { return p.IsStaff() }

func (s *Service) fresh() *gorm.DB { return s.db.Session(&gorm.Session{NewDB: true}) }

// visible limits a query on support records to those p follows: recorded in p's subtree, or
// reaching an instructor of it.
func (s *Service) visible(p *access.Principal) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		if !p.IsStaff() {
			return q.Where("1 = 0")
		}
		mine := access.InRegion(p, "region_code")(s.fresh())
		theirs := s.fresh().Model(&Recipient{}).Select("support_id").Scopes(access.InRegion(p, "region_code"))
		return q.Where(mine.Or("id IN (?)", theirs))
	}
}

// today is the current calendar day in China, as dates are stored (midnight UTC).
func (s *Service) today() time.Time {
	n := s.clock.Now().In(clock.Shanghai)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
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

// ---- support records ----

// RecordInput records support given to InstructorIDs, or to every instructor in office in
// RecipientRegion.
type RecordInput struct {
	Kind            string
	GivenOn         string
	GivenBy         string
	Note            string
	InstructorIDs   []int64
	RecipientRegion string
}

// CreateRecord records support given to instructors of the caller's subtree.
func (s *Service) CreateRecord(ctx context.Context, p *access.Principal, in RecordInput) (RecordView, error) {
	if !canRecord(p) {
		return RecordView{}, errStaffOnly
	}
	now := s.clock.Now()
	r := Record{RegionCode: p.RegionCode, Kind: strings.TrimSpace(in.Kind), GivenBy: strings.TrimSpace(in.GivenBy),
		Note: strings.TrimSpace(in.Note), RecipientRegion: strings.TrimSpace(in.RecipientRegion), CreatedBy: p.AccountID,
		CreatedAt: now, UpdatedAt: now}
	var v validate.Checker
	v.OneOf("kind", "支持方式", r.Kind, true, roster.OneOf(Kinds))
	v.Required("given_by", "走访或经办人", r.GivenBy, maxGivenBy)
	v.MaxLen("note", "说明", r.Note, maxNote)
	if r.Kind == KindOther {
		v.Check(r.Note != "", "note", "支持方式为“其他”时请在说明中写明支持内容")
	}
	today := s.today()
	if raw := strings.TrimSpace(in.GivenOn); raw == "" {
		v.Fail("given_on", "日期不能为空")
	} else if d, ok := roster.ParseDate(raw); !ok {
		v.Fail("given_on", "日期应为“2024-05-01”格式")
	} else {
		r.GivenOn = d
		v.Check(!d.After(today), "given_on", "日期不能晚于今天")
		v.Check(!d.Before(today.AddDate(-maxBackYears, 0, 0)), "given_on", fmt.Sprintf("日期不能早于%d年前", maxBackYears))
	}
	ids := slices.Compact(slices.Sorted(slices.Values(in.InstructorIDs)))
	switch {
	case len(ids) > 0 && r.RecipientRegion != "":
		v.Fail("recipient_region", "指定指导员和指定区域只能选一种")
	case len(ids) == 0 && r.RecipientRegion == "":
		v.Fail("instructor_ids", "请选择受到支持的指导员,或指定区域(该区域全部在任指导员)")
	case len(ids) > maxRecipients:
		v.Fail("instructor_ids", fmt.Sprintf("一次登记的指导员不能超过%d名", maxRecipients))
	case r.RecipientRegion != "":
		if err := s.checkRegion(ctx, p, &v, r.RecipientRegion); err != nil {
			return RecordView{}, err
		}
	}
	for _, id := range ids {
		if id <= 0 {
			v.Fail("instructor_ids", "指导员编号应为正整数")
		}
	}
	if err := v.Err(); err != nil {
		return RecordView{}, err
	}
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var people []instructorRow
		var err error
		if r.RecipientRegion != "" {
			people, err = regionInstructors(tx, p, r.RecipientRegion)
		} else {
			people, err = listedInstructors(tx, p, ids)
		}
		if err != nil {
			return err
		}
		row := r
		row.RecipientCount = len(people)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		rs := make([]Recipient, len(people))
		for i, ins := range people {
			rs[i] = Recipient{SupportID: row.ID, InstructorID: ins.ID, UnitID: ins.UnitID, RegionCode: ins.RegionCode,
				Kind: row.Kind, GivenOn: row.GivenOn, CreatedAt: now}
		}
		if err := tx.CreateInBatches(rs, 500).Error; err != nil {
			return err
		}
		r = row
		return nil
	})
	if err != nil {
		return RecordView{}, err
	}
	audit.Subject(ctx, recordSubject, r.ID, r.RegionCode)
	return s.recordDetail(ctx, p, r)
}

// checkRegion validates a region support is given to as a whole: an existing region of the
// caller's subtree.
func (s *Service) checkRegion(ctx context.Context, p *access.Principal, v *validate.Checker, code string) error {
	if !region.ValidCode(code) {
		v.Fail("recipient_region", "行政区划代码应为12位数字")
		return nil
	}
	ok, err := s.regions.Exists(ctx, code)
	if err != nil {
		return err
	}
	if !ok {
		v.Fail("recipient_region", "行政区划代码不存在")
		return nil
	}
	if !p.CanSeeRegion(code) {
		return errOutside.WithField("recipient_region", "不在您的管辖范围内")
	}
	return nil
}

type instructorRow struct {
	ID         int64
	UnitID     int64
	RegionCode string
	Status     string
}

// regionInstructors are the instructors in office in a region of the caller's subtree now.
func regionInstructors(tx *gorm.DB, p *access.Principal, code string) ([]instructorRow, error) {
	var rows []instructorRow
	if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "region_code", "status").
		Scopes(access.InRegion(p, "region_code"), access.UnderRegion("region_code", code)).
		Where("status = ?", roster.StatusActive).Order("id").Limit(maxRecipients + 1).Find(&rows).Error; err != nil {
		return nil, err
	}
	switch {
	case len(rows) == 0:
		return nil, apperr.Field("recipient_region", "该区域没有在任的指导员")
	case len(rows) > maxRecipients:
		return nil, apperr.Field("recipient_region", fmt.Sprintf("该区域在任指导员超过%d名,请缩小范围分别登记", maxRecipients))
	}
	return rows, nil
}

// listedInstructors checks the chosen instructors: each in the caller's subtree and in office.
func listedInstructors(tx *gorm.DB, p *access.Principal, ids []int64) ([]instructorRow, error) {
	var rows []instructorRow
	for chunk := range slices.Chunk(ids, 500) {
		var part []instructorRow
		if err := tx.Model(&roster.Instructor{}).Select("id", "unit_id", "region_code", "status").
			Scopes(access.InRegion(p, "region_code")).Where("id IN ?", chunk).Find(&part).Error; err != nil {
			return nil, err
		}
		rows = append(rows, part...)
	}
	byID := make(map[int64]instructorRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]instructorRow, 0, len(ids))
	for _, id := range ids {
		r, ok := byID[id]
		switch {
		case !ok:
			return nil, apperr.Field("instructor_ids", fmt.Sprintf("指导员%d不存在或不在您的管辖范围内", id))
		case r.Status != roster.StatusActive:
			return nil, apperr.Field("instructor_ids", fmt.Sprintf("指导员%d不在任", id))
		}
		out = append(out, r)
	}
	return out, nil
}

// GetRecord returns one support record with the recipients the caller may see.
func (s *Service) GetRecord(ctx context.Context, p *access.Principal, id int64) (RecordView, error) {
	if !canRecord(p) {
		return RecordView{}, errStaffOnly
	}
	var r Record
	err := s.db.WithContext(ctx).Model(&Record{}).Scopes(s.visible(p)).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return RecordView{}, errRecordNotFound
	}
	if err != nil {
		return RecordView{}, err
	}
	return s.recordDetail(ctx, p, r)
}

// RecordFilter narrows a list of support records.
type RecordFilter struct {
	InstructorID int64
	Kind         string
	Year         int
	RegionCode   string // records reaching instructors of this region
	Page         paging.Page
}

// ListRecords lists the support records the caller follows, newest first.
func (s *Service) ListRecords(ctx context.Context, p *access.Principal, f RecordFilter) ([]RecordView, string, error) {
	if !canRecord(p) {
		return nil, "", errStaffOnly
	}
	var v validate.Checker
	v.OneOf("kind", "支持方式", f.Kind, false, roster.OneOf(Kinds))
	v.RegionCode("region_code", f.RegionCode)
	if f.Year != 0 {
		v.Check(f.Year >= 2000 && f.Year <= 2100, "year", "年度应为四位数字,如2025")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Record{}).Scopes(s.visible(p), f.Page.Apply("id"))
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Year != 0 {
		from := time.Date(f.Year, 1, 1, 0, 0, 0, 0, time.UTC)
		q = q.Where("given_on >= ? AND given_on < ?", from, from.AddDate(1, 0, 0))
	}
	if f.InstructorID > 0 || f.RegionCode != "" {
		sub := s.fresh().Model(&Recipient{}).Select("support_id").Scopes(access.InRegion(p, "region_code"))
		if f.InstructorID > 0 {
			sub = sub.Where("instructor_id = ?", f.InstructorID)
		}
		if f.RegionCode != "" {
			sub = sub.Scopes(access.UnderRegion("region_code", f.RegionCode))
		}
		q = q.Where("id IN (?)", sub)
	}
	var rows []Record
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(r Record) int64 { return r.ID })
	out := make([]RecordView, len(rows))
	for i, r := range rows {
		out[i] = s.recordView(ctx, r)
	}
	return out, next, nil
}

func (s *Service) recordView(ctx context.Context, r Record) RecordView {
	return RecordView{
		ID: r.ID, Kind: r.Kind, KindName: roster.Label(Kinds, r.Kind), GivenOn: roster.FormatDate(&r.GivenOn),
		GivenBy: r.GivenBy, Note: r.Note, RegionCode: r.RegionCode, RegionName: s.regionName(ctx, r.RegionCode),
		RecipientRegion: r.RecipientRegion, RecipientRegionName: s.regionName(ctx, r.RecipientRegion),
		RecipientCount: r.RecipientCount, CreatedAt: clock.Local(r.CreatedAt), UpdatedAt: clock.Local(r.UpdatedAt),
	}
}

// recordDetail is the view with the recipients p may see: all of them when p's subtree holds
// the recording department, else those of p's subtree.
func (s *Service) recordDetail(ctx context.Context, p *access.Principal, r Record) (RecordView, error) {
	out := s.recordView(ctx, r)
	q := s.db.WithContext(ctx).Model(&Recipient{}).Where("support_id = ?", r.ID).Order("id")
	if !p.CanSeeRegion(r.RegionCode) {
		q = q.Scopes(access.InRegion(p, "region_code"))
	}
	var rs []Recipient
	if err := q.Find(&rs).Error; err != nil {
		return out, err
	}
	ids, unitIDs := make([]int64, len(rs)), make([]int64, len(rs))
	for i, x := range rs {
		ids[i], unitIDs[i] = x.InstructorID, x.UnitID
	}
	names, err := s.instructorNames(ctx, ids)
	if err != nil {
		return out, err
	}
	units, err := s.unitNames(ctx, unitIDs)
	if err != nil {
		return out, err
	}
	out.Recipients = make([]RecipientView, len(rs))
	for i, x := range rs {
		out.Recipients[i] = RecipientView{InstructorID: x.InstructorID, Name: names[x.InstructorID], UnitID: x.UnitID,
			UnitName: units[x.UnitID], RegionCode: x.RegionCode}
	}
	return out, nil
}

func (s *Service) instructorNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for chunk := range slices.Chunk(ids, 500) {
		var rows []roster.Instructor
		if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
	}
	return out, nil
}

func (s *Service) unitNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for chunk := range slices.Chunk(ids, 500) {
		var rows []roster.Unit
		if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, u := range rows {
			out[u.ID] = u.Name
		}
	}
	return out, nil
}
