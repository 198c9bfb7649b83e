package support

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
	"gorm.io/gorm"
)

var (
	errSuggestionNotFound = apperr.New(http.StatusNotFound, "suggestion_not_found", "意见建议不存在或不在您的范围内")
	errInstructorOnly     = apperr.Forbidden("只有指导员可以提出意见建议")
	errNoSuggestions      = apperr.Forbidden("无权查看意见建议")
	errCountyOnly         = apperr.Forbidden("只有指导员所在县(市、区)的民族工作部门可以答复意见建议")
	errAnswered           = apperr.New(http.StatusConflict, "suggestion_answered", "该意见建议已经答复,不能再次答复").
				WithField("answer", "已经答复")
	errClientIDConflict = apperr.New(http.StatusConflict, "client_id_conflict",
		"该提交编号(client_id)已用于另一条内容不同的意见建议。重试时请原样提交;提出新的意见建议请生成新的编号").
		WithField("client_id", "已用于内容不同的意见建议")
	errNotInOffice = apperr.Forbidden("您已不在任,不能提出意见建议")
)

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// countyOf is the county a region belongs to.
func countyOf(code string) string {
	if len(code) < 6 {
		return code
	}
	return code[:6] + "000000"
}

// SuggestionInput is a suggestion from the phone, with the client id that makes retries land once.
type SuggestionInput struct {
	ClientID string
	Content  string
}

// Suggest stores an instructor's suggestion to their county and tells the county in the same
// transaction. A retry with the same client id and content returns the stored one (created
// false); the same id with other content is a conflict.
func (s *Service) Suggest(ctx context.Context, p *access.Principal, in SuggestionInput) (SuggestionView, bool, error) {
	if !p.IsInstructor() {
		return SuggestionView{}, false, errInstructorOnly
	}
	in.ClientID, in.Content = strings.TrimSpace(in.ClientID), strings.TrimSpace(in.Content)
	var v validate.Checker
	if in.ClientID == "" {
		v.Fail("client_id", "提交编号(client_id)不能为空")
	} else {
		v.Check(uuidRe.MatchString(in.ClientID), "client_id", "提交编号(client_id)应为UUID,如3f2b8c1e-9d4a-4c7b-8e21-5a6f0b9c2d17")
	}
	v.Required("content", "意见建议", in.Content, maxContent)
	if err := v.Err(); err != nil {
		return SuggestionView{}, false, err
	}
	if sg, ok, err := s.byClientID(ctx, p.InstructorID, in.ClientID); err != nil || ok {
		return s.retried(ctx, sg, in, ok, err)
	}
	ins, err := s.roster.UnscopedInstructor(ctx, p.InstructorID)
	if err != nil {
		return SuggestionView{}, false, err
	}
	if ins.Status != roster.StatusActive {
		return SuggestionView{}, false, errNotInOffice
	}
	// Read before the transaction: SQLite has a single connection, which the transaction holds.
	units, err := s.unitNames(ctx, []int64{ins.UnitID})
	if err != nil {
		return SuggestionView{}, false, err
	}
	now := s.clock.Now()
	sg := Suggestion{InstructorID: ins.ID, ClientID: in.ClientID, AccountID: p.AccountID, UnitID: ins.UnitID,
		RegionCode: ins.RegionCode, CountyCode: countyOf(ins.RegionCode), Content: in.Content, Status: StatusSubmitted,
		CreatedAt: now, UpdatedAt: now}
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		row := sg
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		sg = row
		return outbox.Write(tx, outbox.Entry{SubjectType: suggestionSubject, SubjectID: sg.ID, RegionCode: sg.RegionCode, At: now,
			Payload: outbox.SuggestionSubmitted{SuggestionID: sg.ID, InstructorID: ins.ID, InstructorName: ins.Name,
				UnitName: units[sg.UnitID], Summary: summary(sg.Content, 60), CountyCode: sg.CountyCode}})
	})
	if err != nil && database.IsUniqueViolation(err) {
		// Two retries raced: the other one stored it.
		found, ok, ferr := s.byClientID(ctx, p.InstructorID, in.ClientID)
		return s.retried(ctx, found, in, ok, ferr)
	}
	if err != nil {
		return SuggestionView{}, false, err
	}
	audit.Subject(ctx, suggestionSubject, sg.ID, sg.RegionCode)
	views, err := s.suggestionViews(ctx, []Suggestion{sg})
	if err != nil {
		return SuggestionView{}, false, err
	}
	return views[0], true, nil
}

func (s *Service) byClientID(ctx context.Context, instructorID int64, clientID string) (Suggestion, bool, error) {
	var rows []Suggestion
	err := s.db.WithContext(ctx).Where("instructor_id = ? AND client_id = ?", instructorID, clientID).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Suggestion{}, false, err
	}
	return rows[0], true, nil
}

// retried answers a retry: the stored suggestion when the content is the same.
func (s *Service) retried(ctx context.Context, sg Suggestion, in SuggestionInput, ok bool, err error) (SuggestionView, bool, error) {
	switch {
	case err != nil:
		return SuggestionView{}, false, err
	case !ok:
		return SuggestionView{}, false, errors.New("support: suggestion of a unique violation not found")
	case sg.Content != in.Content:
		return SuggestionView{}, false, errClientIDConflict
	}
	views, err := s.suggestionViews(ctx, []Suggestion{sg})
	if err != nil {
		return SuggestionView{}, false, err
	}
	return views[0], false, nil
}

func summary(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// inScope limits suggestions to those p sees: staff their subtree's, an instructor their own.
func inScope(p *access.Principal) func(*gorm.DB) *gorm.DB {
	return access.InRegionOrOwn(p, "region_code", "instructor_id")
}

// GetSuggestion returns one suggestion the caller may see.
func (s *Service) GetSuggestion(ctx context.Context, p *access.Principal, id int64) (SuggestionView, error) {
	if !p.IsStaff() && !p.IsInstructor() {
		return SuggestionView{}, errNoSuggestions
	}
	sg, err := s.loadSuggestion(s.db.WithContext(ctx), p, id)
	if err != nil {
		return SuggestionView{}, err
	}
	views, err := s.suggestionViews(ctx, []Suggestion{sg})
	if err != nil {
		return SuggestionView{}, err
	}
	return views[0], nil
}

func (s *Service) loadSuggestion(db *gorm.DB, p *access.Principal, id int64) (Suggestion, error) {
	var sg Suggestion
	err := db.Model(&Suggestion{}).Scopes(inScope(p)).Where("id = ?", id).Take(&sg).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return sg, errSuggestionNotFound
	}
	return sg, err
}

// SuggestionFilter narrows a list of suggestions.
type SuggestionFilter struct {
	Status       string
	InstructorID int64
	RegionCode   string
	Page         paging.Page
}

// ListSuggestions lists suggestions newest first: staff those of their subtree, an instructor
// their own.
func (s *Service) ListSuggestions(ctx context.Context, p *access.Principal, f SuggestionFilter) ([]SuggestionView, string, error) {
	if !p.IsStaff() && !p.IsInstructor() {
		return nil, "", errNoSuggestions
	}
	var v validate.Checker
	v.OneOf("status", "答复状态", f.Status, false, roster.OneOf(SuggestionStatuses))
	v.RegionCode("region_code", f.RegionCode)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Suggestion{}).Scopes(inScope(p), access.UnderRegion("region_code", f.RegionCode), f.Page.Apply("id"))
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.InstructorID > 0 {
		q = q.Where("instructor_id = ?", f.InstructorID)
	}
	var rows []Suggestion
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(f.Page, rows, func(sg Suggestion) int64 { return sg.ID })
	out, err := s.suggestionViews(ctx, rows)
	return out, next, err
}

// Answer records the county's answer to a suggestion and tells the instructor in the same
// transaction. The same answer again (a retried request) changes nothing; another is refused.
func (s *Service) Answer(ctx context.Context, p *access.Principal, id int64, answer string) (SuggestionView, error) {
	if !p.IsStaff() {
		return SuggestionView{}, errCountyOnly
	}
	answer = strings.TrimSpace(answer)
	var v validate.Checker
	v.Required("answer", "答复", answer, maxAnswer)
	if err := v.Err(); err != nil {
		return SuggestionView{}, err
	}
	now := s.clock.Now()
	var out Suggestion
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		sg, err := s.loadSuggestion(tx, p, id)
		if err != nil {
			return err
		}
		if p.Role != access.RoleCountyStaff || p.RegionCode != sg.CountyCode {
			return errCountyOnly
		}
		if sg.Status == StatusAnswered {
			if sg.Answer == answer {
				out = sg
				return nil
			}
			return errAnswered
		}
		res := tx.Model(&Suggestion{}).Where("id = ? AND status = ?", sg.ID, StatusSubmitted).Updates(map[string]any{
			"status": StatusAnswered, "answer": answer, "answered_by": p.AccountID, "answered_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errAnswered
		}
		sg.Status, sg.Answer, sg.AnsweredBy, sg.AnsweredAt, sg.UpdatedAt = StatusAnswered, answer, p.AccountID, &now, now
		out = sg
		return outbox.Write(tx, outbox.Entry{SubjectType: suggestionSubject, SubjectID: sg.ID, RegionCode: sg.RegionCode, At: now,
			Payload: outbox.SuggestionAnswered{SuggestionID: sg.ID, InstructorID: sg.InstructorID, Summary: summary(sg.Content, 60),
				Answer: summary(answer, 200), CountyCode: sg.CountyCode}})
	})
	if err != nil {
		return SuggestionView{}, err
	}
	audit.Subject(ctx, suggestionSubject, out.ID, out.RegionCode)
	views, err := s.suggestionViews(ctx, []Suggestion{out})
	if err != nil {
		return SuggestionView{}, err
	}
	return views[0], nil
}

func (s *Service) suggestionViews(ctx context.Context, rows []Suggestion) ([]SuggestionView, error) {
	out := make([]SuggestionView, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids, unitIDs := make([]int64, len(rows)), make([]int64, len(rows))
	for i, sg := range rows {
		ids[i], unitIDs[i] = sg.InstructorID, sg.UnitID
	}
	names, err := s.instructorNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	units, err := s.unitNames(ctx, unitIDs)
	if err != nil {
		return nil, err
	}
	for i, sg := range rows {
		out[i] = SuggestionView{
			ID: sg.ID, ClientID: sg.ClientID, InstructorID: sg.InstructorID, InstructorName: names[sg.InstructorID],
			UnitID: sg.UnitID, UnitName: units[sg.UnitID], RegionCode: sg.RegionCode, CountyCode: sg.CountyCode,
			CountyName: s.regionName(ctx, sg.CountyCode), Content: sg.Content, Status: sg.Status,
			StatusName: roster.Label(SuggestionStatuses, sg.Status), Answer: sg.Answer, AnsweredAt: clock.LocalPtr(sg.AnsweredAt),
			CreatedAt: clock.Local(sg.CreatedAt), UpdatedAt: clock.Local(sg.UpdatedAt),
		}
	}
	return out, nil
}
