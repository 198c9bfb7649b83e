// Package bulletin is the work bulletin (工作简报): any staff level issues one to
// its subtree or part of it, now or at a set time; publishing writes an outbox event in the same
// transaction, instructors whose unit lies in the scope read it in the mini-program, and opening
// it leaves a read receipt staff can follow.
package bulletin

import (
	"time"

	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/upload"
)

// Statuses.
const (
	StatusDraft     = "draft"
	StatusScheduled = "scheduled"
	StatusPublished = "published"
	StatusWithdrawn = "withdrawn"
)

// Statuses with their labels.
var Statuses = []roster.Code{{Code: StatusDraft, Label: "草稿"}, {Code: StatusScheduled, Label: "待发布"},
	{Code: StatusPublished, Label: "已发布"}, {Code: StatusWithdrawn, Label: "已撤回"}}

// Bulletin is one bulletin. RegionCode is the issuer's region: staff of its subtree manage it.
type Bulletin struct {
	ID          int64
	RegionCode  string
	Title       string
	Body        string
	Status      string
	PublishAt   time.Time
	PublishedAt *time.Time
	CreatedBy   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Version counts corrections from 1; the earlier texts are in bulletin_versions.
	Version        int
	CorrectedAt    *time.Time
	CorrectionNote string
	WithdrawnAt    *time.Time
	WithdrawnBy    int64
	WithdrawReason string
	// SourceShareID is the experience share a draft was made from.
	SourceShareID int64
}

func (Bulletin) TableName() string { return "bulletins" }

// Version is a bulletin's text before a correction replaced it.
type Version struct {
	ID         int64
	BulletinID int64
	Version    int
	Title      string
	Body       string
	Note       string
	CreatedBy  int64
	CreatedAt  time.Time
}

func (Version) TableName() string { return "bulletin_versions" }

// Scope is one region of a bulletin's audience.
type Scope struct {
	ID         int64
	BulletinID int64
	RegionCode string
}

func (Scope) TableName() string { return "bulletin_regions" }

// Read is a read receipt.
type Read struct {
	ID           int64
	BulletinID   int64
	InstructorID int64
	AccountID    int64
	ReadAt       time.Time
}

func (Read) TableName() string { return "bulletin_reads" }

// ---- views ----

// RegionView names a region of the scope.
type RegionView struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// View is a bulletin as the API shows it. Lists leave out the body and attachments; Read and
// ReadAt are the calling instructor's, ReadCount is for staff.
type View struct {
	ID          int64         `json:"id"`
	Title       string        `json:"title"`
	Summary     string        `json:"summary"`
	Body        *string       `json:"body,omitempty"`
	Attachments []upload.View `json:"attachments,omitempty"`
	Status      string        `json:"status"`
	StatusName  string        `json:"status_name"`
	PublishAt   time.Time     `json:"publish_at"`
	PublishedAt *time.Time    `json:"published_at,omitempty"`
	RegionCode  string        `json:"region_code"`
	RegionName  string        `json:"region_name"`
	Scope       []RegionView  `json:"scope"`
	Read        *bool         `json:"read,omitempty"`
	ReadAt      *time.Time    `json:"read_at,omitempty"`
	ReadCount   *int64        `json:"read_count,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	// Version is 1 until corrected; CorrectedAt and CorrectionNote are the latest correction's.
	Version        int        `json:"version"`
	CorrectedAt    *time.Time `json:"corrected_at,omitempty"`
	CorrectionNote string     `json:"correction_note,omitempty"`
	WithdrawnAt    *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawReason string     `json:"withdraw_reason,omitempty"`
	SourceShareID  int64      `json:"source_share_id,omitempty"`
	// Versions, for staff opening one bulletin: every version, the current one last.
	Versions []VersionView `json:"versions,omitempty"`
}

// VersionView is one version of a bulletin's text. At is when it took effect; Note is the
// correction that made it (empty for the first).
type VersionView struct {
	Version int       `json:"version"`
	Title   string    `json:"title"`
	Body    string    `json:"body"`
	Note    string    `json:"note"`
	At      time.Time `json:"at"`
	Current bool      `json:"current"`
}

// ReceiptView is one instructor who opened a bulletin.
type ReceiptView struct {
	InstructorID int64     `json:"instructor_id"`
	Name         string    `json:"name"`
	UnitID       int64     `json:"unit_id"`
	UnitName     string    `json:"unit_name"`
	RegionCode   string    `json:"region_code"`
	ReadAt       time.Time `json:"read_at"`
}

// ReceiptsView is a page of receipts with the totals.
type ReceiptsView struct {
	BulletinID int64 `json:"bulletin_id"`
	// Recipients are the active instructors whose unit lies in the scope now.
	Recipients int64 `json:"recipients"`
	Read       int64 `json:"read"`
	// ReadRate is read / recipients, 0 to 1.
	ReadRate   float64       `json:"read_rate"`
	Items      []ReceiptView `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// RecipientView is one instructor a bulletin is addressed to.
type RecipientView struct {
	InstructorID int64  `json:"instructor_id"`
	Name         string `json:"name"`
	UnitID       int64  `json:"unit_id"`
	UnitName     string `json:"unit_name"`
	RegionCode   string `json:"region_code"`
}

// UnreadView is a page of the recipients who have not opened a bulletin.
type UnreadView struct {
	BulletinID int64           `json:"bulletin_id"`
	Items      []RecipientView `json:"items"`
	NextCursor string          `json:"next_cursor"`
}
