package roster

import (
	"context"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"gorm.io/gorm"
)

// History actions: every way an instructor comes onto the roster, changes unit or status, or gets
// a new term.
const (
	ActionAppoint     = "appoint"     // appointed from a nomination
	ActionCreate      = "create"      // entered directly by staff
	ActionImport      = "import"      // imported from Excel
	ActionEdit        = "edit"        // status or unit changed by editing the record
	ActionRenew       = "renew"       // a new term in the renewal round
	ActionEndTerm     = "end_term"    // not renewed
	ActionDismiss     = "dismiss"     // dismissed during the term
	ActionReplaced    = "replaced"    // dismissed in favour of a replacement
	ActionReplacement = "replacement" // appointed (or moved) to replace someone
	ActionTransfer    = "transfer"    // moved to another unit
)

var HistoryActions = []Code{
	{Code: ActionAppoint, Label: "选聘"},
	{Code: ActionCreate, Label: "登记"},
	{Code: ActionImport, Label: "Excel导入"},
	{Code: ActionEdit, Label: "信息修改"},
	{Code: ActionRenew, Label: "续聘"},
	{Code: ActionEndTerm, Label: "任期届满"},
	{Code: ActionDismiss, Label: "解聘"},
	{Code: ActionReplaced, Label: "被替换"},
	{Code: ActionReplacement, Label: "替换补选"},
	{Code: ActionTransfer, Label: "调整单位"},
}

// AdjustReasons are the grounds on which an instructor may be adjusted during a term.
var AdjustReasons = []Code{
	{Code: "performance", Label: "个人发挥作用情况"},
	{Code: "own_wish", Label: "本人意愿"},
	{Code: "health", Label: "身体健康状况"},
	{Code: "job_change", Label: "工作岗位或职务变动"},
	{Code: "other", Label: "其他"},
}

// TermDictionaries are the code lists of terms and adjustments, merged into GET /api/v1/dictionaries.
func TermDictionaries() map[string][]Code {
	return map[string][]Code{"history_action": HistoryActions, "adjust_action": AdjustActions, "adjust_reason": AdjustReasons}
}

// History is one entry of an instructor's history. Entries are only ever added.
type History struct {
	ID                  int64
	InstructorID        int64
	Action              string
	ReasonCategory      string
	Note                string
	FromUnitID          int64
	ToUnitID            int64
	FromStatus          string
	ToStatus            string
	TermStart           *time.Time
	TermEnd             *time.Time
	RelatedInstructorID int64
	NominationID        int64
	ActorID             int64
	ActorRole           string
	CreatedAt           time.Time
}

func (History) TableName() string { return "instructor_history" }

// HistoryView is a history entry as the API shows it.
type HistoryView struct {
	ID                  int64     `json:"id"`
	InstructorID        int64     `json:"instructor_id"`
	Action              string    `json:"action"`
	ActionName          string    `json:"action_name"`
	ReasonCategory      string    `json:"reason_category,omitempty"`
	ReasonCategoryName  string    `json:"reason_category_name,omitempty"`
	Note                string    `json:"note"`
	FromUnitID          int64     `json:"from_unit_id,omitempty"`
	FromUnitName        string    `json:"from_unit_name,omitempty"`
	ToUnitID            int64     `json:"to_unit_id,omitempty"`
	ToUnitName          string    `json:"to_unit_name,omitempty"`
	FromStatus          string    `json:"from_status,omitempty"`
	ToStatus            string    `json:"to_status,omitempty"`
	TermStart           string    `json:"term_start,omitempty"`
	TermEnd             string    `json:"term_end,omitempty"`
	RelatedInstructorID int64     `json:"related_instructor_id,omitempty"`
	NominationID        int64     `json:"nomination_id,omitempty"`
	ActorID             int64     `json:"actor_id"`
	ActorRole           string    `json:"actor_role"`
	CreatedAt           time.Time `json:"created_at"`
}

func (s *Service) logHistory(tx *gorm.DB, p *access.Principal, h History) error {
	h.ActorID, h.ActorRole = p.AccountID, string(p.Role)
	h.CreatedAt = s.clock.Now()
	return tx.Create(&h).Error
}

// ListHistory lists the history of an instructor in scope, newest first.
func (s *Service) ListHistory(ctx context.Context, p *access.Principal, id int64, page paging.Page) ([]HistoryView, string, error) {
	if _, err := s.loadForChange(s.db.WithContext(ctx).Select("id"), p, id); err != nil {
		return nil, "", err
	}
	var rows []History
	if err := s.db.WithContext(ctx).Where("instructor_id = ?", id).Scopes(page.Apply("id")).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	rows, next := paging.Trim(page, rows, func(h History) int64 { return h.ID })
	var unitIDs []int64
	for _, h := range rows {
		unitIDs = append(unitIDs, h.FromUnitID, h.ToUnitID)
	}
	names := map[int64]string{}
	if len(unitIDs) > 0 {
		var units []Unit
		if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", unitIDs).Find(&units).Error; err != nil {
			return nil, "", err
		}
		for _, u := range units {
			names[u.ID] = u.Name
		}
	}
	out := make([]HistoryView, 0, len(rows))
	for _, h := range rows {
		out = append(out, HistoryView{
			ID: h.ID, InstructorID: h.InstructorID, Action: h.Action, ActionName: Label(HistoryActions, h.Action),
			ReasonCategory: h.ReasonCategory, ReasonCategoryName: Label(AdjustReasons, h.ReasonCategory), Note: h.Note,
			FromUnitID: h.FromUnitID, FromUnitName: names[h.FromUnitID], ToUnitID: h.ToUnitID, ToUnitName: names[h.ToUnitID],
			FromStatus: h.FromStatus, ToStatus: h.ToStatus, TermStart: FormatDate(h.TermStart), TermEnd: FormatDate(h.TermEnd),
			RelatedInstructorID: h.RelatedInstructorID, NominationID: h.NominationID,
			ActorID: h.ActorID, ActorRole: h.ActorRole, CreatedAt: clock.Local(h.CreatedAt),
		})
	}
	return out, next, nil
}
