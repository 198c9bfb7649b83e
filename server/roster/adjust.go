package roster

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

// Adjustment actions during a term: an instructor in office is dismissed, replaced by another person
// in the same unit, or transferred to another unit.
const (
	AdjustDismiss  = "dismiss"
	AdjustReplace  = "replace"
	AdjustTransfer = "transfer"
)

var AdjustActions = []Code{
	{Code: AdjustDismiss, Label: "解聘"},
	{Code: AdjustReplace, Label: "替换"},
	{Code: AdjustTransfer, Label: "调整单位"},
}

// AdjustInput is an in-term adjustment with its reason.
type AdjustInput struct {
	Action         string
	ReasonCategory string
	Note           string
	// Replace: a new person, who takes the same unit (their UnitID is ignored), or an instructor
	// already on the roster.
	Replacement   *InstructorInput
	ReplacementID int64
	// Transfer: the unit to move to.
	ToUnitID int64
}

// AdjustResult is the adjusted instructor and, for a replacement, who replaced them.
type AdjustResult struct {
	Instructor  InstructorView  `json:"instructor"`
	Replacement *InstructorView `json:"replacement,omitempty"`
}

var errNotInOffice = apperr.New(http.StatusConflict, "instructor_inactive", "该指导员已不在任,无需调整")

// Adjust dismisses, replaces or transfers an instructor in scope. Every change is one
// transaction, moves places between units under the 2-per-unit rule and is written to the
// history of each instructor concerned.
func (s *Service) Adjust(ctx context.Context, p *access.Principal, id int64, in AdjustInput) (AdjustResult, error) {
	if err := requireStaff(p); err != nil {
		return AdjustResult{}, err
	}
	in.Note = strings.TrimSpace(in.Note)
	person, err := checkAdjust(id, in)
	if err != nil {
		return AdjustResult{}, err
	}

	var replacementID int64
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		replacementID, err = s.adjustIn(ctx, tx, p, id, in, person)
		return err
	})
	s.Committed()
	if err != nil {
		return AdjustResult{}, err
	}
	var out AdjustResult
	if out.Instructor, err = s.GetInstructor(ctx, p, id); err != nil {
		return AdjustResult{}, err
	}
	if replacementID > 0 {
		r, err := s.GetInstructor(ctx, p, replacementID)
		if err != nil {
			return AdjustResult{}, err
		}
		out.Replacement = &r
	}
	return out, nil
}

// AdjustIn is Adjust inside the caller's transaction (the central adjustment replaces several
// instructors in one); it returns the replacement's id, 0 when there is none.
func (s *Service) AdjustIn(ctx context.Context, tx *gorm.DB, p *access.Principal, id int64, in AdjustInput) (int64, error) {
	if err := requireStaff(p); err != nil {
		return 0, err
	}
	in.Note = strings.TrimSpace(in.Note)
	person, err := checkAdjust(id, in)
	if err != nil {
		return 0, err
	}
	return s.adjustIn(ctx, tx, p, id, in, person)
}

func (s *Service) adjustIn(ctx context.Context, tx *gorm.DB, p *access.Principal, id int64, in AdjustInput, person InstructorInput) (int64, error) {
	cur, err := s.loadForChange(tx, p, id)
	if err != nil {
		return 0, err
	}
	if cur.Status != StatusActive && cur.Status != StatusSuspended {
		return 0, errNotInOffice
	}
	h := History{InstructorID: id, ReasonCategory: in.ReasonCategory, Note: in.Note, FromUnitID: cur.UnitID,
		FromStatus: cur.Status, TermStart: cur.TermStart, TermEnd: cur.TermEnd}
	switch in.Action {
	case AdjustDismiss:
		return 0, s.dismiss(tx, p, cur, h)
	case AdjustReplace:
		return s.replace(ctx, tx, p, cur, h, in, person)
	case AdjustTransfer:
		return 0, s.transfer(ctx, tx, p, cur, h, in.ToUnitID)
	}
	return 0, apperr.Field("action", "不支持的调整方式")
}

// checkAdjust validates an adjustment before anything is loaded and returns the new person of a
// replacement by a newcomer.
func checkAdjust(id int64, in AdjustInput) (InstructorInput, error) {
	var v validate.Checker
	v.OneOf("action", "调整方式", in.Action, true, OneOf(AdjustActions))
	v.OneOf("reason_category", "调整原因", in.ReasonCategory, true, OneOf(AdjustReasons))
	v.MaxLen("note", "说明", in.Note, 500)
	var person InstructorInput
	switch in.Action {
	case AdjustReplace:
		if (in.Replacement == nil) == (in.ReplacementID == 0) {
			v.Fail("replacement", "请填写替换人员的信息,或指定已登记的指导员(replacement_instructor_id),二者选一")
		}
		if in.Replacement != nil {
			person = *in.Replacement
			var pv validate.Checker
			CheckPerson(&pv, &person)
			if e, ok := apperr.As(pv.Err()); ok {
				for _, d := range e.Details {
					v.Fail("replacement."+d.Field, d.Message)
				}
			}
		}
		v.Check(in.ReplacementID != id, "replacement_instructor_id", "替换人员不能是本人")
	case AdjustTransfer:
		v.Check(in.ToUnitID > 0, "to_unit_id", "请选择调往的单位")
	}
	return person, v.Err()
}

// dismiss ends cur's term early and frees their place.
func (s *Service) dismiss(tx *gorm.DB, p *access.Principal, cur Instructor, h History) error {
	if err := s.vacate(tx, cur); err != nil {
		return err
	}
	h.Action, h.ToUnitID, h.ToStatus = ActionDismiss, cur.UnitID, StatusDismissed
	return s.logHistory(tx, p, h)
}

// replace dismisses cur and puts the replacement into cur's unit, a newcomer (person) or an
// instructor already on the roster (in.ReplacementID); both histories name each other. It
// returns the replacement's id.
func (s *Service) replace(ctx context.Context, tx *gorm.DB, p *access.Principal, cur Instructor, h History, in AdjustInput, person InstructorInput) (int64, error) {
	if err := s.vacate(tx, cur); err != nil {
		return 0, err
	}
	u, err := s.findUnit(ctx, tx, access.System(), cur.UnitID)
	if err != nil {
		return 0, err
	}
	var rh History
	if in.Replacement != nil {
		rh, err = s.appointReplacement(tx, p, person, u)
	} else {
		rh, err = s.moveReplacement(tx, p, in.ReplacementID, u)
	}
	if err != nil {
		return 0, err
	}
	h.Action, h.ToUnitID, h.ToStatus, h.RelatedInstructorID = ActionReplaced, cur.UnitID, StatusDismissed, rh.InstructorID
	if err := s.logHistory(tx, p, h); err != nil {
		return 0, err
	}
	rh.Action, rh.ReasonCategory, rh.Note, rh.RelatedInstructorID = ActionReplacement, in.ReasonCategory, in.Note, cur.ID
	rh.ToUnitID, rh.ToStatus = u.ID, StatusActive
	return rh.InstructorID, s.logHistory(tx, p, rh)
}

// transfer moves cur, with their term and status, to the unit toUnitID in the caller's scope.
func (s *Service) transfer(ctx context.Context, tx *gorm.DB, p *access.Principal, cur Instructor, h History, toUnitID int64) error {
	to, err := s.findUnit(ctx, tx, p, toUnitID)
	if errors.Is(err, errUnitNotFound) {
		return errUnitNotFound.WithField("to_unit_id", "调往的单位不存在或不在您的管辖范围内")
	}
	if err != nil {
		return err
	}
	if to.ID == cur.UnitID {
		return apperr.Field("to_unit_id", "调往的单位与现在的单位相同")
	}
	if err := s.moveUnit(tx, cur, to); err != nil {
		return err
	}
	h.Action, h.ToUnitID, h.ToStatus = ActionTransfer, to.ID, cur.Status
	return s.logHistory(tx, p, h)
}

// vacate marks cur dismissed; one in office (not suspended) gives their unit's place back.
func (s *Service) vacate(tx *gorm.DB, cur Instructor) error {
	if err := s.changeState(tx, cur, map[string]any{"status": StatusDismissed}); err != nil {
		return err
	}
	if cur.Status == StatusActive {
		return releasePlace(tx, cur.UnitID)
	}
	return nil
}

// moveUnit moves an instructor to another unit; one in office takes a place there and frees theirs.
func (s *Service) moveUnit(tx *gorm.DB, cur Instructor, to Unit) error {
	if cur.Status == StatusActive {
		if err := releasePlace(tx, cur.UnitID); err != nil {
			return err
		}
		if err := takePlace(tx, to.ID); err != nil {
			return err
		}
	}
	return s.changeState(tx, cur, map[string]any{"unit_id": to.ID, "region_code": to.RegionCode})
}

// appointReplacement puts a new person into unit u with a full term from today and returns the
// start of their history entry.
func (s *Service) appointReplacement(tx *gorm.DB, p *access.Principal, person InstructorInput, u Unit) (History, error) {
	ins := Instructor{
		Name: person.Name, Gender: person.Gender, Ethnicity: person.Ethnicity, PoliticalStatus: person.PoliticalStatus,
		Position: strings.TrimSpace(person.Position), SourceCategory: person.SourceCategory, Status: StatusActive,
		UnitID: u.ID, RegionCode: u.RegionCode, CreatedBy: p.AccountID,
	}
	if err := s.sealPersonal(&ins, person.Phone, person.IDNumber); err != nil {
		return History{}, err
	}
	s.startTerm(&ins, nil)
	if err := takePlace(tx, u.ID); err != nil {
		return History{}, err
	}
	if err := tx.Create(&ins).Error; err != nil {
		return History{}, s.instructorConflict(err)
	}
	if err := s.touchInstructors(tx, ins.ID); err != nil {
		return History{}, err
	}
	return History{InstructorID: ins.ID, TermStart: ins.TermStart, TermEnd: ins.TermEnd}, nil
}

// moveReplacement makes an instructor already on the roster the replacement in unit u: one in
// office elsewhere moves with their term; one out of office starts a new term.
func (s *Service) moveReplacement(tx *gorm.DB, p *access.Principal, id int64, u Unit) (History, error) {
	rep, err := s.loadForChange(tx, p, id)
	if errors.Is(err, errInstructorNotFound) {
		return History{}, errInstructorNotFound.WithField("replacement_instructor_id", "替换人员不存在或不在您的管辖范围内")
	}
	if err != nil {
		return History{}, err
	}
	h := History{InstructorID: rep.ID, FromUnitID: rep.UnitID, FromStatus: rep.Status, TermStart: rep.TermStart, TermEnd: rep.TermEnd}
	if rep.Status == StatusActive {
		if rep.UnitID == u.ID {
			return History{}, errInstructorActive.WithField("replacement_instructor_id", "替换人员已是该单位的在任指导员")
		}
		return h, s.moveUnit(tx, rep, u)
	}
	if err := takePlace(tx, u.ID); err != nil {
		return History{}, err
	}
	next := rep
	s.startTerm(&next, nil)
	h.TermStart, h.TermEnd = next.TermStart, next.TermEnd
	return h, s.changeState(tx, rep, map[string]any{"status": StatusActive, "unit_id": u.ID, "region_code": u.RegionCode,
		"term_start": next.TermStart, "term_end": next.TermEnd})
}
