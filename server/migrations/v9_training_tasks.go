package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v9TrainingPlan is an annual training plan of a province or city (measures §五(二)).
type v9TrainingPlan struct {
	ID         int64     `gorm:"primaryKey"`
	RegionCode string    `gorm:"size:12;not null;index:idx_training_plans_region,priority:1"`
	Year       int       `gorm:"not null;index:idx_training_plans_region,priority:2"`
	Title      string    `gorm:"size:100;not null"`
	Goals      string    `gorm:"type:text"`
	CreatedBy  int64     `gorm:"not null;default:0"`
	CreatedAt  time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null"`
}

func (v9TrainingPlan) TableName() string { return "training_plans" }

// v9TrainingSession is one training session, in a plan (plan_id) or outside any (0). Hours are
// kept in tenths so that sums are exact on every backend.
type v9TrainingSession struct {
	ID          int64     `gorm:"primaryKey"`
	PlanID      int64     `gorm:"not null;default:0;index:idx_training_sessions_plan"`
	RegionCode  string    `gorm:"size:12;not null;index:idx_training_sessions_region"`
	Title       string    `gorm:"size:100;not null"`
	Topic       string    `gorm:"size:200;not null;default:''"`
	Lecturer    string    `gorm:"size:100;not null;default:''"`
	Method      string    `gorm:"size:24;not null"`
	Mode        string    `gorm:"size:8;not null"`
	Place       string    `gorm:"size:100;not null;default:''"`
	URL         string    `gorm:"column:url;size:500;not null;default:''"`
	StartsAt    time.Time `gorm:"not null;index:idx_training_sessions_starts"`
	EndsAt      time.Time `gorm:"not null"`
	HoursTenths int       `gorm:"not null"`
	CreatedBy   int64     `gorm:"not null;default:0"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

func (v9TrainingSession) TableName() string { return "training_sessions" }

// v9TrainingEnrolment is one instructor on a session's list with their attendance. region_code
// is the instructor's region when enrolled (staff of that subtree see the enrolment);
// hours_tenths is NULL when the whole session counts. The instructor index serves the hours of
// an instructor per year.
type v9TrainingEnrolment struct {
	ID           int64  `gorm:"primaryKey"`
	SessionID    int64  `gorm:"not null;uniqueIndex:uk_training_enrolments,priority:1"`
	InstructorID int64  `gorm:"not null;uniqueIndex:uk_training_enrolments,priority:2;index:idx_training_enrolments_instructor,priority:1"`
	UnitID       int64  `gorm:"not null;default:0"`
	RegionCode   string `gorm:"size:12;not null;index:idx_training_enrolments_region"`
	Status       string `gorm:"size:16;not null;index:idx_training_enrolments_instructor,priority:2"`
	HoursTenths  *int
	EnrolledBy   int64 `gorm:"not null;default:0"`
	RecordedBy   int64 `gorm:"not null;default:0"`
	RecordedAt   *time.Time
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (v9TrainingEnrolment) TableName() string { return "training_enrolments" }

// v9Task is an assigned task (交办任务, measures §三(九)). region_code is the issuer's region;
// assignee_region the region it was assigned to as a whole, if it was.
type v9Task struct {
	ID             int64     `gorm:"primaryKey"`
	RegionCode     string    `gorm:"size:12;not null;index:idx_tasks_region"`
	Title          string    `gorm:"size:60;not null"`
	Description    string    `gorm:"type:text"`
	DueAt          time.Time `gorm:"not null;index:idx_tasks_due"`
	AssigneeRegion string    `gorm:"size:12;not null;default:''"`
	AssigneeCount  int       `gorm:"not null;default:0"`
	CreatedBy      int64     `gorm:"not null;default:0"`
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

func (v9Task) TableName() string { return "tasks" }

// v9TaskAssignee is one instructor a task is assigned to, with their state. region_code is the
// instructor's region when assigned: staff of that subtree follow the assignment.
type v9TaskAssignee struct {
	ID           int64  `gorm:"primaryKey"`
	TaskID       int64  `gorm:"not null;uniqueIndex:uk_task_assignees,priority:1"`
	InstructorID int64  `gorm:"not null;uniqueIndex:uk_task_assignees,priority:2;index:idx_task_assignees_instructor"`
	UnitID       int64  `gorm:"not null;default:0"`
	RegionCode   string `gorm:"size:12;not null;index:idx_task_assignees_region"`
	State        string `gorm:"size:16;not null"`
	ReportCount  int    `gorm:"not null;default:0"`
	LastReportAt *time.Time
	DoneAt       *time.Time
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
}

func (v9TaskAssignee) TableName() string { return "task_assignees" }

// v9TaskReport is a progress or completion report. The unique key on (assignee_id, client_id)
// stores a phone's retried report once; reports without a client id are not constrained.
type v9TaskReport struct {
	ID           int64     `gorm:"primaryKey"`
	TaskID       int64     `gorm:"not null;index:idx_task_reports_task"`
	AssigneeID   int64     `gorm:"not null;uniqueIndex:uk_task_reports_client,priority:1"`
	InstructorID int64     `gorm:"not null"`
	AccountID    int64     `gorm:"not null;default:0"`
	ClientID     *string   `gorm:"size:64;uniqueIndex:uk_task_reports_client,priority:2"`
	Text         string    `gorm:"type:text"`
	Done         bool      `gorm:"not null;default:false"`
	CreatedAt    time.Time `gorm:"not null"`
}

func (v9TaskReport) TableName() string { return "task_reports" }

func v9(tx *gorm.DB, _ database.Dialect) error {
	return database.CreateTables(tx, &v9TrainingPlan{}, &v9TrainingSession{}, &v9TrainingEnrolment{},
		&v9Task{}, &v9TaskAssignee{}, &v9TaskReport{})
}
