package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v2Record is the core every field record shares. The unique key on (author, client id) is what
// makes a submission idempotent across retries and instances.
type v2Record struct {
	ID              int64     `gorm:"primaryKey"`
	Kind            string    `gorm:"size:16;not null;index:idx_records_kind_status,priority:1"`
	ClientID        string    `gorm:"size:36;not null;uniqueIndex:uk_records_client,priority:2"`
	BodyHash        string    `gorm:"size:64;not null"`
	AuthorID        int64     `gorm:"not null;uniqueIndex:uk_records_client,priority:1"`
	AuthorAccountID int64     `gorm:"not null;default:0"`
	UnitID          int64     `gorm:"not null;index:idx_records_unit"`
	RegionCode      string    `gorm:"size:12;not null;index:idx_records_region"`
	Title           string    `gorm:"size:64;not null"`
	SearchText      string    `gorm:"type:text"`
	OccurredAt      time.Time `gorm:"not null;index:idx_records_occurred"`
	ReceivedAt      time.Time `gorm:"not null"`
	Place           string    `gorm:"size:128;not null;default:''"`
	Latitude        *float64
	Longitude       *float64
	Status          string    `gorm:"size:16;not null;index:idx_records_kind_status,priority:2"`
	Locked          bool      `gorm:"not null;default:false"`
	ReturnNote      string    `gorm:"size:512;not null;default:''"`
	WithdrawReason  string    `gorm:"size:512;not null;default:''"`
	Version         int       `gorm:"not null;default:1"`
	UpdatedAt       time.Time `gorm:"not null"`
}

func (v2Record) TableName() string { return "records" }

type v2Step struct {
	ID             int64     `gorm:"primaryKey"`
	RecordID       int64     `gorm:"not null;index:idx_record_steps_record"`
	Action         string    `gorm:"size:32;not null"`
	FromStatus     string    `gorm:"size:16;not null;default:''"`
	ToStatus       string    `gorm:"size:16;not null;default:''"`
	Note           string    `gorm:"type:text"`
	Data           string    `gorm:"type:text"`
	ActorAccountID int64     `gorm:"not null;default:0"`
	ActorRole      string    `gorm:"size:32;not null;default:''"`
	ActorName      string    `gorm:"size:64;not null;default:''"`
	CreatedAt      time.Time `gorm:"not null"`
}

func (v2Step) TableName() string { return "record_steps" }

type v2Version struct {
	ID             int64     `gorm:"primaryKey"`
	RecordID       int64     `gorm:"not null;uniqueIndex:uk_record_versions,priority:1"`
	Version        int       `gorm:"not null;uniqueIndex:uk_record_versions,priority:2"`
	Action         string    `gorm:"size:32;not null"`
	Snapshot       string    `gorm:"type:text"`
	ActorAccountID int64     `gorm:"not null;default:0"`
	ActorRole      string    `gorm:"size:32;not null;default:''"`
	ActorName      string    `gorm:"size:64;not null;default:''"`
	CreatedAt      time.Time `gorm:"not null"`
}

func (v2Version) TableName() string { return "record_versions" }

// v2Event is the outbox: written in the transaction of the change it reports, consumed by the
// notification dispatcher.
type v2Event struct {
	ID          int64      `gorm:"primaryKey"`
	Kind        string     `gorm:"size:48;not null;index:idx_events_kind"`
	SubjectType string     `gorm:"size:32;not null"`
	SubjectID   int64      `gorm:"not null;index:idx_events_subject"`
	RegionCode  string     `gorm:"size:12;not null;default:''"`
	Payload     string     `gorm:"type:text"`
	CreatedAt   time.Time  `gorm:"not null"`
	ConsumedAt  *time.Time `gorm:"index:idx_events_pending"`
}

func (v2Event) TableName() string { return "events" }

type v2Visit struct {
	RecordID       int64  `gorm:"primaryKey;autoIncrement:false"`
	VisitKind      string `gorm:"size:32;not null;index:idx_record_visits_kind"`
	Households     int    `gorm:"not null;default:0"`
	People         int    `gorm:"not null;default:0"`
	Ethnicities    string `gorm:"size:200;not null;default:''"`
	Content        string `gorm:"type:text"`
	FollowUpNeeded bool   `gorm:"not null;default:false"`
}

func (v2Visit) TableName() string { return "record_visits" }

type v2Sentiment struct {
	RecordID       int64  `gorm:"primaryKey;autoIncrement:false"`
	Category       string `gorm:"size:32;not null;index:idx_record_sentiments_category"`
	Content        string `gorm:"type:text"`
	PeopleAffected int    `gorm:"not null;default:0"`
	Urgency        string `gorm:"size:16;not null;index:idx_record_sentiments_urgency"`
	Suggestion     string `gorm:"type:text"`
	ForwardedTo    string `gorm:"size:100;not null;default:''"`
	ForwardedAt    *time.Time
	Answer         string `gorm:"type:text"`
	AnsweredAt     *time.Time
	ClosedAt       *time.Time
}

func (v2Sentiment) TableName() string { return "record_sentiments" }

// v2Tip carries the acknowledge deadline as a column: the escalation timer survives restarts and
// any instance's sweep finds overdue tips through its index.
type v2Tip struct {
	RecordID         int64      `gorm:"primaryKey;autoIncrement:false"`
	Level            string     `gorm:"size:16;not null;index:idx_record_tips_level"`
	TipKind          string     `gorm:"size:16;not null"`
	PeopleInvolved   int        `gorm:"not null;default:0"`
	GroupsInvolved   string     `gorm:"size:200;not null;default:''"`
	Description      string     `gorm:"type:text"`
	Ongoing          bool       `gorm:"not null;default:false"`
	SubmittedAt      time.Time  `gorm:"not null"`
	AckDeadline      *time.Time `gorm:"index:idx_record_tips_deadline"`
	AcknowledgedAt   *time.Time
	EscalatedToLevel int `gorm:"not null;default:0;index:idx_record_tips_escalated"`
	EscalatedAt      *time.Time
	ResolvedAt       *time.Time
	DuplicateOf      *int64 `gorm:"index:idx_record_tips_duplicate"`
}

func (v2Tip) TableName() string { return "record_tips" }

type v2Mediation struct {
	RecordID    int64  `gorm:"primaryKey;autoIncrement:false"`
	DisputeKind string `gorm:"size:32;not null"`
	Parties     string `gorm:"type:text"`
	Process     string `gorm:"type:text"`
	Outcome     string `gorm:"size:32;not null;index:idx_record_mediations_outcome"`
	Agreement   string `gorm:"type:text"`
}

func (v2Mediation) TableName() string { return "record_mediations" }

type v2Followup struct {
	ID             int64     `gorm:"primaryKey"`
	RecordID       int64     `gorm:"not null;index:idx_mediation_followups_record"`
	VisitedAt      time.Time `gorm:"not null"`
	Content        string    `gorm:"type:text"`
	Outcome        string    `gorm:"size:32;not null;default:''"`
	ActorAccountID int64     `gorm:"not null;default:0"`
	ActorRole      string    `gorm:"size:32;not null;default:''"`
	ActorName      string    `gorm:"size:64;not null;default:''"`
	CreatedAt      time.Time `gorm:"not null"`
}

func (v2Followup) TableName() string { return "mediation_followups" }

func v2(tx *gorm.DB, _ database.Dialect) error {
	return database.CreateTables(tx, &v2Record{}, &v2Step{}, &v2Version{}, &v2Event{},
		&v2Visit{}, &v2Sentiment{}, &v2Tip{}, &v2Mediation{}, &v2Followup{})
}
