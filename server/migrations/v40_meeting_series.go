package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v40MeetingSeries is a county's recurring meeting (定期例会, measures §五(一)): a rule (weekly on
// a weekday, monthly on a day, monthly on the nth weekday), a time of day in Asia/Shanghai, the
// details every occurrence copies, and an end (a last date or a number of occurrences). Its
// occurrences are ordinary meetings, created ahead by the meeting sweep.
type v40MeetingSeries struct {
	ID              int64  `gorm:"primaryKey"`
	RegionCode      string `gorm:"size:12;not null;index:idx_meeting_series_region"`
	Title           string `gorm:"size:60;not null"`
	Agenda          string `gorm:"type:text"`
	Place           string `gorm:"size:100;not null"`
	Latitude        *float64
	Longitude       *float64
	Audience        string `gorm:"size:8;not null"`
	InstructorIDs   string `gorm:"type:text"`
	Frequency       string `gorm:"size:16;not null"`
	Weekday         int    `gorm:"not null;default:0"`
	MonthDay        int    `gorm:"not null;default:0"`
	WeekOfMonth     int    `gorm:"not null;default:0"`
	StartMinute     int    `gorm:"not null"`
	DurationMinutes int    `gorm:"not null"`
	StartsOn        string `gorm:"size:10;not null"`
	UntilOn         string `gorm:"size:10;not null;default:''"`
	Count           int    `gorm:"not null;default:0"`
	Status          string `gorm:"size:16;not null;index:idx_meeting_series_status"`
	CancelReason    string `gorm:"size:200;not null;default:''"`
	CancelledAt     *time.Time
	Version         int       `gorm:"not null;default:1"`
	CreatedBy       int64     `gorm:"not null;default:0"`
	CreatedAt       time.Time `gorm:"not null"`
	UpdatedAt       time.Time `gorm:"not null"`
}

func (v40MeetingSeries) TableName() string { return "meeting_series" }

// v40Meeting ties an occurrence to its series: series_seq is its number in the rule (1 for the
// first date), unique per series so that instances creating occurrences at once create each one
// once. Single meetings leave both NULL. detached marks an occurrence changed on its own, which
// later changes of the series leave alone.
type v40Meeting struct {
	SeriesID  *int64 `gorm:"uniqueIndex:uk_meetings_series,priority:1"`
	SeriesSeq *int   `gorm:"uniqueIndex:uk_meetings_series,priority:2"`
	Detached  bool   `gorm:"not null;default:false"`
}

func (v40Meeting) TableName() string { return "meetings" }

// v40MeetingMinutes are the minutes (会议纪要) of one meeting, written after it by its county;
// attachments are uploads owned by "meeting_minutes" and the meeting's id.
type v40MeetingMinutes struct {
	MeetingID  int64     `gorm:"primaryKey;autoIncrement:false"`
	RegionCode string    `gorm:"size:12;not null"`
	Body       string    `gorm:"type:mediumtext"`
	Version    int       `gorm:"not null;default:1"`
	CreatedBy  int64     `gorm:"not null;default:0"`
	UpdatedBy  int64     `gorm:"not null;default:0"`
	CreatedAt  time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null"`
}

func (v40MeetingMinutes) TableName() string { return "meeting_minutes" }

func v40(tx *gorm.DB, _ database.Dialect) error {
	if err := database.CreateTables(tx, &v40MeetingSeries{}, &v40MeetingMinutes{}); err != nil {
		return err
	}
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	for _, c := range []string{"SeriesID", "SeriesSeq", "Detached"} {
		if !m.HasColumn(&v40Meeting{}, c) {
			if err := m.AddColumn(&v40Meeting{}, c); err != nil {
				return err
			}
		}
	}
	if !m.HasIndex(&v40Meeting{}, "uk_meetings_series") {
		return m.CreateIndex(&v40Meeting{}, "uk_meetings_series")
	}
	return nil
}
