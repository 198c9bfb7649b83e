// Package nomination is the selection procedure: candidates come by unit
// recommendation (entered by staff) or self-nomination (from the mini-program, by a WeChat user
// not yet on the roster); the county reviews each against the selection criteria (Criteria) and
// appoints or rejects it. Appointment puts the person on the roster with a term (package roster).
package nomination

import (
	"time"

	"github.com/shiliu/shiliu/server/roster"
)

// Sources of a nomination.
const (
	SourceUnit = "unit_recommendation"
	SourceSelf = "self_nomination"
)

// Statuses: pending → reviewed → appointed or rejected. A reviewed nomination may be reviewed
// again until it is decided.
const (
	StatusPending   = "pending"
	StatusReviewed  = "reviewed"
	StatusAppointed = "appointed"
	StatusRejected  = "rejected"
)

var Sources = []roster.Code{
	{Code: SourceUnit, Label: "单位推荐"},
	{Code: SourceSelf, Label: "个人自荐"},
}

var Statuses = []roster.Code{
	{Code: StatusPending, Label: "待审核"},
	{Code: StatusReviewed, Label: "已审核"},
	{Code: StatusAppointed, Label: "已选聘"},
	{Code: StatusRejected, Label: "未选聘"},
}

// Criteria are the selection criteria a candidate must meet, each checked in the review.
var Criteria = []roster.Code{
	{Code: "political_stance", Label: "政治立场坚定,坚决拥护党的路线方针政策,牢固树立“三个离不开”、“五个认同”思想,铸牢中华民族共同体意识"},
	{Code: "loves_ethnic_work", Label: "热爱民族工作,具有较强的事业心、责任感和奉献精神"},
	{Code: "knows_policies", Label: "具有一定的政策理论水平,熟悉民族政策、法律法规和民族常识"},
	{Code: "knows_area", Label: "熟悉所在辖区或单位情况,具有较强的组织协调能力,善于沟通交流,擅长做群众思想工作和宣传工作"},
	{Code: "law_abiding", Label: "遵纪守法,没有违法违纪行为"},
	{Code: "healthy", Label: "身体健康"},
}

// Dictionaries are the code lists of nominations, merged into GET /api/v1/dictionaries.
func Dictionaries() map[string][]roster.Code {
	return map[string][]roster.Code{
		"nomination_criterion": Criteria,
		"nomination_source":    Sources,
		"nomination_status":    Statuses,
	}
}

// Nomination is one candidate. The phone and ID number are sealed like the roster's; the openid
// of a self-nominee is kept and never shown.
type Nomination struct {
	ID              int64
	Source          string
	Status          string
	RegionCode      string
	UnitID          int64
	UnitName        string
	Name            string
	Gender          string
	Ethnicity       string
	PhoneEnc        string
	PhoneHash       string
	IDNumberEnc     string `gorm:"column:id_number_enc"`
	PoliticalStatus string
	Position        string
	SourceCategory  string
	Statement       string
	Recommender     string
	OpenID          string `gorm:"column:openid"`
	Criteria        string // JSON []Check
	ReviewNote      string
	ReviewedBy      int64
	ReviewedAt      *time.Time
	RejectReason    string
	DecidedBy       int64
	DecidedAt       *time.Time
	InstructorID    int64
	CreatedBy       int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (Nomination) TableName() string { return "nominations" }

// Check is the review of one criterion.
type Check struct {
	Code string `json:"code"`
	Met  bool   `json:"met"`
	Note string `json:"note"`
}

// CheckView is a reviewed criterion with its text.
type CheckView struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	Met   bool   `json:"met"`
	Note  string `json:"note"`
}

// View is a nomination as the API shows it: lists mask phone and ID number.
type View struct {
	ID                  int64       `json:"id"`
	Source              string      `json:"source"`
	SourceName          string      `json:"source_name"`
	Status              string      `json:"status"`
	StatusName          string      `json:"status_name"`
	Name                string      `json:"name"`
	Gender              string      `json:"gender"`
	GenderName          string      `json:"gender_name"`
	Ethnicity           string      `json:"ethnicity"`
	EthnicityName       string      `json:"ethnicity_name"`
	Phone               string      `json:"phone"`
	IDNumber            string      `json:"id_number,omitempty"`
	PoliticalStatus     string      `json:"political_status,omitempty"`
	PoliticalStatusName string      `json:"political_status_name,omitempty"`
	Position            string      `json:"position,omitempty"`
	SourceCategory      string      `json:"source_category"`
	SourceCategoryName  string      `json:"source_category_name"`
	UnitID              int64       `json:"unit_id,omitempty"`
	UnitName            string      `json:"unit_name"`
	RegionCode          string      `json:"region_code"`
	RegionName          string      `json:"region_name"`
	Statement           string      `json:"statement"`
	Recommender         string      `json:"recommender"`
	Criteria            []CheckView `json:"criteria"`
	AllCriteriaMet      bool        `json:"all_criteria_met"`
	ReviewNote          string      `json:"review_note"`
	ReviewedAt          *time.Time  `json:"reviewed_at,omitempty"`
	RejectReason        string      `json:"reject_reason,omitempty"`
	DecidedAt           *time.Time  `json:"decided_at,omitempty"`
	InstructorID        int64       `json:"instructor_id,omitempty"`
	CreatedAt           time.Time   `json:"created_at"`
	UpdatedAt           time.Time   `json:"updated_at"`
}
