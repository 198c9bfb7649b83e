package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v6Meeting is a county's regular meeting (例会). announced_at is when its current time was made
// known: reminders that would have been due before it are not sent (the notice itself did that).
type v6Meeting struct {
	ID           int64  `gorm:"primaryKey"`
	RegionCode   string `gorm:"size:12;not null;index:idx_meetings_region"`
	Title        string `gorm:"size:60;not null"`
	Agenda       string `gorm:"type:text"`
	Place        string `gorm:"size:100;not null"`
	Latitude     *float64
	Longitude    *float64
	StartsAt     time.Time `gorm:"not null;index:idx_meetings_status_starts,priority:2"`
	EndsAt       time.Time `gorm:"not null"`
	Audience     string    `gorm:"size:8;not null"`
	Status       string    `gorm:"size:16;not null;index:idx_meetings_status_starts,priority:1"`
	CancelReason string    `gorm:"size:200;not null;default:''"`
	CancelledAt  *time.Time
	AnnouncedAt  time.Time `gorm:"not null"`
	InviteeCount int       `gorm:"not null;default:0"`
	Version      int       `gorm:"not null;default:1"`
	CreatedBy    int64     `gorm:"not null;default:0"`
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (v6Meeting) TableName() string { return "meetings" }

// v6MeetingInvitee is one instructor invited to a meeting, with their answer and check-in.
type v6MeetingInvitee struct {
	ID              int64      `gorm:"primaryKey"`
	MeetingID       int64      `gorm:"not null;uniqueIndex:uk_meeting_invitees,priority:1"`
	InstructorID    int64      `gorm:"not null;uniqueIndex:uk_meeting_invitees,priority:2;index:idx_meeting_invitees_instructor"`
	UnitID          int64      `gorm:"not null;default:0"`
	RSVP            string     `gorm:"column:rsvp;size:8;not null;default:'none'"`
	RSVPNote        string     `gorm:"column:rsvp_note;size:200;not null;default:''"`
	RSVPAt          *time.Time `gorm:"column:rsvp_at"`
	CheckedInAt     *time.Time
	CheckinMethod   string `gorm:"size:16;not null;default:''"`
	CheckinDistance *int
	CreatedAt       time.Time `gorm:"not null"`
}

func (v6MeetingInvitee) TableName() string { return "meeting_invitees" }

// v6MeetingReminder marks a reminder written: the unique key makes each (meeting, offset, start
// time) remind once, however many instances sweep at once. A meeting moved to a new time is
// reminded again for it.
type v6MeetingReminder struct {
	ID            int64     `gorm:"primaryKey"`
	MeetingID     int64     `gorm:"not null;uniqueIndex:uk_meeting_reminders,priority:1"`
	OffsetMinutes int       `gorm:"not null;uniqueIndex:uk_meeting_reminders,priority:2"`
	StartsAt      time.Time `gorm:"not null;uniqueIndex:uk_meeting_reminders,priority:3"`
	CreatedAt     time.Time `gorm:"not null"`
}

func (v6MeetingReminder) TableName() string { return "meeting_reminders" }

// v6Bulletin is a work bulletin (工作简报). region_code is the issuer's region (who may manage
// it); its audience is in bulletin_regions. The body is Markdown of up to 20,000 characters,
// more than a MySQL TEXT holds in 4-byte UTF-8.
type v6Bulletin struct {
	ID          int64     `gorm:"primaryKey"`
	RegionCode  string    `gorm:"size:12;not null;index:idx_bulletins_region"`
	Title       string    `gorm:"size:60;not null"`
	Body        string    `gorm:"type:mediumtext"`
	Status      string    `gorm:"size:16;not null;index:idx_bulletins_due,priority:1"`
	PublishAt   time.Time `gorm:"not null;index:idx_bulletins_due,priority:2"`
	PublishedAt *time.Time
	CreatedBy   int64     `gorm:"not null;default:0"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (v6Bulletin) TableName() string { return "bulletins" }

// v6BulletinRegion is one region of a bulletin's scope: instructors whose unit lies in its
// subtree receive it. The index on region_code finds a phone's bulletins by its ancestors.
type v6BulletinRegion struct {
	ID         int64  `gorm:"primaryKey"`
	BulletinID int64  `gorm:"not null;uniqueIndex:uk_bulletin_regions,priority:1"`
	RegionCode string `gorm:"size:12;not null;uniqueIndex:uk_bulletin_regions,priority:2;index:idx_bulletin_regions_region"`
}

func (v6BulletinRegion) TableName() string { return "bulletin_regions" }

// v6BulletinRead is a read receipt: the unique key makes opening a bulletin twice one receipt.
type v6BulletinRead struct {
	ID           int64     `gorm:"primaryKey"`
	BulletinID   int64     `gorm:"not null;uniqueIndex:uk_bulletin_reads,priority:1"`
	InstructorID int64     `gorm:"not null;uniqueIndex:uk_bulletin_reads,priority:2;index:idx_bulletin_reads_instructor"`
	AccountID    int64     `gorm:"not null;default:0"`
	ReadAt       time.Time `gorm:"not null"`
}

func (v6BulletinRead) TableName() string { return "bulletin_reads" }

func v6(tx *gorm.DB, _ database.Dialect) error {
	return database.CreateTables(tx, &v6Meeting{}, &v6MeetingInvitee{}, &v6MeetingReminder{},
		&v6Bulletin{}, &v6BulletinRegion{}, &v6BulletinRead{})
}
