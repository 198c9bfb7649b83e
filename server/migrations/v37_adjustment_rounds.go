package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v37AdjustmentRound is a central three-year adjustment (集中调整, measures §五(三)) launched by a
// province or city for the instructors of its subtree whose term ends in the window.
type v37AdjustmentRound struct {
	ID          int64     `gorm:"primaryKey"`
	RegionCode  string    `gorm:"size:12;not null;index:idx_adjustment_rounds_region"`
	Title       string    `gorm:"size:100;not null"`
	WindowStart time.Time `gorm:"type:date;not null"`
	WindowEnd   time.Time `gorm:"type:date;not null"`
	Status      string    `gorm:"size:16;not null"`
	CreatedBy   int64     `gorm:"not null;default:0"`
	ClosedAt    *time.Time
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (v37AdjustmentRound) TableName() string { return "adjustment_rounds" }

// v37AdjustmentMember is one instructor of a round with the county's decision (renew, replace or
// end, with its reason), empty until decided. term_end is the end of the term being decided.
type v37AdjustmentMember struct {
	ID             int64     `gorm:"primaryKey"`
	RoundID        int64     `gorm:"not null;uniqueIndex:uk_adjustment_members,priority:1;index:idx_adjustment_members_county,priority:1"`
	InstructorID   int64     `gorm:"not null;uniqueIndex:uk_adjustment_members,priority:2;index:idx_adjustment_members_instructor"`
	UnitID         int64     `gorm:"not null;default:0"`
	RegionCode     string    `gorm:"size:12;not null"`
	CountyCode     string    `gorm:"size:12;not null;index:idx_adjustment_members_county,priority:2"`
	TermEnd        time.Time `gorm:"type:date;not null"`
	Decision       string    `gorm:"size:16;not null;default:''"`
	ReasonCategory string    `gorm:"size:32;not null;default:''"`
	Note           string    `gorm:"type:text"`
	ReplacementID  int64     `gorm:"not null;default:0"`
	DecidedBy      int64     `gorm:"not null;default:0"`
	DecidedAt      *time.Time
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

func (v37AdjustmentMember) TableName() string { return "adjustment_members" }

// v37AdjustmentReminder marks a reminder sent to a county about the terms of a round that ran
// out without a decision, one per county, round and day it was sent.
type v37AdjustmentReminder struct {
	RoundID    int64     `gorm:"primaryKey;autoIncrement:false"`
	CountyCode string    `gorm:"primaryKey;size:12"`
	SentOn     time.Time `gorm:"primaryKey;type:date"`
	Overdue    int64     `gorm:"not null;default:0"`
	CreatedAt  time.Time `gorm:"not null"`
}

func (v37AdjustmentReminder) TableName() string { return "adjustment_reminders" }

func v37(tx *gorm.DB, _ database.Dialect) error {
	return database.CreateTables(tx, &v37AdjustmentRound{}, &v37AdjustmentMember{}, &v37AdjustmentReminder{})
}
