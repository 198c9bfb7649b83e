package roster

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// TermYears is the length of a term: instructors are adjusted centrally every 3 years.
const TermYears = 3

// DateLayout is how calendar dates (terms) travel in the API and in Excel.
const DateLayout = "2006-01-02"

// ParseDate reads a calendar date "2006-01-02" as midnight UTC, the form dates are stored in.
func ParseDate(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(DateLayout, strings.TrimSpace(s), time.UTC)
	return t, err == nil
}

// FormatDate shows a stored date, "" when there is none.
func FormatDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(DateLayout)
}

// Today is the current calendar day in China, as a stored date.
func (s *Service) Today() time.Time {
	n := s.clock.Now().In(clock.Shanghai)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// startTerm gives ins a full term from start (today when nil).
func (s *Service) startTerm(ins *Instructor, start *time.Time) {
	st := s.Today()
	if start != nil {
		st = *start
	}
	end := st.AddDate(TermYears, 0, 0)
	ins.TermStart, ins.TermEnd = &st, &end
}

var (
	errInstructorActive = apperr.New(http.StatusConflict, "instructor_active", "该指导员已在任")
	errStateChanged     = apperr.New(http.StatusConflict, "instructor_changed", "该指导员的状态刚刚被他人修改,请刷新后重试")
)

// loadForChange reads an instructor in the caller's scope inside tx, for a change of term or
// status.
func (s *Service) loadForChange(tx *gorm.DB, p *access.Principal, id int64) (Instructor, error) {
	if err := requireStaff(p); err != nil {
		return Instructor{}, err
	}
	var ins Instructor
	err := tx.Scopes(access.InRegion(p, "region_code")).Where("id = ?", id).Take(&ins).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ins, errInstructorNotFound
	}
	return ins, err
}

// changeState writes the columns of a status, unit or term change, on condition that nobody
// changed the instructor's status or unit since cur was read.
func (s *Service) changeState(tx *gorm.DB, cur Instructor, cols map[string]any) error {
	cols["updated_at"] = s.clock.Now()
	res := tx.Model(&Instructor{}).Where("id = ? AND status = ? AND unit_id = ?", cur.ID, cur.Status, cur.UnitID).Updates(cols)
	if res.Error != nil {
		return s.instructorConflict(res.Error)
	}
	if res.RowsAffected == 0 {
		return errStateChanged
	}
	if err := s.touchInstructors(tx, cur.ID); err != nil {
		return err
	}
	status, region := cur.Status, cur.RegionCode
	if to, ok := cols["status"].(string); ok {
		status = to
	}
	if to, ok := cols["region_code"].(string); ok {
		region = to
	}
	return s.changed(tx.Statement.Context, tx, cur.ID, cur.Status, status, cur.RegionCode, region)
}

// AppointInput appoints a nominated person.
type AppointInput struct {
	Person       InstructorInput // UnitID names the unit
	TermStart    time.Time
	NominationID int64
}

// Appoint puts a person on the roster as an active instructor with a full term from TermStart,
// inside the caller's transaction (a nomination's appointment). A person already on the roster
// (same phone) who is not in office is appointed again; one in office is a conflict.
func (s *Service) Appoint(ctx context.Context, tx *gorm.DB, p *access.Principal, in AppointInput) (int64, error) {
	if err := requireStaff(p); err != nil {
		return 0, err
	}
	person := in.Person
	person.Status = StatusActive
	var v validate.Checker
	checkInstructor(&v, &person)
	if err := v.Err(); err != nil {
		return 0, err
	}
	u, err := s.findUnit(ctx, tx, p, person.UnitID)
	if err != nil {
		return 0, unitFieldErr(err)
	}
	var existing Instructor
	err = tx.Where("phone_hash = ?", s.box.Hash(person.Phone)).Take(&existing).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, err
	}
	found := err == nil
	if found && existing.Status == StatusActive {
		return 0, errInstructorActive.WithField("phone", "该手机号对应的指导员已在任")
	}
	next := existing
	next.Name, next.Gender, next.Ethnicity = person.Name, person.Gender, person.Ethnicity
	next.PoliticalStatus, next.Position, next.SourceCategory = person.PoliticalStatus, strings.TrimSpace(person.Position), person.SourceCategory
	next.UnitID, next.RegionCode, next.Status = u.ID, u.RegionCode, StatusActive
	if err := s.sealPersonal(&next, person.Phone, person.IDNumber); err != nil {
		return 0, err
	}
	start := in.TermStart
	s.startTerm(&next, &start)
	if err := takePlace(tx, u.ID); err != nil {
		return 0, err
	}
	h := History{Action: ActionAppoint, ToUnitID: u.ID, ToStatus: StatusActive, NominationID: in.NominationID,
		TermStart: next.TermStart, TermEnd: next.TermEnd}
	if found {
		err = s.changeState(tx, existing, map[string]any{
			"name": next.Name, "gender": next.Gender, "ethnicity": next.Ethnicity, "phone_enc": next.PhoneEnc,
			"id_number_enc": next.IDNumberEnc, "id_number_hash": next.IDNumberHash, "political_status": next.PoliticalStatus,
			"position": next.Position, "source_category": next.SourceCategory, "unit_id": next.UnitID,
			"region_code": next.RegionCode, "status": next.Status, "term_start": next.TermStart, "term_end": next.TermEnd,
		})
		h.FromUnitID, h.FromStatus = existing.UnitID, existing.Status
	} else {
		next.CreatedBy = p.AccountID
		if err = tx.Create(&next).Error; err == nil {
			err = s.touchInstructors(tx, next.ID)
		}
	}
	if err != nil {
		return 0, s.instructorConflict(err)
	}
	h.InstructorID = next.ID
	return next.ID, s.logHistory(tx, p, h)
}

// Renew starts a new term for an instructor in scope (the 3-year renewal round): from the given
// day, or from the end of the current term. An instructor whose term has ended is appointed
// again and takes a place in their unit.
func (s *Service) Renew(ctx context.Context, p *access.Principal, id int64, start *time.Time) (InstructorView, error) {
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		return s.RenewIn(tx, p, id, start, "", "")
	})
	s.Committed()
	if err != nil {
		return InstructorView{}, err
	}
	return s.GetInstructor(ctx, p, id)
}

// RenewIn is Renew inside the caller's transaction, with the reason the history keeps (the
// central adjustment decides several instructors in one transaction).
func (s *Service) RenewIn(tx *gorm.DB, p *access.Principal, id int64, start *time.Time, reasonCategory, note string) error {
	cur, err := s.loadForChange(tx, p, id)
	if err != nil {
		return err
	}
	if cur.Status != StatusActive && cur.Status != StatusTermEnded {
		return apperr.New(http.StatusConflict, "instructor_inactive", "已解聘或暂停履职的指导员不能续聘")
	}
	st := s.Today()
	switch {
	case start != nil:
		st = *start
	case cur.TermEnd != nil:
		st = *cur.TermEnd
	}
	if cur.TermStart != nil && !st.After(*cur.TermStart) {
		return apperr.Field("term_start", "新任期的开始日期应晚于当前任期的开始日期("+FormatDate(cur.TermStart)+")")
	}
	next := cur
	s.startTerm(&next, &st)
	if cur.Status != StatusActive {
		if err := takePlace(tx, cur.UnitID); err != nil {
			return err
		}
	}
	if err := s.changeState(tx, cur, map[string]any{"status": StatusActive, "term_start": next.TermStart, "term_end": next.TermEnd}); err != nil {
		return err
	}
	return s.logHistory(tx, p, History{InstructorID: id, Action: ActionRenew, ReasonCategory: reasonCategory, Note: note,
		FromUnitID: cur.UnitID, ToUnitID: cur.UnitID, FromStatus: cur.Status, ToStatus: StatusActive,
		TermStart: next.TermStart, TermEnd: next.TermEnd})
}

// EndTerm ends an instructor's term in the renewal round (not renewed): the status becomes
// term_ended and the unit's place is free.
func (s *Service) EndTerm(ctx context.Context, p *access.Principal, id int64, reason string) (InstructorView, error) {
	reason = strings.TrimSpace(reason)
	var v validate.Checker
	v.Required("reason", "原因", reason, 500)
	if err := v.Err(); err != nil {
		return InstructorView{}, err
	}
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		return s.EndTermIn(tx, p, id, "", reason)
	})
	s.Committed()
	if err != nil {
		return InstructorView{}, err
	}
	return s.GetInstructor(ctx, p, id)
}

// EndTermIn is EndTerm inside the caller's transaction, with the reason the history keeps.
func (s *Service) EndTermIn(tx *gorm.DB, p *access.Principal, id int64, reasonCategory, note string) error {
	cur, err := s.loadForChange(tx, p, id)
	if err != nil {
		return err
	}
	if cur.Status != StatusActive && cur.Status != StatusSuspended {
		return apperr.New(http.StatusConflict, "instructor_inactive", "该指导员已不在任")
	}
	if err := s.changeState(tx, cur, map[string]any{"status": StatusTermEnded}); err != nil {
		return err
	}
	if cur.Status == StatusActive {
		if err := releasePlace(tx, cur.UnitID); err != nil {
			return err
		}
	}
	return s.logHistory(tx, p, History{InstructorID: id, Action: ActionEndTerm, ReasonCategory: reasonCategory, Note: note,
		FromUnitID: cur.UnitID, FromStatus: cur.Status, ToStatus: StatusTermEnded, TermStart: cur.TermStart, TermEnd: cur.TermEnd})
}

// MaxTermWindowDays bounds "terms ending within N days": one whole term.
const MaxTermWindowDays = 3 * 366

// TermsEnding lists the active instructors in scope whose term ends within days from today, those
// already past their end included, newest first.
func (s *Service) TermsEnding(ctx context.Context, p *access.Principal, days int, regionCode string, page paging.Page) ([]InstructorView, string, error) {
	if err := requireStaff(p); err != nil {
		return nil, "", err
	}
	var v validate.Checker
	v.Check(days >= 0 && days <= MaxTermWindowDays, "within_days", "天数应为0到1098之间的整数")
	v.RegionCode("region_code", regionCode)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	until := s.Today().AddDate(0, 0, days)
	q := s.db.WithContext(ctx).Model(&Instructor{}).Scopes(access.InRegion(p, "region_code"), page.Apply("id")).
		Where("status = ? AND term_end IS NOT NULL AND term_end <= ?", StatusActive, until)
	if regionCode != "" {
		q = q.Scopes(subtree(regionCode))
	}
	var rows []Instructor
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(page, rows, func(i Instructor) int64 { return i.ID })
	out, err := s.views(ctx, rows, true)
	return out, next, err
}
