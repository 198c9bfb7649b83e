package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v10Fact is what one record counts for in the statistics, as last tallied: a change subtracts
// it and adds the new one in the record's own transaction.
type v10Fact struct {
	RecordID   int64     `gorm:"primaryKey;autoIncrement:false"`
	RegionCode string    `gorm:"size:12;not null"`
	Month      int       `gorm:"not null"`
	OccurredAt time.Time `gorm:"not null"`
	Counted    bool      `gorm:"not null;default:false"`
	Metrics    string    `gorm:"size:255;not null;default:''"`
}

func (v10Fact) TableName() string { return "stats_record_facts" }

// v10Count is the monthly aggregate of records: per grain (2 city, 3 county), region, month
// (YYYYMM, Beijing time) and metric. A county (or city) query reads its own rows through the
// primary key; a province query reads the months it asks for, all cities, through the second
// index instead of every month of every city.
type v10Count struct {
	Grain      int    `gorm:"primaryKey;autoIncrement:false;index:idx_stats_monthly_month,priority:1"`
	RegionCode string `gorm:"primaryKey;size:12;index:idx_stats_monthly_month,priority:3"`
	Month      int    `gorm:"primaryKey;autoIncrement:false;index:idx_stats_monthly_month,priority:2"`
	Metric     string `gorm:"primaryKey;size:64;index:idx_stats_monthly_month,priority:4"`
	N          int64  `gorm:"not null;default:0;index:idx_stats_monthly_month,priority:5"`
}

func (v10Count) TableName() string { return "stats_monthly" }

// v10Activity is each instructor's latest record that counts, for "no record in 90 days".
type v10Activity struct {
	InstructorID int64     `gorm:"primaryKey;autoIncrement:false"`
	LastRecordAt time.Time `gorm:"not null"`
}

func (v10Activity) TableName() string { return "stats_activity" }

// v10MeetingCount is the attendance of a meeting that has ended: nothing about a meeting changes
// after its end, so it is counted once instead of at every overview.
type v10MeetingCount struct {
	MeetingID  int64     `gorm:"primaryKey;autoIncrement:false"`
	RegionCode string    `gorm:"size:12;not null;index:idx_stats_meetings_region,priority:1"`
	StartsAt   time.Time `gorm:"not null;index:idx_stats_meetings_region,priority:2"`
	EndsAt     time.Time `gorm:"not null"`
	Invitees   int64     `gorm:"not null;default:0"`
	CheckedIn  int64     `gorm:"not null;default:0"`
}

func (v10MeetingCount) TableName() string { return "stats_meetings" }

// v10State holds work the statistics owe; "rebuild" makes the next server start count the
// records that exist already.
type v10State struct {
	Name  string `gorm:"primaryKey;size:32"`
	Value string `gorm:"size:64;not null;default:''"`
}

func (v10State) TableName() string { return "stats_state" }

// Covering indexes for the statistics that are counted directly: the roster by status,
// ethnicity and source category; units by kind and those without an instructor in office;
// meeting check-ins; training hours per session.
type v10Instructor struct {
	RegionCode     string `gorm:"size:12;index:idx_instructors_stats,priority:1"`
	Status         string `gorm:"size:16;index:idx_instructors_stats,priority:2"`
	Ethnicity      string `gorm:"size:2;index:idx_instructors_stats,priority:3"`
	SourceCategory string `gorm:"size:40;index:idx_instructors_stats,priority:4"`
}

func (v10Instructor) TableName() string { return "instructors" }

type v10Unit struct {
	RegionCode        string `gorm:"size:12;index:idx_units_stats,priority:1"`
	ActiveInstructors int    `gorm:"index:idx_units_stats,priority:2"`
	Kind              string `gorm:"size:32;index:idx_units_stats,priority:3"`
}

func (v10Unit) TableName() string { return "units" }

type v10MeetingInvitee struct {
	MeetingID   int64      `gorm:"index:idx_meeting_invitees_checkin,priority:1"`
	CheckedInAt *time.Time `gorm:"index:idx_meeting_invitees_checkin,priority:2"`
}

func (v10MeetingInvitee) TableName() string { return "meeting_invitees" }

// Training hours are read by session for the province and by region for anything smaller.
type v10TrainingEnrolment struct {
	SessionID   int64  `gorm:"index:idx_training_enrolments_stats,priority:1;index:idx_training_enrolments_region_stats,priority:3"`
	Status      string `gorm:"size:16;index:idx_training_enrolments_stats,priority:2;index:idx_training_enrolments_region_stats,priority:2"`
	RegionCode  string `gorm:"size:12;index:idx_training_enrolments_stats,priority:3;index:idx_training_enrolments_region_stats,priority:1"`
	HoursTenths *int   `gorm:"index:idx_training_enrolments_stats,priority:4;index:idx_training_enrolments_region_stats,priority:4"`
}

func (v10TrainingEnrolment) TableName() string { return "training_enrolments" }

func v10(tx *gorm.DB, _ database.Dialect) error {
	if err := database.CreateTables(tx, &v10Fact{}, &v10Count{}, &v10Activity{}, &v10MeetingCount{}, &v10State{}); err != nil {
		return err
	}
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	for _, ix := range []struct {
		model any
		name  string
	}{
		{&v10Instructor{}, "idx_instructors_stats"},
		{&v10Unit{}, "idx_units_stats"},
		{&v10MeetingInvitee{}, "idx_meeting_invitees_checkin"},
		{&v10TrainingEnrolment{}, "idx_training_enrolments_stats"},
		{&v10TrainingEnrolment{}, "idx_training_enrolments_region_stats"},
	} {
		if !m.HasIndex(ix.model, ix.name) {
			if err := m.CreateIndex(ix.model, ix.name); err != nil {
				return err
			}
		}
	}
	// Records submitted before this step are counted by the first server to start (stats.Prepare).
	var n int64
	if err := tx.Model(&v10State{}).Where("name = ?", "rebuild").Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return tx.Create(&v10State{Name: "rebuild", Value: "pending"}).Error
	}
	return nil
}
