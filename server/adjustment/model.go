// Package adjustment is the central three-year adjustment of instructors (集中调整, measures
// §五(三)): a province or city launches a round for its subtree with a window; every instructor in
// office there whose term ends in the window is on the round's list; the county of each decides
// to renew, replace or end (several at once), with one of the reasons the measures name; the
// levels above follow the progress per county. A term that ran out without a decision is never
// extended by itself: it is flagged, and the county is reminded until it decides.
//
// The decisions are made by the roster's own term code (roster.RenewIn, EndTermIn, AdjustIn),
// inside the transaction that records them, so the roster's rules (places per unit, history)
// hold as they do for a single renewal. A renewal, end or adjustment made directly on the roster
// during a round is shown as handled outside the round, not pending.
//
// Who sees what: staff see the rounds launched in their subtree or above them, and of a round
// the instructors of their subtree. Only the launching level closes a round; only county staff
// decide, for their county.
package adjustment

import (
	"time"

	"github.com/shiliu/shiliu/server/assessment"
	"github.com/shiliu/shiliu/server/roster"
)

// Round statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Decisions of a county on an instructor's term.
const (
	DecisionRenew   = "renew"
	DecisionReplace = "replace"
	DecisionEnd     = "end"
)

// States of an instructor on a round's list: decided (as their decision), handled on the roster
// outside the round, or pending (overdue once the term has ended).
const (
	StatePending   = "pending"
	StateOverdue   = "overdue"
	StateElsewhere = "elsewhere"
)

// Codes with their labels.
var (
	Statuses  = []roster.Code{{Code: StatusOpen, Label: "进行中"}, {Code: StatusClosed, Label: "已结束"}}
	Decisions = []roster.Code{
		{Code: DecisionRenew, Label: "续聘"}, {Code: DecisionReplace, Label: "替换"}, {Code: DecisionEnd, Label: "不再续聘"},
	}
	States = []roster.Code{
		{Code: StatePending, Label: "待决定"}, {Code: StateOverdue, Label: "任期已届满未决定"},
		{Code: DecisionRenew, Label: "续聘"}, {Code: DecisionReplace, Label: "替换"}, {Code: DecisionEnd, Label: "不再续聘"},
		{Code: StateElsewhere, Label: "已在名册中另行处理"},
	}
)

// Dictionaries are the code lists of this package, merged into GET /api/v1/dictionaries.
// The reasons are the roster's (adjust_reason).
func Dictionaries() map[string][]roster.Code {
	return map[string][]roster.Code{"adjustment_decision": Decisions, "adjustment_state": States, "adjustment_round_status": Statuses}
}

// Round is one central adjustment (migration 37). Window dates are calendar days at midnight UTC.
type Round struct {
	ID          int64
	RegionCode  string
	Title       string
	WindowStart time.Time
	WindowEnd   time.Time
	Status      string
	CreatedBy   int64
	ClosedAt    *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (Round) TableName() string { return "adjustment_rounds" }

// Member is an instructor on a round's list, with the county's decision once made. TermEnd is
// the end of the term the round decides.
type Member struct {
	ID             int64
	RoundID        int64
	InstructorID   int64
	UnitID         int64
	RegionCode     string
	CountyCode     string
	TermEnd        time.Time
	Decision       string
	ReasonCategory string
	Note           string
	ReplacementID  int64
	DecidedBy      int64
	DecidedAt      *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (Member) TableName() string { return "adjustment_members" }

// Reminder is a reminder sent to a county on one day about the undecided ended terms of a round.
type Reminder struct {
	RoundID    int64     `gorm:"primaryKey;autoIncrement:false"`
	CountyCode string    `gorm:"primaryKey"`
	SentOn     time.Time `gorm:"primaryKey"`
	Overdue    int64
	CreatedAt  time.Time
}

func (Reminder) TableName() string { return "adjustment_reminders" }

// ---- views ----

// Counts are the instructors of a round (in the caller's subtree, or a county) by state.
type Counts struct {
	Total     int64 `json:"total"`
	Renewed   int64 `json:"renewed"`
	Replaced  int64 `json:"replaced"`
	Ended     int64 `json:"ended"`
	Elsewhere int64 `json:"elsewhere"`
	Pending   int64 `json:"pending"` // undecided, the overdue included
	Overdue   int64 `json:"overdue"`
}

// RoundView is a round as the API shows it, with the counts of the caller's subtree.
type RoundView struct {
	ID          int64      `json:"id"`
	Title       string     `json:"title"`
	RegionCode  string     `json:"region_code"`
	RegionName  string     `json:"region_name"`
	WindowStart string     `json:"window_start"`
	WindowEnd   string     `json:"window_end"`
	Status      string     `json:"status"`
	StatusName  string     `json:"status_name"`
	Counts      Counts     `json:"counts"`
	ClosedAt    *time.Time `json:"closed_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// MemberView is an instructor on a round's list as the API shows it.
type MemberView struct {
	InstructorID       int64              `json:"instructor_id"`
	Name               string             `json:"name"`
	UnitID             int64              `json:"unit_id"`
	UnitName           string             `json:"unit_name"`
	RegionCode         string             `json:"region_code"`
	CountyCode         string             `json:"county_code"`
	CountyName         string             `json:"county_name"`
	TermEnd            string             `json:"term_end"`
	Status             string             `json:"status"` // the instructor's now
	StatusName         string             `json:"status_name"`
	CurrentTermEnd     string             `json:"current_term_end"`
	State              string             `json:"state"`
	StateName          string             `json:"state_name"`
	Overdue            bool               `json:"overdue"`
	Decision           string             `json:"decision"`
	DecisionName       string             `json:"decision_name"`
	ReasonCategory     string             `json:"reason_category"`
	ReasonCategoryName string             `json:"reason_category_name"`
	Note               string             `json:"note"`
	ReplacementID      int64              `json:"replacement_instructor_id,omitempty"`
	ReplacementName    string             `json:"replacement_name,omitempty"`
	DecidedAt          *time.Time         `json:"decided_at"`
	Assessments        []assessment.Brief `json:"assessments"`
}

// CountyProgress is the progress of one county of a round.
type CountyProgress struct {
	CountyCode string `json:"county_code"`
	CountyName string `json:"county_name"`
	CityCode   string `json:"city_code"`
	CityName   string `json:"city_name"`
	Counts
}

// Progress is a round's progress per county of the caller's subtree.
type Progress struct {
	Round    RoundView        `json:"round"`
	Counties []CountyProgress `json:"counties"`
	Total    Counts           `json:"total"`
}
