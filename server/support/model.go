// Package support is how departments support instructors (measures §五(一): 走访慰问、订阅报刊、
// 听取意见建议): staff record support given to one instructor or a group of them, and instructors
// send suggestions to their county from the mini-program, which the county answers.
//
// Who sees what: staff of any level record support for instructors in office in their subtree
// and see the records issued in their subtree or reaching an instructor of it (with those
// recipients only, unless they issued it). A suggestion goes to the county of its instructor;
// staff see the suggestions of their subtree and only the county's officers answer. An
// instructor sees their own suggestions.
package support

import (
	"time"

	"github.com/shiliu/shiliu/server/roster"
)

// Kinds of support the measures name.
const (
	KindVisitCare   = "visit_care"  // 走访慰问
	KindPeriodicals = "periodicals" // 订阅报刊
	KindOther       = "other"
)

// Suggestion statuses.
const (
	StatusSubmitted = "submitted"
	StatusAnswered  = "answered"
)

// Codes with their labels.
var (
	Kinds = []roster.Code{
		{Code: KindVisitCare, Label: "走访慰问"}, {Code: KindPeriodicals, Label: "订阅报刊"}, {Code: KindOther, Label: "其他"},
	}
	SuggestionStatuses = []roster.Code{{Code: StatusSubmitted, Label: "待答复"}, {Code: StatusAnswered, Label: "已答复"}}
)

// Dictionaries are the code lists of this package, merged into GET /api/v1/dictionaries.
func Dictionaries() map[string][]roster.Code {
	return map[string][]roster.Code{"support_kind": Kinds, "suggestion_status": SuggestionStatuses}
}

// Record is support given on one day (migration 36). RegionCode is the recording department's;
// RecipientRegion the region whose instructors in office were given it as a whole, if it was.
type Record struct {
	ID              int64
	RegionCode      string
	Kind            string
	GivenOn         time.Time // a calendar day at midnight UTC
	GivenBy         string
	Note            string
	RecipientRegion string
	RecipientCount  int
	CreatedBy       int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (Record) TableName() string { return "support_records" }

// Recipient is one instructor a record reached, with the record's kind and day and the
// instructor's region then (the yearly counts read these rows alone).
type Recipient struct {
	ID           int64
	SupportID    int64
	InstructorID int64
	UnitID       int64
	RegionCode   string
	Kind         string
	GivenOn      time.Time
	CreatedAt    time.Time
}

func (Recipient) TableName() string { return "support_recipients" }

// Suggestion is an instructor's suggestion to their county and its answer.
type Suggestion struct {
	ID           int64
	InstructorID int64
	ClientID     string
	AccountID    int64
	UnitID       int64
	RegionCode   string
	CountyCode   string
	Content      string
	Status       string
	Answer       string
	AnsweredBy   int64
	AnsweredAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (Suggestion) TableName() string { return "suggestions" }

// ---- views ----

// RecordView is a support record as the API shows it. Recipients are listed in the detail only:
// those the caller may see.
type RecordView struct {
	ID                  int64           `json:"id"`
	Kind                string          `json:"kind"`
	KindName            string          `json:"kind_name"`
	GivenOn             string          `json:"given_on"`
	GivenBy             string          `json:"given_by"`
	Note                string          `json:"note"`
	RegionCode          string          `json:"region_code"`
	RegionName          string          `json:"region_name"`
	RecipientRegion     string          `json:"recipient_region"`
	RecipientRegionName string          `json:"recipient_region_name"`
	RecipientCount      int             `json:"recipient_count"`
	Recipients          []RecipientView `json:"recipients,omitempty"`
	CreatedAt           time.Time       `json:"created_at"`
	UpdatedAt           time.Time       `json:"updated_at"`
}

// RecipientView is one instructor who received support.
type RecipientView struct {
	InstructorID int64  `json:"instructor_id"`
	Name         string `json:"name"`
	UnitID       int64  `json:"unit_id"`
	UnitName     string `json:"unit_name"`
	RegionCode   string `json:"region_code"`
}

// SuggestionView is a suggestion as the API shows it.
type SuggestionView struct {
	ID             int64      `json:"id"`
	ClientID       string     `json:"client_id"`
	InstructorID   int64      `json:"instructor_id"`
	InstructorName string     `json:"instructor_name"`
	UnitID         int64      `json:"unit_id"`
	UnitName       string     `json:"unit_name"`
	RegionCode     string     `json:"region_code"`
	CountyCode     string     `json:"county_code"`
	CountyName     string     `json:"county_name"`
	Content        string     `json:"content"`
	Status         string     `json:"status"`
	StatusName     string     `json:"status_name"`
	Answer         string     `json:"answer"`
	AnsweredAt     *time.Time `json:"answered_at"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}
