// Package roster is the basic instructor roster: units in regions and the instructors appointed to
// them, with invite codes that let an instructor bind their WeChat account.
package roster

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/clock"
)

// MaxActivePerUnit is the most instructors a unit has in office: each unit has 1 to 2.
const MaxActivePerUnit = 2

// Unit is a place instructors are appointed to.
type Unit struct {
	ID                int64
	Name              string
	Kind              string
	RegionCode        string
	Address           string
	ActiveInstructors int
	// Heavy: ethnic work is heavy here (民族工作任务较重, measures §二(二)), so instructors are
	// selected here first; HeavyReason says why, HeavyAt and HeavyBy when and by whom.
	Heavy       bool
	HeavyReason string
	HeavyAt     *time.Time
	HeavyBy     int64
	CreatedBy   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (Unit) TableName() string { return "units" }

// Instructor is one person on the roster. Phone and ID number are stored encrypted with a keyed
// hash beside each.
type Instructor struct {
	ID              int64
	UnitID          int64
	RegionCode      string
	Name            string
	Gender          string
	Ethnicity       string
	PhoneEnc        string
	PhoneHash       string
	IDNumberEnc     string  `gorm:"column:id_number_enc"`
	IDNumberHash    *string `gorm:"column:id_number_hash"`
	PoliticalStatus string
	Position        string
	SourceCategory  string
	Status          string
	// TermStart and TermEnd are the term of office (term.go): calendar days at midnight UTC.
	TermStart *time.Time
	TermEnd   *time.Time
	CreatedBy int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (Instructor) TableName() string { return "instructors" }

// Invite is a one-time code an instructor binds their WeChat account with.
type Invite struct {
	ID           int64
	InstructorID int64
	CodeHash     string
	ExpiresAt    time.Time
	UsedAt       *time.Time
	RevokedAt    *time.Time
	CreatedBy    int64
	CreatedAt    time.Time
}

func (Invite) TableName() string { return "invites" }

// UnitView is a unit as the API shows it.
type UnitView struct {
	ID                int64      `json:"id"`
	Name              string     `json:"name"`
	Kind              string     `json:"kind"`
	KindName          string     `json:"kind_name"`
	KeyTask           string     `json:"key_task"`
	RegionCode        string     `json:"region_code"`
	RegionName        string     `json:"region_name"`
	Address           string     `json:"address"`
	ActiveInstructors int        `json:"active_instructors"`
	Heavy             bool       `json:"heavy"`
	HeavyReason       string     `json:"heavy_reason,omitempty"`
	HeavyAt           *time.Time `json:"heavy_at,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

func (u Unit) view(regionName string) UnitView {
	k, _ := lookup(UnitKinds, u.Kind)
	return UnitView{
		ID: u.ID, Name: u.Name, Kind: u.Kind, KindName: k.Label, KeyTask: k.KeyTask,
		RegionCode: u.RegionCode, RegionName: regionName, Address: u.Address,
		ActiveInstructors: u.ActiveInstructors,
		Heavy:             u.Heavy, HeavyReason: u.HeavyReason, HeavyAt: clock.LocalPtr(u.HeavyAt),
		CreatedAt: clock.Local(u.CreatedAt), UpdatedAt: clock.Local(u.UpdatedAt),
	}
}

// InstructorView is an instructor as the API shows it. Lists carry masked phone and ID numbers;
// the detail view of a staff member in scope carries them whole.
type InstructorView struct {
	ID                  int64     `json:"id"`
	Name                string    `json:"name"`
	Gender              string    `json:"gender"`
	GenderName          string    `json:"gender_name"`
	Ethnicity           string    `json:"ethnicity"`
	EthnicityName       string    `json:"ethnicity_name"`
	Phone               string    `json:"phone"`
	IDNumber            string    `json:"id_number,omitempty"`
	PoliticalStatus     string    `json:"political_status,omitempty"`
	PoliticalStatusName string    `json:"political_status_name,omitempty"`
	Position            string    `json:"position,omitempty"`
	SourceCategory      string    `json:"source_category"`
	SourceCategoryName  string    `json:"source_category_name"`
	Status              string    `json:"status"`
	StatusName          string    `json:"status_name"`
	UnitID              int64     `json:"unit_id"`
	UnitName            string    `json:"unit_name"`
	RegionCode          string    `json:"region_code"`
	Bound               bool      `json:"bound"`
	TermStart           string    `json:"term_start,omitempty"`
	TermEnd             string    `json:"term_end,omitempty"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}
