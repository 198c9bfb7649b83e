package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v5NotificationGroup is a WeCom group robot registered for a region and an audience. The
// webhook key is a credential: encrypted, found by its keyed hash, shown by its last 4 characters.
type v5NotificationGroup struct {
	ID             int64  `gorm:"primaryKey"`
	Name           string `gorm:"size:100;not null"`
	RegionCode     string `gorm:"size:12;not null;index:idx_notification_groups_region_audience,priority:1"`
	Audience       string `gorm:"size:20;not null;index:idx_notification_groups_region_audience,priority:2"`
	WebhookKeyEnc  string `gorm:"size:400;not null"`
	WebhookKeyHash string `gorm:"size:64;not null;uniqueIndex:uk_notification_groups_webhook"`
	WebhookHint    string `gorm:"size:8;not null;default:''"`
	Status         string `gorm:"size:16;not null;default:'active'"`
	DisabledReason string `gorm:"size:255;not null;default:''"`
	DisabledAt     *time.Time
	CreatedBy      int64     `gorm:"not null;default:0"`
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

func (v5NotificationGroup) TableName() string { return "notification_groups" }

// v5Subscription is what a user accepted in wx.requestSubscribeMessage for one template.
type v5Subscription struct {
	ID         int64     `gorm:"primaryKey"`
	AccountID  int64     `gorm:"not null;uniqueIndex:uk_subscriptions_account_template,priority:1"`
	TemplateID string    `gorm:"size:64;not null;uniqueIndex:uk_subscriptions_account_template,priority:2"`
	Kind       string    `gorm:"size:16;not null"`
	Remaining  int       `gorm:"not null;default:0"`
	Status     string    `gorm:"size:16;not null"`
	CreatedAt  time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null"`
}

func (v5Subscription) TableName() string { return "subscriptions" }

// v5Notification is one message to one target: the unique key (event, channel, target) makes the
// fan-out idempotent, and the status/lease columns are the delivery queue.
type v5Notification struct {
	ID            int64     `gorm:"primaryKey"`
	EventID       int64     `gorm:"not null;uniqueIndex:uk_notifications_target,priority:1"`
	Channel       string    `gorm:"size:16;not null;uniqueIndex:uk_notifications_target,priority:2"`
	Target        string    `gorm:"size:32;not null;uniqueIndex:uk_notifications_target,priority:3"`
	TargetKind    string    `gorm:"size:16;not null"`
	EventKind     string    `gorm:"size:48;not null"`
	SubjectType   string    `gorm:"size:32;not null;default:''"`
	SubjectID     int64     `gorm:"not null;default:0"`
	RegionCode    string    `gorm:"size:12;not null;index:idx_notifications_region"`
	Title         string    `gorm:"size:200;not null;default:''"`
	Content       string    `gorm:"size:16777215;not null"` // mediumtext on MySQL: a bulletin may exceed 64 KB
	Status        string    `gorm:"size:16;not null;index:idx_notifications_due,priority:1"`
	NextAttemptAt time.Time `gorm:"not null;index:idx_notifications_due,priority:2"`
	Attempts      int       `gorm:"not null;default:0"`
	LeaseOwner    string    `gorm:"size:64;not null;default:''"`
	LeaseUntil    *time.Time
	LastError     string `gorm:"size:500;not null;default:''"`
	ErrorCode     int    `gorm:"not null;default:0"`
	SentAt        *time.Time
	CreatedAt     time.Time `gorm:"not null"`
	UpdatedAt     time.Time `gorm:"not null"`
}

func (v5Notification) TableName() string { return "notifications" }

// v5Account adds the duty flag of staff: alerts go to those on duty, or to everyone of the level
// when nobody is.
type v5Account struct {
	OnDuty bool `gorm:"not null;default:false"`
}

func (v5Account) TableName() string { return "accounts" }

func v5(tx *gorm.DB, _ database.Dialect) error {
	if err := database.CreateTables(tx, &v5NotificationGroup{}, &v5Subscription{}, &v5Notification{}); err != nil {
		return err
	}
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	if !tx.Migrator().HasColumn(&v5Account{}, "OnDuty") {
		return tx.Migrator().AddColumn(&v5Account{}, "OnDuty")
	}
	return nil
}
