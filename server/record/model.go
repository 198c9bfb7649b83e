package record

import (
	"encoding/json"
	"time"

	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/upload"
)

// Record is the core row every kind shares.
type Record struct {
	ID              int64
	Kind            string
	ClientID        string
	BodyHash        string
	AuthorID        int64 // the instructor
	AuthorAccountID int64
	UnitID          int64
	RegionCode      string
	Title           string
	SearchText      string
	OccurredAt      time.Time
	ReceivedAt      time.Time
	Place           string
	Latitude        *float64
	Longitude       *float64
	Status          string
	// Role is the role of the five (§三) the record served; Tags the brand and duties it served,
	// comma-separated codes (role.go).
	Role string
	Tags string
	// Locked is set once staff act on the record: the author may then only edit it after staff
	// return it.
	Locked         bool
	ReturnNote     string
	WithdrawReason string
	Version        int
	UpdatedAt      time.Time
}

func (Record) TableName() string { return "records" }

// editable reports whether the author may still change the record.
func (r *Record) editable(k *Kind) bool {
	return r.Status == StatusReturned || (r.Status == k.Initial && !r.Locked)
}

// Step is one entry of a record's timeline: who did what, when, with which note.
type Step struct {
	ID             int64
	RecordID       int64
	Action         string
	FromStatus     string
	ToStatus       string
	Note           string
	Data           string // JSON object of action-specific facts
	ActorAccountID int64
	ActorRole      string
	ActorName      string
	CreatedAt      time.Time
}

func (Step) TableName() string { return "record_steps" }

// Version is a full snapshot of a record after one change.
type Version struct {
	ID             int64
	RecordID       int64
	Version        int
	Action         string
	Snapshot       string
	ActorAccountID int64
	ActorRole      string
	ActorName      string
	CreatedAt      time.Time
}

func (Version) TableName() string { return "record_versions" }

// Actor is who did something, as the timeline shows it.
type Actor struct {
	AccountID int64  `json:"account_id"`
	Role      string `json:"role"`
	Name      string `json:"name"`
}

// StepView is a timeline entry as the API shows it.
type StepView struct {
	ID         int64          `json:"id"`
	Action     string         `json:"action"`
	ActionName string         `json:"action_name"`
	FromStatus string         `json:"from_status"`
	ToStatus   string         `json:"to_status"`
	Note       string         `json:"note"`
	Data       map[string]any `json:"data"`
	Actor      Actor          `json:"actor"`
	CreatedAt  time.Time      `json:"created_at"`
}

func (s Step) view(k *Kind) StepView {
	data := map[string]any{}
	if s.Data != "" {
		_ = json.Unmarshal([]byte(s.Data), &data)
	}
	return StepView{
		ID: s.ID, Action: s.Action, ActionName: actionLabel(k, s.Action), FromStatus: s.FromStatus, ToStatus: s.ToStatus,
		Note: s.Note, Data: data, Actor: Actor{AccountID: s.ActorAccountID, Role: s.ActorRole, Name: s.ActorName},
		CreatedAt: clock.Local(s.CreatedAt),
	}
}

func actionLabel(k *Kind, name string) string {
	switch name {
	case "submit":
		return "提交"
	case "edit":
		return "修改"
	case "follow":
		return "随原线索变更"
	}
	if a, ok := k.action(name); ok {
		return a.Label
	}
	return name
}

// VersionView is one kept version.
type VersionView struct {
	Version   int             `json:"version"`
	Action    string          `json:"action"`
	Actor     Actor           `json:"actor"`
	CreatedAt time.Time       `json:"created_at"`
	Snapshot  json.RawMessage `json:"snapshot"`
}

// View is a record as the API shows it. The kind's own fields appear under the kind's code
// ("tip": {...}); the timeline only in the single-record view.
type View struct {
	ID             int64         `json:"id"`
	Kind           string        `json:"kind"`
	KindName       string        `json:"kind_name"`
	ClientID       string        `json:"client_id"`
	Title          string        `json:"title"`
	Status         string        `json:"status"`
	StatusName     string        `json:"status_name"`
	OccurredAt     clock.Stamp   `json:"occurred_at"`
	ReceivedAt     clock.Stamp   `json:"received_at"`
	UpdatedAt      clock.Stamp   `json:"updated_at"`
	Place          string        `json:"place"`
	Latitude       *float64      `json:"latitude,omitempty"`
	Longitude      *float64      `json:"longitude,omitempty"`
	AuthorID       int64         `json:"author_id"`
	AuthorName     string        `json:"author_name"`
	UnitID         int64         `json:"unit_id"`
	UnitName       string        `json:"unit_name"`
	RegionCode     string        `json:"region_code"`
	RegionName     string        `json:"region_name"`
	Role           string        `json:"role"`
	RoleName       string        `json:"role_name"`
	Tags           []string      `json:"tags"`
	TagNames       []string      `json:"tag_names"`
	Version        int           `json:"version"`
	Editable       bool          `json:"editable"`
	ReturnNote     string        `json:"return_note,omitempty"`
	WithdrawReason string        `json:"withdraw_reason,omitempty"`
	Attachments    []upload.View `json:"attachments"`
	// PendingAttachments are attachments declared by client id (attachment_client_ids) whose
	// upload has not arrived: on the way (照片上传中), or missing (未送达) after the orphan window.
	PendingAttachments []upload.PendingView `json:"pending_attachments"`
	Timeline           []StepView           `json:"timeline,omitempty"`
	// The kind's own fields, under the kind's code; only the record's kind is set (setFields).
	// Plain fields rather than a MarshalJSON that splices the key in: encoding/json re-reads and
	// compacts whatever a MarshalJSON returns, which cost 15 % of a list page's CPU.
	Visit     any `json:"visit,omitempty"`
	Sentiment any `json:"sentiment,omitempty"`
	Tip       any `json:"tip,omitempty"`
	Mediation any `json:"mediation,omitempty"`
}

// setFields puts the kind's own fields under the kind's code (the codes are spelled out: the kind
// variables refer to this package's views through their export columns).
func (v *View) setFields(f any) {
	switch v.Kind {
	case "visit":
		v.Visit = f
	case "sentiment":
		v.Sentiment = f
	case "tip":
		v.Tip = f
	case "mediation":
		v.Mediation = f
	}
}

// Fields are the kind's own fields (nil when the record's detail is missing).
func (v *View) Fields() any {
	switch v.Kind {
	case "visit":
		return v.Visit
	case "sentiment":
		return v.Sentiment
	case "tip":
		return v.Tip
	case "mediation":
		return v.Mediation
	}
	return nil
}

// Counts are an instructor's records by kind in one period.
type Counts struct {
	From   time.Time        `json:"from"`
	Counts map[string]int64 `json:"counts"`
	Total  int64            `json:"total"`
}

// Summary is GET /api/v1/me/summary.
type Summary struct {
	Month Counts `json:"month"`
	Year  Counts `json:"year"`
}
