package nomination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Tickets resolves the bind ticket of a WeChat user who is not on the roster yet (package auth).
type Tickets interface {
	TicketOpenID(ctx context.Context, ticket string) (string, error)
}

// Service manages nominations. Staff methods take the caller and scope by the nomination's
// region; self-nomination takes a bind ticket instead.
type Service struct {
	db      *gorm.DB
	box     *secret.Box
	roster  *roster.Service
	regions *region.Store
	tickets Tickets
	clock   clock.Clock
}

// NewService wires nominations.
func NewService(db *gorm.DB, box *secret.Box, rs *roster.Service, regions *region.Store, tickets Tickets, clk clock.Clock) *Service {
	return &Service{db: db, box: box, roster: rs, regions: regions, tickets: tickets, clock: clk}
}

var (
	errNotFound  = apperr.New(http.StatusNotFound, "nomination_not_found", "提名不存在或不在您的管辖范围内")
	errStaffOnly = apperr.Forbidden("只有民族工作部门工作人员可以推荐和审核指导员人选")
	errPending   = apperr.New(http.StatusConflict, "nomination_pending", "已有一份待审核的提名,请等待县级民族工作部门审核")
	errDecided   = apperr.New(http.StatusConflict, "nomination_decided", "该提名已处理完毕(已选聘或未选聘)")
)

// Input is a nomination: the person as for an instructor, where they would serve and why.
// Staff name a unit in scope (Person.UnitID); a self-nominee names a unit or gives its region
// and name.
type Input struct {
	Person      roster.InstructorInput
	RegionCode  string
	UnitName    string
	Statement   string
	Recommender string
}

func (s *Service) check(ctx context.Context, v *validate.Checker, in *Input) {
	roster.CheckPerson(v, &in.Person)
	in.Statement = strings.TrimSpace(in.Statement)
	in.Recommender = strings.TrimSpace(in.Recommender)
	in.UnitName = strings.TrimSpace(in.UnitName)
	in.RegionCode = strings.TrimSpace(in.RegionCode)
	v.MaxLen("statement", "推荐(自荐)理由", in.Statement, 1000)
	v.MaxLen("recommender", "推荐单位", in.Recommender, 100)
	v.MaxLen("unit_name", "单位名称", in.UnitName, 100)
}

// Recommend records a unit's recommendation, entered by staff for a unit in their scope.
func (s *Service) Recommend(ctx context.Context, p *access.Principal, in Input) (View, error) {
	if !p.IsStaff() {
		return View{}, errStaffOnly
	}
	var v validate.Checker
	s.check(ctx, &v, &in)
	v.Check(in.Person.UnitID > 0, "unit_id", "请选择推荐的单位")
	if err := v.Err(); err != nil {
		return View{}, err
	}
	u, err := s.roster.GetUnit(ctx, p, in.Person.UnitID)
	if apperr.Is(err, "unit_not_found") {
		return View{}, apperr.New(http.StatusNotFound, "unit_not_found", "单位不存在或不在您的管辖范围内").WithField("unit_id", "单位不存在或不在您的管辖范围内")
	}
	if err != nil {
		return View{}, err
	}
	if in.Recommender == "" {
		in.Recommender = u.Name
	}
	n, err := s.newNomination(in, SourceUnit, u.RegionCode, u.ID, u.Name)
	if err != nil {
		return View{}, err
	}
	n.CreatedBy = p.AccountID
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		n.ID = 0 // a retried attempt inserts afresh
		var dup int64
		if err := tx.Model(&Nomination{}).Where("phone_hash = ? AND status IN ?", n.PhoneHash, []string{StatusPending, StatusReviewed}).
			Count(&dup).Error; err != nil {
			return err
		}
		if dup > 0 {
			return apperr.New(http.StatusConflict, "nomination_pending", "该手机号已有一份待审核的提名").WithField("phone", "已有待审核的提名")
		}
		return tx.Create(&n).Error
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, n, false)
}

// SelfNominate records a self-nomination by the WeChat user behind a bind ticket (who is not on
// the roster). The ticket stays valid. One open nomination per WeChat user.
func (s *Service) SelfNominate(ctx context.Context, ticket string, in Input) (View, error) {
	openid, err := s.tickets.TicketOpenID(ctx, ticket)
	if err != nil {
		return View{}, err
	}
	var v validate.Checker
	s.check(ctx, &v, &in)
	var regionCode, unitName string
	var unitID int64
	switch {
	case in.Person.UnitID > 0:
		u, ok, err := s.roster.UnscopedUnitByID(ctx, in.Person.UnitID)
		if err != nil {
			return View{}, err
		}
		v.Check(ok, "unit_id", "单位不存在")
		regionCode, unitName, unitID = u.RegionCode, u.Name, u.ID
	case in.RegionCode == "" && in.UnitName == "":
		v.Fail("unit_id", "请选择单位,或填写所在行政区划(region_code)和单位名称(unit_name)")
	default:
		v.Check(in.UnitName != "", "unit_name", "单位名称不能为空")
		s.checkRegion(ctx, &v, in.RegionCode)
		regionCode, unitName = in.RegionCode, in.UnitName
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	if unitID == 0 {
		if u, ok, err := s.roster.UnscopedUnitByName(ctx, regionCode, unitName); err != nil {
			return View{}, err
		} else if ok {
			unitID = u.ID
		}
	}
	n, err := s.newNomination(in, SourceSelf, regionCode, unitID, unitName)
	if err != nil {
		return View{}, err
	}
	n.OpenID = openid
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		n.ID = 0 // a retried attempt inserts afresh
		var dup int64
		if err := tx.Model(&Nomination{}).Where("openid = ? AND status IN ?", openid, []string{StatusPending, StatusReviewed}).
			Count(&dup).Error; err != nil {
			return err
		}
		if dup > 0 {
			return errPending
		}
		return tx.Create(&n).Error
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, n, false)
}

func (s *Service) checkRegion(ctx context.Context, v *validate.Checker, code string) {
	if code == "" {
		v.Fail("region_code", "所在行政区划不能为空")
		return
	}
	ok, err := s.regions.Exists(ctx, code)
	if err != nil && region.ValidCode(code) {
		v.Broken(err)
		return
	}
	if !region.ValidCode(code) || !ok {
		v.Fail("region_code", "行政区划代码不存在")
		return
	}
	v.Check(region.LevelOf(code) >= region.LevelCounty, "region_code", "请选择县级或以下行政区划")
}

func (s *Service) newNomination(in Input, source, regionCode string, unitID int64, unitName string) (Nomination, error) {
	now := s.clock.Now()
	n := Nomination{
		Source: source, Status: StatusPending, RegionCode: regionCode, UnitID: unitID, UnitName: unitName,
		Name: in.Person.Name, Gender: in.Person.Gender, Ethnicity: in.Person.Ethnicity,
		PoliticalStatus: in.Person.PoliticalStatus, Position: strings.TrimSpace(in.Person.Position),
		SourceCategory: in.Person.SourceCategory, Statement: in.Statement, Recommender: in.Recommender,
		Criteria: "[]", CreatedAt: now, UpdatedAt: now,
	}
	var err error
	if n.PhoneEnc, err = s.box.Encrypt(in.Person.Phone); err != nil {
		return n, err
	}
	n.PhoneHash = s.box.Hash(in.Person.Phone)
	n.IDNumberEnc, err = s.box.Encrypt(in.Person.IDNumber)
	return n, err
}

// Filter narrows the list.
type Filter struct {
	// Statuses are the statuses asked for, any of them; none means all.
	Statuses   []string
	Source     string
	RegionCode string
	Page       paging.Page
}

// List lists nominations in scope, newest first, phone and ID number masked.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]View, string, error) {
	if !p.IsStaff() {
		return nil, "", errStaffOnly
	}
	var v validate.Checker
	v.OneOfEach("status", "状态", f.Statuses, roster.OneOf(Statuses))
	v.OneOf("source", "来源", f.Source, false, roster.OneOf(Sources))
	v.RegionCode("region_code", f.RegionCode)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Nomination{}).Scopes(access.InRegion(p, "region_code"), f.Page.Apply("id"))
	q = q.Scopes(access.UnderRegion("region_code", f.RegionCode))
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	var rows []Nomination
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(n Nomination) int64 { return n.ID })
	out := make([]View, 0, len(rows))
	for _, n := range rows {
		vw, err := s.view(ctx, n, true)
		if err != nil {
			return nil, "", err
		}
		out = append(out, vw)
	}
	return out, next, nil
}

func (s *Service) find(tx *gorm.DB, p *access.Principal, id int64) (Nomination, error) {
	if !p.IsStaff() {
		return Nomination{}, errStaffOnly
	}
	var n Nomination
	err := tx.Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&n).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return n, errNotFound
	}
	return n, err
}

// Get returns one nomination in scope, phone and ID number whole.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (View, error) {
	n, err := s.find(s.db.WithContext(ctx), p, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, n, false)
}

// ReviewInput is the county's review: every criterion checked, with a note.
type ReviewInput struct {
	Criteria []Check
	Note     string
}

// Review records the review of a nomination that is not decided yet; a later review replaces it.
func (s *Service) Review(ctx context.Context, p *access.Principal, id int64, in ReviewInput) (View, error) {
	in.Note = strings.TrimSpace(in.Note)
	var v validate.Checker
	seen := map[string]bool{}
	for i, c := range in.Criteria {
		field := fmt.Sprintf("criteria[%d]", i)
		switch {
		case !roster.OneOf(Criteria)(c.Code):
			v.Fail(field+".code", "选聘条件代码无效")
		case seen[c.Code]:
			v.Fail(field+".code", "选聘条件重复")
		}
		seen[c.Code] = true
		in.Criteria[i].Note = strings.TrimSpace(c.Note)
		v.MaxLen(field+".note", "说明", in.Criteria[i].Note, 200)
	}
	for _, c := range Criteria {
		if !seen[c.Code] {
			v.Fail("criteria", "请逐项审核全部"+fmt.Sprint(len(Criteria))+"项选聘条件(缺少“"+c.Label+"”)")
			break
		}
	}
	v.MaxLen("note", "审核意见", in.Note, 500)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	raw, _ := json.Marshal(in.Criteria)
	var out Nomination
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		n, err := s.find(tx, p, id)
		if err != nil {
			return err
		}
		if n.Status != StatusPending && n.Status != StatusReviewed {
			return errDecided
		}
		now := s.clock.Now()
		res := tx.Model(&Nomination{}).Where("id = ? AND status = ?", id, n.Status).Updates(map[string]any{
			"status": StatusReviewed, "criteria": string(raw), "review_note": in.Note, "reviewed_by": p.AccountID,
			"reviewed_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errDecided
		}
		out, err = s.find(tx, p, id)
		return err
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, out, false)
}

// AppointInput decides for the candidate: the term starts on TermStart ("2006-01-02"); UnitID,
// when set, overrides the unit of the nomination.
type AppointInput struct {
	TermStart string
	UnitID    int64
}

// Appoint appoints a reviewed candidate who meets every criterion: they go on the roster as an
// instructor in office with a 3-year term, under the 2-per-unit rule, in one transaction with the
// decision.
func (s *Service) Appoint(ctx context.Context, p *access.Principal, id int64, in AppointInput) (View, error) {
	var v validate.Checker
	start, ok := roster.ParseDate(in.TermStart)
	if strings.TrimSpace(in.TermStart) == "" {
		v.Fail("term_start", "任期开始日期不能为空")
	} else if !ok {
		v.Fail("term_start", "任期开始日期应为“2024-05-01”格式的日期")
	}
	v.Check(in.UnitID >= 0, "unit_id", "单位id无效")
	if err := v.Err(); err != nil {
		return View{}, err
	}
	// The unit is resolved before the transaction: SQLite has one connection, which the
	// transaction holds.
	n, err := s.find(s.db.WithContext(ctx), p, id)
	if err != nil {
		return View{}, err
	}
	unitID := in.UnitID
	if unitID == 0 {
		unitID = n.UnitID
	}
	var u roster.Unit
	if unitID == 0 {
		if u, ok, err = s.roster.UnscopedUnitByName(ctx, n.RegionCode, n.UnitName); err != nil {
			return View{}, err
		}
		if !ok && n.Status == StatusReviewed {
			return View{}, apperr.Field("unit_id", "“"+n.UnitName+"”尚未登记为单位,请先登记该单位,或指定选聘到的单位")
		}
	} else if u, ok, err = s.roster.UnscopedUnitByID(ctx, unitID); err != nil {
		return View{}, err
	}
	var out Nomination
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		n, err := s.find(tx, p, id)
		if err != nil {
			return err
		}
		switch n.Status {
		case StatusPending:
			return apperr.New(http.StatusConflict, "nomination_not_reviewed", "请先对照选聘条件逐项审核,再决定是否选聘")
		case StatusAppointed, StatusRejected:
			return errDecided
		}
		var checks []Check
		if err := json.Unmarshal([]byte(n.Criteria), &checks); err != nil {
			return err
		}
		if !allMet(checks) {
			return apperr.New(http.StatusConflict, "criteria_not_met", "该人选未满足全部选聘条件,不能选聘")
		}
		person, err := s.person(n)
		if err != nil {
			return err
		}
		// A unit that does not exist (or is out of scope) is refused by roster.Appoint.
		person.UnitID = u.ID
		if !ok {
			person.UnitID = unitID
		}
		insID, err := s.roster.Appoint(ctx, tx, p, roster.AppointInput{Person: person, TermStart: start, NominationID: n.ID})
		if err != nil {
			return err
		}
		now := s.clock.Now()
		res := tx.Model(&Nomination{}).Where("id = ? AND status = ?", id, StatusReviewed).Updates(map[string]any{
			"status": StatusAppointed, "instructor_id": insID, "unit_id": u.ID, "unit_name": u.Name,
			"region_code": u.RegionCode, "decided_by": p.AccountID, "decided_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errDecided
		}
		out, err = s.find(tx, p, id)
		return err
	})
	s.roster.Committed() // the name index of the appointed instructor (roster.Service.Committed)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, out, false)
}

// Reject decides against a candidate, with the reason.
func (s *Service) Reject(ctx context.Context, p *access.Principal, id int64, reason string) (View, error) {
	reason = strings.TrimSpace(reason)
	var v validate.Checker
	v.Required("reason", "不予选聘的原因", reason, 500)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	var out Nomination
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		n, err := s.find(tx, p, id)
		if err != nil {
			return err
		}
		if n.Status != StatusPending && n.Status != StatusReviewed {
			return errDecided
		}
		now := s.clock.Now()
		res := tx.Model(&Nomination{}).Where("id = ? AND status = ?", id, n.Status).Updates(map[string]any{
			"status": StatusRejected, "reject_reason": reason, "decided_by": p.AccountID, "decided_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errDecided
		}
		out, err = s.find(tx, p, id)
		return err
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, out, false)
}

func allMet(checks []Check) bool {
	if len(checks) < len(Criteria) {
		return false
	}
	for _, c := range checks {
		if !c.Met {
			return false
		}
	}
	return true
}

// person unseals the candidate as roster input.
func (s *Service) person(n Nomination) (roster.InstructorInput, error) {
	phone, err := s.box.Decrypt(n.PhoneEnc)
	if err != nil {
		return roster.InstructorInput{}, err
	}
	idNumber, err := s.box.Decrypt(n.IDNumberEnc)
	if err != nil {
		return roster.InstructorInput{}, err
	}
	return roster.InstructorInput{
		Name: n.Name, Gender: n.Gender, Ethnicity: n.Ethnicity, Phone: phone, IDNumber: idNumber,
		PoliticalStatus: n.PoliticalStatus, Position: n.Position, SourceCategory: n.SourceCategory,
	}, nil
}

func (s *Service) view(ctx context.Context, n Nomination, masked bool) (View, error) {
	person, err := s.person(n)
	if err != nil {
		return View{}, err
	}
	if masked {
		person.Phone, person.IDNumber = secret.MaskPhone(person.Phone), secret.MaskIDNumber(person.IDNumber)
	} else {
		audit.PersonalData(ctx)
	}
	var checks []Check
	if n.Criteria != "" {
		if err := json.Unmarshal([]byte(n.Criteria), &checks); err != nil {
			return View{}, err
		}
	}
	cv := make([]CheckView, 0, len(checks))
	for _, c := range checks {
		cv = append(cv, CheckView{Code: c.Code, Label: roster.Label(Criteria, c.Code), Met: c.Met, Note: c.Note})
	}
	regionName := ""
	if r, err := s.regions.Get(ctx, n.RegionCode); err == nil {
		regionName = r.Name
	}
	return View{
		ID: n.ID, Source: n.Source, SourceName: roster.Label(Sources, n.Source),
		Status: n.Status, StatusName: roster.Label(Statuses, n.Status),
		Name: n.Name, Gender: n.Gender, GenderName: roster.Label(roster.Genders, n.Gender),
		Ethnicity: n.Ethnicity, EthnicityName: roster.Label(roster.Ethnicities, n.Ethnicity),
		Phone: person.Phone, IDNumber: person.IDNumber,
		PoliticalStatus: n.PoliticalStatus, PoliticalStatusName: roster.Label(roster.PoliticalStatuses, n.PoliticalStatus),
		Position: n.Position, SourceCategory: n.SourceCategory, SourceCategoryName: roster.Label(roster.SourceCategories, n.SourceCategory),
		UnitID: n.UnitID, UnitName: n.UnitName, RegionCode: n.RegionCode, RegionName: regionName,
		Statement: n.Statement, Recommender: n.Recommender, Criteria: cv, AllCriteriaMet: allMet(checks),
		ReviewNote: n.ReviewNote, ReviewedAt: clock.LocalPtr(n.ReviewedAt), RejectReason: n.RejectReason,
		DecidedAt: clock.LocalPtr(n.DecidedAt), InstructorID: n.InstructorID,
		CreatedAt: clock.Local(n.CreatedAt), UpdatedAt: clock.Local(n.UpdatedAt),
	}, nil
}
