package roster

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Service manages units, instructors and invites. Every method takes the caller explicitly and
// scopes its queries through package access.
type Service struct {
	db        *gorm.DB
	box       *secret.Box
	regions   *region.Store
	clock     clock.Clock
	inviteTTL time.Duration
	// followers keep a copy of an instructor's state (see OnChange).
	followers []func(ctx context.Context, tx *gorm.DB, c Change) error
	// unitNames and instructorNames are the full-text indexes of the name search (search.go).
	unitNames, instructorNames *fulltext.Index
}

// Change is what became of an instructor, told to those who keep a copy of it: auth keeps the
// region on the account and in its tokens and ends the sessions of one who left office; uploads
// keep the uploader's region on files not yet attached.
type Change struct {
	InstructorID int64
	// LeftOffice: dismissed, suspended, replaced or term ended.
	LeftOffice bool
	// RegionCode is the new region of one who moved to a unit in another region (a transfer, a
	// replacement, an appointment elsewhere, a unit moved to another region), else "".
	RegionCode string
	// Unbound: the county cut the link to the instructor's WeChat (a lost phone, a WeChat account
	// that is not theirs); the sessions of that phone end.
	Unbound bool
}

// OnChange adds f to what follows a change of an instructor's status or region. f runs inside
// the transaction of the change, so a copy never lags behind the roster: a transferred instructor
// is never, even for a moment, scoped to the old county. Auth and uploads are built after the
// roster, which they use, hence a hook rather than a call.
func (s *Service) OnChange(f func(ctx context.Context, tx *gorm.DB, c Change) error) {
	s.followers = append(s.followers, f)
}

// changed tells the followers what became of instructor id inside tx, if anything did.
func (s *Service) changed(ctx context.Context, tx *gorm.DB, id int64, fromStatus, toStatus, fromRegion, toRegion string) error {
	c := Change{InstructorID: id, LeftOffice: fromStatus != toStatus && toStatus != StatusActive}
	if toRegion != fromRegion {
		c.RegionCode = toRegion
	}
	if !c.LeftOffice && c.RegionCode == "" {
		return nil
	}
	return s.tell(ctx, tx, c)
}

// tell runs the followers on c inside tx.
func (s *Service) tell(ctx context.Context, tx *gorm.DB, c Change) error {
	for _, f := range s.followers {
		if err := f(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// NewService wires the roster.
func NewService(db *gorm.DB, box *secret.Box, regions *region.Store, clk clock.Clock, inviteTTL time.Duration) *Service {
	return &Service{db: db, box: box, regions: regions, clock: clk, inviteTTL: inviteTTL,
		unitNames: fulltext.NewFor(db, fulltext.Units), instructorNames: fulltext.NewFor(db, fulltext.Instructors)}
}

var (
	errUnitNotFound       = apperr.New(http.StatusNotFound, "unit_not_found", "单位不存在或不在您的管辖范围内")
	errInstructorNotFound = apperr.New(http.StatusNotFound, "instructor_not_found", "指导员不存在或不在您的管辖范围内")
	errUnitFull           = apperr.New(http.StatusConflict, "unit_full", "该单位已有2名在任指导员,每个单位最多选聘2名")
	errStaffOnly          = apperr.Forbidden("只有民族工作部门工作人员可以管理指导员信息库")
)

func requireStaff(p *access.Principal) error {
	if !p.IsStaff() {
		return errStaffOnly
	}
	return nil
}

// ---- units ----

// UnitInput creates a unit.
type UnitInput struct {
	Name       string
	Kind       string
	RegionCode string
	Address    string
}

// UnitPatch changes a unit; nil fields stay.
type UnitPatch struct {
	Name       *string
	Kind       *string
	RegionCode *string
	Address    *string
}

func (s *Service) checkUnitRegion(ctx context.Context, p *access.Principal, v *validate.Checker, code string) {
	if code == "" {
		v.Fail("region_code", "所属行政区划不能为空")
		return
	}
	if !region.ValidCode(code) {
		v.Fail("region_code", "行政区划代码应为12位数字")
		return
	}
	ok, err := s.regions.Exists(ctx, code)
	if err != nil {
		v.Broken(err)
		return
	}
	if !ok {
		v.Fail("region_code", "行政区划代码不存在")
		return
	}
	if region.LevelOf(code) < 3 {
		v.Fail("region_code", "单位应隶属于县级或以下行政区划")
		return
	}
}

// checkUnit validates and normalises a new unit, for the API and the Excel import alike.
func (s *Service) checkUnit(ctx context.Context, p *access.Principal, v *validate.Checker, in *UnitInput) {
	in.Name = strings.TrimSpace(in.Name)
	v.Required("name", "单位名称", in.Name, 100)
	v.Code("kind", "单位类型", in.Kind, true, Codes(UnitKinds))
	v.MaxLen("address", "地址", in.Address, 200)
	s.checkUnitRegion(ctx, p, v, in.RegionCode)
}

var errRegionOutOfScope = apperr.Forbidden("该行政区划不在您的管辖范围内").WithField("region_code", "不在您的管辖范围内")

// CreateUnit registers a unit in the caller's subtree.
func (s *Service) CreateUnit(ctx context.Context, p *access.Principal, in UnitInput) (UnitView, error) {
	if err := requireStaff(p); err != nil {
		return UnitView{}, err
	}
	var v validate.Checker
	s.checkUnit(ctx, p, &v, &in)
	if err := v.Err(); err != nil {
		return UnitView{}, err
	}
	if !p.CanSeeRegion(in.RegionCode) {
		return UnitView{}, errRegionOutOfScope
	}
	u := Unit{Name: in.Name, Kind: in.Kind, RegionCode: in.RegionCode, Address: strings.TrimSpace(in.Address), CreatedBy: p.AccountID}
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		u.ID = 0 // a retried attempt inserts afresh
		if err := tx.Create(&u).Error; err != nil {
			return err
		}
		return s.touchUnits(tx, u.ID)
	})
	s.Committed()
	if err != nil {
		if database.IsUniqueViolation(err) {
			return UnitView{}, apperr.New(http.StatusConflict, "unit_exists", "该行政区划下已有同名单位").WithField("name", "同一行政区划下单位名称不能重复")
		}
		return UnitView{}, err
	}
	return s.unitView(ctx, u), nil
}

func (s *Service) unitView(ctx context.Context, u Unit) UnitView {
	name := ""
	if r, err := s.regions.Get(ctx, u.RegionCode); err == nil {
		name = r.Name
	}
	return u.view(name)
}

// unitFieldErr names unit_id when the unit a request refers to is missing or out of scope.
func unitFieldErr(err error) error {
	if errors.Is(err, errUnitNotFound) {
		return errUnitNotFound.WithField("unit_id", "所在单位不存在或不在您的管辖范围内")
	}
	return err
}

func (s *Service) findUnit(ctx context.Context, db *gorm.DB, p *access.Principal, id int64) (Unit, error) {
	var u Unit
	err := db.WithContext(ctx).Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, errUnitNotFound
	}
	return u, err
}

// GetUnit returns one unit in scope. An instructor may read their own unit.
func (s *Service) GetUnit(ctx context.Context, p *access.Principal, id int64) (UnitView, error) {
	if p.IsInstructor() {
		var ins Instructor
		if err := s.db.WithContext(ctx).Select("unit_id").Where("id = ?", p.InstructorID).Take(&ins).Error; err != nil || ins.UnitID != id {
			return UnitView{}, errUnitNotFound
		}
		var u Unit
		if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
			return UnitView{}, errUnitNotFound
		}
		return s.unitView(ctx, u), nil
	}
	if err := requireStaff(p); err != nil {
		return UnitView{}, err
	}
	u, err := s.findUnit(ctx, s.db, p, id)
	if err != nil {
		return UnitView{}, err
	}
	return s.unitView(ctx, u), nil
}

// UnitFilter narrows a unit list.
type UnitFilter struct {
	RegionCode string
	Kind       string
	Q          string
	// Heavy narrows to units flagged (true) or not flagged (false) as where ethnic work is heavy.
	Heavy *bool
	Page  paging.Page
}

// ListUnits lists units in scope, newest first.
func (s *Service) ListUnits(ctx context.Context, p *access.Principal, f UnitFilter) ([]UnitView, string, error) {
	if err := requireStaff(p); err != nil {
		return nil, "", err
	}
	var v validate.Checker
	v.Code("kind", "单位类型", f.Kind, false, Codes(UnitKinds))
	v.RegionCode("region_code", f.RegionCode)
	v.MaxLen("q", "关键词", f.Q, 50)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Unit{}).Scopes(access.InRegion(p, "region_code"))
	if f.RegionCode != "" {
		q = q.Scopes(subtree(f.RegionCode))
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Heavy != nil {
		q = q.Where("heavy = ?", *f.Heavy)
	}
	var rows []Unit
	if f.Q != "" {
		newest := q.Session(&gorm.Session{})
		matching := newest.Where("name LIKE ? ESCAPE '!'", "%"+escapeLike(f.Q)+"%").Session(&gorm.Session{})
		err := listByName(ctx, s.unitNames, p, nameSearch{q: f.Q, regionCode: f.RegionCode, page: f.Page}, matching, newest, &rows)
		if err != nil {
			return nil, "", err
		}
	} else if err := q.Scopes(f.Page.Apply("id")).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(u Unit) int64 { return u.ID })
	out := make([]UnitView, len(rows))
	for i, u := range rows {
		out[i] = s.unitView(ctx, u)
	}
	return out, next, nil
}

// SetHeavy flags a unit in scope as one where ethnic work is heavy (with the reason, required),
// or clears the flag (and its reason). Any staff level whose subtree holds the unit may; the
// request is in the audit trail like every write.
func (s *Service) SetHeavy(ctx context.Context, p *access.Principal, id int64, heavy bool, reason string) (UnitView, error) {
	if err := requireStaff(p); err != nil {
		return UnitView{}, err
	}
	reason = strings.TrimSpace(reason)
	var v validate.Checker
	if heavy {
		v.Required("reason", "民族工作任务较重的原因", reason, 200)
	} else {
		reason = ""
	}
	if err := v.Err(); err != nil {
		return UnitView{}, err
	}
	u, err := s.findUnit(ctx, s.db, p, id)
	if err != nil {
		return UnitView{}, err
	}
	now := s.clock.Now()
	set := map[string]any{"heavy": heavy, "heavy_reason": reason, "heavy_by": p.AccountID, "updated_at": now}
	switch {
	case !heavy:
		set["heavy_at"], set["heavy_by"] = nil, int64(0)
	case !u.Heavy:
		set["heavy_at"] = now
	}
	if err := s.db.WithContext(ctx).Model(&Unit{}).Where("id = ?", id).Updates(set).Error; err != nil {
		return UnitView{}, err
	}
	if u, err = s.findUnit(ctx, s.db, p, id); err != nil {
		return UnitView{}, err
	}
	return s.unitView(ctx, u), nil
}

// UpdateUnit changes a unit in scope.
func (s *Service) UpdateUnit(ctx context.Context, p *access.Principal, id int64, in UnitPatch) (UnitView, error) {
	if err := requireStaff(p); err != nil {
		return UnitView{}, err
	}
	u, err := s.findUnit(ctx, s.db, p, id)
	if err != nil {
		return UnitView{}, err
	}
	var v validate.Checker
	if in.Name != nil {
		u.Name = strings.TrimSpace(*in.Name)
		v.Required("name", "单位名称", u.Name, 100)
	}
	if in.Kind != nil {
		u.Kind = *in.Kind
		v.Code("kind", "单位类型", u.Kind, true, Codes(UnitKinds))
	}
	if in.Address != nil {
		u.Address = strings.TrimSpace(*in.Address)
		v.MaxLen("address", "地址", u.Address, 200)
	}
	regionChanged := in.RegionCode != nil && *in.RegionCode != u.RegionCode
	if in.RegionCode != nil {
		s.checkUnitRegion(ctx, p, &v, *in.RegionCode)
		u.RegionCode = *in.RegionCode
	}
	if err := v.Err(); err != nil {
		return UnitView{}, err
	}
	if !p.CanSeeRegion(u.RegionCode) {
		return UnitView{}, errRegionOutOfScope
	}
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Model(&Unit{}).Where("id = ?", u.ID).Updates(map[string]any{
			"name": u.Name, "kind": u.Kind, "region_code": u.RegionCode, "address": u.Address, "updated_at": s.clock.Now(),
		}).Error; err != nil {
			return err
		}
		if err := s.touchUnits(tx, u.ID); err != nil {
			return err
		}
		if !regionChanged {
			return nil
		}
		// Instructors carry their unit's region for scoping; keep them, and their copies, in step.
		var moved []Instructor
		if err := tx.Select("id", "status", "region_code").Where("unit_id = ?", u.ID).Find(&moved).Error; err != nil {
			return err
		}
		if err := tx.Model(&Instructor{}).Where("unit_id = ?", u.ID).Update("region_code", u.RegionCode).Error; err != nil {
			return err
		}
		ids := make([]int64, len(moved))
		for i, m := range moved {
			ids[i] = m.ID
		}
		if err := s.touchInstructors(tx, ids...); err != nil {
			return err
		}
		for _, m := range moved {
			if err := s.changed(ctx, tx, m.ID, m.Status, m.Status, m.RegionCode, u.RegionCode); err != nil {
				return err
			}
		}
		return nil
	})
	s.Committed()
	if database.IsUniqueViolation(err) {
		return UnitView{}, apperr.New(http.StatusConflict, "unit_exists", "该行政区划下已有同名单位").WithField("name", "同一行政区划下单位名称不能重复")
	}
	if err != nil {
		return UnitView{}, err
	}
	u, err = s.findUnit(ctx, s.db, p, id)
	if err != nil {
		return UnitView{}, err
	}
	return s.unitView(ctx, u), nil
}

// ---- instructors ----

// InstructorInput creates an instructor.
type InstructorInput struct {
	Name            string
	Gender          string
	Ethnicity       string
	Phone           string
	IDNumber        string
	PoliticalStatus string
	Position        string
	SourceCategory  string
	UnitID          int64
	Status          string
}

// InstructorPatch changes an instructor; nil fields stay.
type InstructorPatch struct {
	Name            *string
	Gender          *string
	Ethnicity       *string
	Phone           *string
	IDNumber        *string
	PoliticalStatus *string
	Position        *string
	SourceCategory  *string
	UnitID          *int64
	Status          *string
}

// CheckPerson validates and normalises the person fields of an instructor: the API, nominations
// and the Excel import take them alike.
func CheckPerson(v *validate.Checker, in *InstructorInput) {
	in.Name = strings.TrimSpace(in.Name)
	in.Phone = strings.TrimSpace(in.Phone)
	in.IDNumber = strings.ToUpper(strings.TrimSpace(in.IDNumber))
	v.Required("name", "姓名", in.Name, 50)
	v.Code("gender", "性别", in.Gender, true, Codes(Genders))
	v.Code("ethnicity", "民族", in.Ethnicity, true, Codes(Ethnicities))
	v.Phone("phone", in.Phone, true)
	v.IDNumber("id_number", in.IDNumber)
	v.Code("political_status", "政治面貌", in.PoliticalStatus, false, Codes(PoliticalStatuses))
	v.MaxLen("position", "职务", in.Position, 100)
	v.Code("source_category", "选聘范围", in.SourceCategory, true, Codes(SourceCategories))
}

func checkInstructor(v *validate.Checker, in *InstructorInput) {
	CheckPerson(v, in)
	v.Code("status", "状态", in.Status, true, Codes(InstructorStatuses))
	v.Check(in.UnitID > 0, "unit_id", "所在单位不能为空")
}

// CreateInstructor adds an instructor to a unit in scope. An active instructor takes one of the
// unit's two places.
func (s *Service) CreateInstructor(ctx context.Context, p *access.Principal, in InstructorInput) (InstructorView, error) {
	if err := requireStaff(p); err != nil {
		return InstructorView{}, err
	}
	if in.Status == "" {
		in.Status = StatusActive
	}
	var v validate.Checker
	checkInstructor(&v, &in)
	if err := v.Err(); err != nil {
		return InstructorView{}, err
	}
	ins := Instructor{
		Name: in.Name, Gender: in.Gender, Ethnicity: in.Ethnicity, PoliticalStatus: in.PoliticalStatus,
		Position: strings.TrimSpace(in.Position), SourceCategory: in.SourceCategory, Status: in.Status,
		UnitID: in.UnitID, CreatedBy: p.AccountID,
	}
	if err := s.sealPersonal(&ins, in.Phone, in.IDNumber); err != nil {
		return InstructorView{}, err
	}
	if ins.Status == StatusActive {
		s.startTerm(&ins, nil)
	}
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		ins.ID = 0 // a retried attempt inserts afresh
		u, err := s.findUnit(ctx, tx, p, in.UnitID)
		if err != nil {
			return unitFieldErr(err)
		}
		ins.RegionCode = u.RegionCode
		if ins.Status == StatusActive {
			if err := takePlace(tx, u.ID); err != nil {
				return err
			}
		}
		if err := tx.Create(&ins).Error; err != nil {
			return err
		}
		if err := s.touchInstructors(tx, ins.ID); err != nil {
			return err
		}
		return s.logHistory(tx, p, History{InstructorID: ins.ID, Action: ActionCreate, ToUnitID: ins.UnitID,
			ToStatus: ins.Status, TermStart: ins.TermStart, TermEnd: ins.TermEnd})
	})
	s.Committed()
	if err != nil {
		return InstructorView{}, s.instructorConflict(err)
	}
	return s.GetInstructor(ctx, p, ins.ID)
}

// takePlace claims one of a unit's places with a conditional update, so two concurrent
// appointments on any number of instances cannot both take the last place.
func takePlace(tx *gorm.DB, unitID int64) error {
	return takePlaces(tx, []int64{unitID})
}

// takePlaces claims one place in each of several distinct units (the Excel import) with the same
// conditional update, a thousand units a statement; if any unit is full, none is taken once the
// caller's transaction rolls back.
func takePlaces(tx *gorm.DB, unitIDs []int64) error {
	for start := 0; start < len(unitIDs); start += 1000 {
		ids := unitIDs[start:min(start+1000, len(unitIDs))]
		res := tx.Model(&Unit{}).Where("id IN ? AND active_instructors < ?", ids, MaxActivePerUnit).
			Update("active_instructors", gorm.Expr("active_instructors + 1"))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != int64(len(ids)) {
			return errUnitFull.WithField("unit_id", "该单位在任指导员已满2名")
		}
	}
	return nil
}

func releasePlace(tx *gorm.DB, unitID int64) error {
	return tx.Model(&Unit{}).Where("id = ? AND active_instructors > 0", unitID).
		Update("active_instructors", gorm.Expr("active_instructors - 1")).Error
}

func (s *Service) sealPersonal(ins *Instructor, phone, idNumber string) error {
	enc, err := s.box.Encrypt(phone)
	if err != nil {
		return err
	}
	ins.PhoneEnc, ins.PhoneHash = enc, s.box.Hash(phone)
	enc, err = s.box.Encrypt(idNumber)
	if err != nil {
		return err
	}
	ins.IDNumberEnc = enc
	ins.IDNumberHash = nil
	if idNumber != "" {
		h := s.box.Hash(idNumber)
		ins.IDNumberHash = &h
	}
	return nil
}

func (s *Service) instructorConflict(err error) error {
	if !database.IsUniqueViolation(err) {
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "id_number") {
		return apperr.New(http.StatusConflict, "id_number_taken", "该身份证号码已登记在指导员信息库中").WithField("id_number", "身份证号码已被登记")
	}
	return apperr.New(http.StatusConflict, "phone_taken", "该手机号已登记在指导员信息库中").WithField("phone", "手机号已被登记")
}

// GetInstructor returns one instructor in scope, with phone and ID number whole for staff.
// An instructor may read their own record.
func (s *Service) GetInstructor(ctx context.Context, p *access.Principal, id int64) (InstructorView, error) {
	var ins Instructor
	err := s.db.WithContext(ctx).Scopes(access.InRegionOrOwn(p, "region_code", "id")).Where("id = ?", id).Take(&ins).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return InstructorView{}, errInstructorNotFound
	}
	if err != nil {
		return InstructorView{}, err
	}
	views, err := s.views(ctx, []Instructor{ins}, false)
	if err != nil {
		return InstructorView{}, err
	}
	if !p.IsInstructor() {
		// Staff read the whole phone and ID number: the trail says so. An instructor reading
		// their own record reads nobody else's.
		audit.PersonalData(ctx)
	}
	return views[0], nil
}

// InstructorFilter narrows an instructor list.
type InstructorFilter struct {
	RegionCode string
	UnitID     int64
	Status     string
	Q          string
	Phone      string
	Page       paging.Page
}

// ListInstructors lists instructors in scope, newest first, phones masked.
func (s *Service) ListInstructors(ctx context.Context, p *access.Principal, f InstructorFilter) ([]InstructorView, string, error) {
	if err := requireStaff(p); err != nil {
		return nil, "", err
	}
	var v validate.Checker
	v.Code("status", "状态", f.Status, false, Codes(InstructorStatuses))
	v.RegionCode("region_code", f.RegionCode)
	v.Phone("phone", f.Phone, false)
	v.MaxLen("q", "关键词", f.Q, 50)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Instructor{})
	if s.db.Dialector.Name() == "mysql" && access.WithinCounty(p, f.RegionCode) {
		// MariaDB walks the primary key down from the newest instructor, filtering, hoping to
		// meet a county's instructors near the top; they are spread over the whole table
		// (0.7 s at 100,000 instructors). The county's range of the region index, sorted, is
		// 20 ms. Wider scopes find their page near the top.
		q = q.Table("`instructors` IGNORE INDEX FOR ORDER BY (PRIMARY)")
	}
	q = q.Scopes(access.InRegion(p, "region_code"))
	if f.RegionCode != "" {
		q = q.Scopes(subtree(f.RegionCode))
	}
	if f.UnitID > 0 {
		q = q.Where("unit_id = ?", f.UnitID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Phone != "" {
		q = q.Where("phone_hash = ?", s.box.Hash(f.Phone))
	}
	var rows []Instructor
	if f.Q != "" {
		newest := q.Session(&gorm.Session{})
		matching := newest.Where("name LIKE ? ESCAPE '!'", "%"+escapeLike(f.Q)+"%").Session(&gorm.Session{})
		err := listByName(ctx, s.instructorNames, p, nameSearch{q: f.Q, regionCode: f.RegionCode, page: f.Page}, matching, newest, &rows)
		if err != nil {
			return nil, "", err
		}
	} else if err := q.Scopes(f.Page.Apply("id")).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(i Instructor) int64 { return i.ID })
	out, err := s.views(ctx, rows, true)
	return out, next, err
}

// UpdateInstructor changes an instructor in scope. Changes of status or unit move the instructor's
// place between units under the same 2-per-unit rule.
func (s *Service) UpdateInstructor(ctx context.Context, p *access.Principal, id int64, patch InstructorPatch) (InstructorView, error) {
	if err := requireStaff(p); err != nil {
		return InstructorView{}, err
	}
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var cur Instructor
		err := tx.Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errInstructorNotFound
		}
		if err != nil {
			return err
		}
		phone, err := s.box.Decrypt(cur.PhoneEnc)
		if err != nil {
			return err
		}
		idNumber, err := s.box.Decrypt(cur.IDNumberEnc)
		if err != nil {
			return err
		}
		in := InstructorInput{
			Name: cur.Name, Gender: cur.Gender, Ethnicity: cur.Ethnicity, Phone: phone, IDNumber: idNumber,
			PoliticalStatus: cur.PoliticalStatus, Position: cur.Position, SourceCategory: cur.SourceCategory,
			UnitID: cur.UnitID, Status: cur.Status,
		}
		set(&in.Name, patch.Name)
		set(&in.Gender, patch.Gender)
		set(&in.Ethnicity, patch.Ethnicity)
		set(&in.Phone, patch.Phone)
		set(&in.IDNumber, patch.IDNumber)
		set(&in.PoliticalStatus, patch.PoliticalStatus)
		set(&in.Position, patch.Position)
		set(&in.SourceCategory, patch.SourceCategory)
		set(&in.Status, patch.Status)
		if patch.UnitID != nil {
			in.UnitID = *patch.UnitID
		}
		var v validate.Checker
		checkInstructor(&v, &in)
		if err := v.Err(); err != nil {
			return err
		}
		next := cur
		next.Name, next.Gender, next.Ethnicity = in.Name, in.Gender, in.Ethnicity
		next.PoliticalStatus, next.Position, next.SourceCategory = in.PoliticalStatus, strings.TrimSpace(in.Position), in.SourceCategory
		next.Status, next.UnitID = in.Status, in.UnitID
		if err := s.sealPersonal(&next, in.Phone, in.IDNumber); err != nil {
			return err
		}
		if next.UnitID != cur.UnitID {
			u, err := s.findUnit(ctx, tx, p, next.UnitID)
			if err != nil {
				return unitFieldErr(err)
			}
			next.RegionCode = u.RegionCode
		}
		wasActive, isActive := cur.Status == StatusActive, next.Status == StatusActive
		if wasActive && (!isActive || next.UnitID != cur.UnitID) {
			if err := releasePlace(tx, cur.UnitID); err != nil {
				return err
			}
		}
		if isActive && (!wasActive || next.UnitID != cur.UnitID) {
			if err := takePlace(tx, next.UnitID); err != nil {
				return err
			}
		}
		if isActive && next.TermStart == nil {
			s.startTerm(&next, nil)
		}
		next.UpdatedAt = s.clock.Now()
		if err := tx.Select("*").Omit("created_at", "created_by").Save(&next).Error; err != nil {
			return err
		}
		if err := s.touchInstructors(tx, id); err != nil {
			return err
		}
		if err := s.changed(ctx, tx, id, cur.Status, next.Status, cur.RegionCode, next.RegionCode); err != nil {
			return err
		}
		if next.Status == cur.Status && next.UnitID == cur.UnitID {
			return nil
		}
		return s.logHistory(tx, p, History{InstructorID: id, Action: ActionEdit, FromUnitID: cur.UnitID, ToUnitID: next.UnitID,
			FromStatus: cur.Status, ToStatus: next.Status, TermStart: next.TermStart, TermEnd: next.TermEnd})
	})
	s.Committed()
	if err != nil {
		return InstructorView{}, s.instructorConflict(err)
	}
	return s.GetInstructor(ctx, p, id)
}

func set(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func (s *Service) views(ctx context.Context, rows []Instructor, masked bool) ([]InstructorView, error) {
	out := make([]InstructorView, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	unitIDs := make([]int64, 0, len(rows))
	insIDs := make([]int64, 0, len(rows))
	for _, r := range rows {
		unitIDs = append(unitIDs, r.UnitID)
		insIDs = append(insIDs, r.ID)
	}
	var units []Unit
	if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", unitIDs).Find(&units).Error; err != nil {
		return nil, err
	}
	unitName := map[int64]string{}
	for _, u := range units {
		unitName[u.ID] = u.Name
	}
	// An unbound instructor keeps their account (and its history) without a WeChat link.
	var bound []int64
	if err := s.db.WithContext(ctx).Table("accounts").Where("instructor_id IN ? AND openid IS NOT NULL", insIDs).Pluck("instructor_id", &bound).Error; err != nil {
		return nil, err
	}
	isBound := map[int64]bool{}
	for _, id := range bound {
		isBound[id] = true
	}
	for _, r := range rows {
		phone, err := s.box.Decrypt(r.PhoneEnc)
		if err != nil {
			return nil, err
		}
		idNumber, err := s.box.Decrypt(r.IDNumberEnc)
		if err != nil {
			return nil, err
		}
		if masked {
			phone, idNumber = secret.MaskPhone(phone), secret.MaskIDNumber(idNumber)
		}
		out = append(out, InstructorView{
			ID: r.ID, Name: r.Name, Gender: r.Gender, GenderName: Label(Genders, r.Gender),
			Ethnicity: r.Ethnicity, EthnicityName: Label(Ethnicities, r.Ethnicity),
			Phone: phone, IDNumber: idNumber,
			PoliticalStatus: r.PoliticalStatus, PoliticalStatusName: Label(PoliticalStatuses, r.PoliticalStatus),
			Position: r.Position, SourceCategory: r.SourceCategory, SourceCategoryName: Label(SourceCategories, r.SourceCategory),
			Status: r.Status, StatusName: Label(InstructorStatuses, r.Status),
			UnitID: r.UnitID, UnitName: unitName[r.UnitID], RegionCode: r.RegionCode, Bound: isBound[r.ID],
			TermStart: FormatDate(r.TermStart), TermEnd: FormatDate(r.TermEnd),
			CreatedAt: clock.Local(r.CreatedAt), UpdatedAt: clock.Local(r.UpdatedAt),
		})
	}
	return out, nil
}

// ---- invites ----

// inviteAlphabet leaves out 0/O, 1/I/L so a code read over the phone is typed right.
const inviteAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// InviteView is a freshly issued invite: the code is shown once and stored only as a hash.
type InviteView struct {
	InviteCode string    `json:"invite_code"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// CreateInvite issues a one-time invite code for an active instructor in scope, revoking any
// earlier unused one.
func (s *Service) CreateInvite(ctx context.Context, p *access.Principal, instructorID int64) (InviteView, error) {
	if err := requireStaff(p); err != nil {
		return InviteView{}, err
	}
	var ins Instructor
	err := s.db.WithContext(ctx).Scopes(access.InRegion(p, "region_code")).Where("id = ?", instructorID).Take(&ins).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return InviteView{}, errInstructorNotFound
	}
	if err != nil {
		return InviteView{}, err
	}
	if ins.Status != StatusActive {
		return InviteView{}, apperr.New(http.StatusConflict, "instructor_inactive", "该指导员不在任,不能发放邀请码")
	}
	code, err := newInviteCode()
	if err != nil {
		return InviteView{}, err
	}
	now := s.clock.Now()
	inv := Invite{InstructorID: ins.ID, CodeHash: s.box.Hash(code), ExpiresAt: now.Add(s.inviteTTL), CreatedBy: p.AccountID, CreatedAt: now}
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		inv.ID = 0 // a retried attempt inserts afresh
		// Issues for one instructor take turns on the instructor's row, then revoke the earlier
		// codes by their keys. Revoking by instructor_id locked, on MySQL, the gap at the end of
		// the index when the instructor had no code yet (a new instructor: the usual case), and
		// every other issue's insert waited for that gap: issues at once deadlocked.
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id").Where("id = ?", ins.ID).Take(&Instructor{}).Error; err != nil {
			return err
		}
		var open []int64
		if err := tx.Model(&Invite{}).Where("instructor_id = ? AND used_at IS NULL AND revoked_at IS NULL", ins.ID).
			Pluck("id", &open).Error; err != nil {
			return err
		}
		if len(open) > 0 {
			if err := tx.Model(&Invite{}).Where("id IN ? AND used_at IS NULL AND revoked_at IS NULL", open).
				Update("revoked_at", now).Error; err != nil {
				return err
			}
		}
		return tx.Create(&inv).Error
	})
	if err != nil {
		return InviteView{}, err
	}
	return InviteView{InviteCode: code, ExpiresAt: clock.Local(inv.ExpiresAt)}, nil
}

func newInviteCode() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = inviteAlphabet[int(b[i])%len(inviteAlphabet)]
	}
	return string(b), nil
}

var (
	ErrInviteInvalid = apperr.New(http.StatusBadRequest, "invite_invalid", "邀请码不正确,请核对后重新输入").WithField("invite_code", "邀请码不正确")
	ErrInviteExpired = apperr.New(http.StatusBadRequest, "invite_expired", "邀请码已过期,请联系县级民族工作部门重新获取").WithField("invite_code", "邀请码已过期")
	ErrInviteUsed    = apperr.New(http.StatusConflict, "invite_used", "邀请码已被使用,请联系县级民族工作部门重新获取").WithField("invite_code", "邀请码已被使用")
)

// RedeemInvite spends an invite code inside tx and returns the instructor it was issued for. The
// conditional update makes a code good for exactly one bind even under concurrent attempts.
func (s *Service) RedeemInvite(tx *gorm.DB, code string) (Instructor, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	var inv Invite
	if code == "" || len(code) > 32 {
		return Instructor{}, ErrInviteInvalid
	}
	err := tx.Where("code_hash = ?", s.box.Hash(code)).Take(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Instructor{}, ErrInviteInvalid
	}
	if err != nil {
		return Instructor{}, err
	}
	now := s.clock.Now()
	switch {
	case inv.UsedAt != nil:
		return Instructor{}, ErrInviteUsed
	case inv.RevokedAt != nil:
		return Instructor{}, ErrInviteInvalid
	case !now.Before(inv.ExpiresAt):
		return Instructor{}, ErrInviteExpired
	}
	res := tx.Model(&Invite{}).Where("id = ? AND used_at IS NULL", inv.ID).Update("used_at", now)
	if res.Error != nil {
		return Instructor{}, res.Error
	}
	if res.RowsAffected == 0 {
		return Instructor{}, ErrInviteUsed
	}
	var ins Instructor
	if err := tx.Where("id = ?", inv.InstructorID).Take(&ins).Error; err != nil {
		return Instructor{}, err
	}
	if ins.Status != StatusActive {
		return Instructor{}, apperr.New(http.StatusForbidden, "instructor_inactive", "您已不在任,无法绑定,请联系县级民族工作部门")
	}
	return ins, nil
}

// UnscopedActiveByPhone finds the active instructor with this phone number anywhere in the
// province, for binding by the phone WeChat confirms (the caller has no scope yet).
func (s *Service) UnscopedActiveByPhone(ctx context.Context, phone string) (Instructor, error) {
	var ins Instructor
	err := s.db.WithContext(ctx).Where("phone_hash = ? AND status = ?", s.box.Hash(phone), StatusActive).Take(&ins).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ins, apperr.New(http.StatusNotFound, "phone_not_on_roster", "该手机号不在指导员名单中,请使用邀请码绑定或联系县级民族工作部门")
	}
	return ins, err
}

// UnscopedInstructor loads an instructor by id without scope, for a service that already holds
// the instructor's own principal (auth building it, an instructor's own record or bulletin).
func (s *Service) UnscopedInstructor(ctx context.Context, id int64) (Instructor, error) {
	var ins Instructor
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&ins).Error
	return ins, err
}

// Placement is where an instructor works, as a submission needs it: name, status, unit and
// region.
type Placement struct {
	ID         int64
	Name       string
	Status     string
	UnitID     int64
	UnitName   string
	RegionCode string
}

// UnscopedPlacement reads an instructor's placement in one query (the instructor row with its
// unit's name), without scope, for the instructor's own submission. A missing instructor is
// gorm.ErrRecordNotFound.
func (s *Service) UnscopedPlacement(ctx context.Context, id int64) (Placement, error) {
	var rows []Placement
	err := s.db.WithContext(ctx).Table("instructors AS i").Joins("JOIN units AS u ON u.id = i.unit_id").
		Select("i.id, i.name, i.status, i.unit_id, u.name AS unit_name, i.region_code").
		Where("i.id = ?", id).Limit(1).Scan(&rows).Error
	if err != nil {
		return Placement{}, err
	}
	if len(rows) == 0 {
		return Placement{}, gorm.ErrRecordNotFound
	}
	return rows[0], nil
}

func subtree(code string) func(*gorm.DB) *gorm.DB {
	return access.UnderRegion("region_code", code)
}

// escapeLike escapes a keyword for "LIKE ? ESCAPE '!'", a form MySQL and SQLite read alike.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}
