// Package filing is the roster filing chain (备案): a county files its roster to
// the city, the city accepts it or returns it with a reason; a city files its counties' accepted
// rosters to the province likewise. A filing is a dated snapshot: its rows never change after
// filing, only its status does.
//
// What a snapshot holds: the instructors in office with what the roster list shows (name,
// gender, ethnicity, political status, position, source category), their unit and term, and the
// phone masked. The receiving levels need the whole roster, but not more copies of full phone
// numbers: those stay encrypted in the roster, where staff in scope read them. ID numbers are
// not filed.
package filing

import (
	"time"

	"github.com/shiliu/shiliu/server/roster"
)

// Levels: who files.
const (
	LevelCounty = "county"
	LevelCity   = "city"
)

// Statuses: submitted → accepted or returned. A returned filing stays as it was; the filer files
// again.
const (
	StatusSubmitted = "submitted"
	StatusAccepted  = "accepted"
	StatusReturned  = "returned"
)

var Levels = []roster.Code{
	{Code: LevelCounty, Label: "县级向市级备案"},
	{Code: LevelCity, Label: "市级向省级备案"},
}

var Statuses = []roster.Code{
	{Code: StatusSubmitted, Label: "待接收"},
	{Code: StatusAccepted, Label: "已接收"},
	{Code: StatusReturned, Label: "已退回"},
}

// Dictionaries are the code lists of filings, merged into GET /api/v1/dictionaries.
func Dictionaries() map[string][]roster.Code {
	return map[string][]roster.Code{"filing_level": Levels, "filing_status": Statuses, "filing_state": States}
}

// Filing is one filing. PendingRegion is set while it awaits a decision (one per region).
type Filing struct {
	ID              int64
	Level           string
	RegionCode      string
	ParentCode      string
	Status          string
	PendingRegion   *string
	InstructorCount int
	UnitCount       int
	Note            string
	FiledBy         int64
	FiledAt         time.Time
	DecidedBy       int64
	DecidedAt       *time.Time
	ReturnReason    string
}

func (Filing) TableName() string { return "filings" }

// Row is one instructor in a filing. PartFilingID is, in a city filing, the county filing the row
// came from.
type Row struct {
	ID              int64
	FilingID        int64
	PartFilingID    int64
	InstructorID    int64
	Name            string
	Gender          string
	Ethnicity       string
	PhoneMasked     string
	PhoneHash       string
	PoliticalStatus string
	Position        string
	SourceCategory  string
	Status          string
	UnitID          int64
	UnitName        string
	UnitKind        string
	RegionCode      string
	TermStart       *time.Time
	TermEnd         *time.Time
}

func (Row) TableName() string { return "filing_rows" }

// Part is a county filing a city filing consists of.
type Part struct {
	ID              int64
	FilingID        int64
	PartFilingID    int64
	RegionCode      string
	InstructorCount int
	FiledAt         time.Time
}

func (Part) TableName() string { return "filing_parts" }

// View is a filing without its rows.
type View struct {
	ID              int64      `json:"id"`
	Level           string     `json:"level"`
	LevelName       string     `json:"level_name"`
	RegionCode      string     `json:"region_code"`
	RegionName      string     `json:"region_name"`
	ParentCode      string     `json:"parent_code"`
	ParentName      string     `json:"parent_name"`
	Status          string     `json:"status"`
	StatusName      string     `json:"status_name"`
	InstructorCount int        `json:"instructor_count"`
	UnitCount       int        `json:"unit_count"`
	Note            string     `json:"note"`
	FiledBy         int64      `json:"filed_by"`
	FiledAt         time.Time  `json:"filed_at"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
	ReturnReason    string     `json:"return_reason,omitempty"`
	Parts           []PartView `json:"parts,omitempty"`
}

// PartView is a county filing inside a city filing.
type PartView struct {
	FilingID        int64     `json:"filing_id"`
	RegionCode      string    `json:"region_code"`
	RegionName      string    `json:"region_name"`
	InstructorCount int       `json:"instructor_count"`
	FiledAt         time.Time `json:"filed_at"`
}

// Detail is a filing with its rows.
type Detail struct {
	View
	Rows []RowView `json:"rows"`
}

// RowView is a filed instructor as the API shows it.
type RowView struct {
	InstructorID        int64  `json:"instructor_id"`
	Name                string `json:"name"`
	Gender              string `json:"gender"`
	GenderName          string `json:"gender_name"`
	Ethnicity           string `json:"ethnicity"`
	EthnicityName       string `json:"ethnicity_name"`
	Phone               string `json:"phone"`
	PoliticalStatus     string `json:"political_status,omitempty"`
	PoliticalStatusName string `json:"political_status_name,omitempty"`
	Position            string `json:"position,omitempty"`
	SourceCategory      string `json:"source_category"`
	SourceCategoryName  string `json:"source_category_name"`
	Status              string `json:"status"`
	StatusName          string `json:"status_name"`
	UnitID              int64  `json:"unit_id"`
	UnitName            string `json:"unit_name"`
	UnitKind            string `json:"unit_kind"`
	UnitKindName        string `json:"unit_kind_name"`
	RegionCode          string `json:"region_code"`
	RegionName          string `json:"region_name"`
	TermStart           string `json:"term_start,omitempty"`
	TermEnd             string `json:"term_end,omitempty"`
	PartFilingID        int64  `json:"part_filing_id,omitempty"`
}

// Diff is what changed in a filing since the previous accepted filing of the same region.
type Diff struct {
	FilingID     int64      `json:"filing_id"`
	BaseFilingID int64      `json:"base_filing_id,omitempty"`
	BaseFiledAt  *time.Time `json:"base_filed_at,omitempty"`
	Added        []RowView  `json:"added"`
	Removed      []RowView  `json:"removed"`
	Changed      []Change   `json:"changed"`
}

// Change is one instructor in both filings whose filed fields differ.
type Change struct {
	InstructorID int64         `json:"instructor_id"`
	Name         string        `json:"name"`
	Fields       []FieldChange `json:"fields"`
}

// FieldChange is one field before and after, as shown (labels, masked phone).
type FieldChange struct {
	Field  string `json:"field"`
	Label  string `json:"label"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Summary is a filing in the overview.
type Summary struct {
	ID              int64      `json:"id"`
	Status          string     `json:"status"`
	StatusName      string     `json:"status_name"`
	InstructorCount int        `json:"instructor_count"`
	FiledAt         time.Time  `json:"filed_at"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
}

// OverviewItem is what one filing region (a city or a county) last filed, and how stale that is:
// the days since its last accepted filing was filed, whether the roster changed since (a county's
// instructors in office differ from what was accepted; for a city, a county's accepted filing is
// newer than what the city's last accepted filing holds), and the state that sums it up.
type OverviewItem struct {
	RegionCode        string     `json:"region_code"`
	RegionName        string     `json:"region_name"`
	Level             string     `json:"level"`
	ParentCode        string     `json:"parent_code"`
	Latest            *Summary   `json:"latest,omitempty"`
	LatestAccepted    *Summary   `json:"latest_accepted,omitempty"`
	State             string     `json:"state"`
	StateName         string     `json:"state_name"`
	DaysSinceAccepted *int       `json:"days_since_accepted,omitempty"`
	RosterChanged     bool       `json:"roster_changed"`
	StaleSince        *time.Time `json:"stale_since,omitempty"`
	RemindedAt        *time.Time `json:"reminded_at,omitempty"`
}

// Overview is, for a region, every city and county of its subtree with what it filed when.
type Overview struct {
	RegionCode string         `json:"region_code"`
	RegionName string         `json:"region_name"`
	Items      []OverviewItem `json:"items"`
}
