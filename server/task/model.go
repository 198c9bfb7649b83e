// Package task is the assigned task (交办任务: 完成民族工作部门交办的其他任务, one of an instructor's duties):
// staff of any level assign work with a due date to instructors of their subtree, chosen one by
// one or all those in office in a region; the assignment writes a task.assigned event into the
// outbox in the same transaction. Each assignee reports progress with text and attachments,
// and completion; staff follow the progress and see what is overdue.
//
// Who sees what: staff see the tasks issued in their subtree (with every assignee), and tasks
// issued above them that were assigned to instructors of their subtree (with those assignees
// only). An instructor sees the tasks assigned to them and their own reports.
package task

import (
	"time"

	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/upload"
)

// Assignee states.
const (
	StateAssigned   = "assigned"    // no report yet
	StateInProgress = "in_progress" // reported progress
	StateDone       = "done"        // reported completion
)

// States with their labels.
var States = []roster.Code{
	{Code: StateAssigned, Label: "未开始"}, {Code: StateInProgress, Label: "进行中"}, {Code: StateDone, Label: "已完成"},
}

// Task is one assigned task. RegionCode is the issuer's region; AssigneeRegion the region whose
// instructors it was assigned to, when it was assigned to a whole region.
type Task struct {
	ID             int64
	RegionCode     string
	Title          string
	Description    string
	DueAt          time.Time
	AssigneeRegion string
	AssigneeCount  int
	CreatedBy      int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (Task) TableName() string { return "tasks" }

// Assignee is one instructor a task is assigned to, with where they are. RegionCode is the
// instructor's region when assigned: staff of that subtree follow the assignment.
type Assignee struct {
	ID           int64
	TaskID       int64
	InstructorID int64
	UnitID       int64
	RegionCode   string
	State        string
	ReportCount  int
	LastReportAt *time.Time
	DoneAt       *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (Assignee) TableName() string { return "task_assignees" }

// Report is one progress or completion report of an assignee. ClientID, when the phone sends
// one, makes a retried report land once.
type Report struct {
	ID           int64
	TaskID       int64
	AssigneeID   int64
	InstructorID int64
	AccountID    int64
	ClientID     *string
	Text         string
	Done         bool
	CreatedAt    time.Time
}

func (Report) TableName() string { return "task_reports" }

// ---- views ----

// Progress counts assignees by state. Overdue counts those not done after the due time.
type Progress struct {
	Assignees  int64 `json:"assignees"`
	Assigned   int64 `json:"assigned"`
	InProgress int64 `json:"in_progress"`
	Done       int64 `json:"done"`
	Overdue    int64 `json:"overdue"`
}

// View is a task as the API shows it. Staff get Progress over the assignees they follow (and
// Assignees in the detail); an instructor gets Mine. Lists leave out the attachments.
type View struct {
	ID                 int64          `json:"id"`
	Title              string         `json:"title"`
	Description        string         `json:"description"`
	DueAt              time.Time      `json:"due_at"`
	Overdue            bool           `json:"overdue"`
	RegionCode         string         `json:"region_code"`
	RegionName         string         `json:"region_name"`
	AssigneeRegion     string         `json:"assignee_region,omitempty"`
	AssigneeRegionName string         `json:"assignee_region_name,omitempty"`
	AssigneeCount      int            `json:"assignee_count"`
	Attachments        []upload.View  `json:"attachments,omitempty"`
	Progress           *Progress      `json:"progress,omitempty"`
	Assignees          []AssigneeView `json:"assignees,omitempty"`
	Mine               *AssigneeView  `json:"mine,omitempty"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
}

// AssigneeView is one assignee's progress.
type AssigneeView struct {
	InstructorID int64      `json:"instructor_id"`
	Name         string     `json:"name,omitempty"`
	UnitID       int64      `json:"unit_id"`
	UnitName     string     `json:"unit_name,omitempty"`
	RegionCode   string     `json:"region_code"`
	State        string     `json:"state"`
	StateName    string     `json:"state_name"`
	Overdue      bool       `json:"overdue"`
	ReportCount  int        `json:"report_count"`
	LastReportAt *time.Time `json:"last_report_at,omitempty"`
	DoneAt       *time.Time `json:"done_at,omitempty"`
}

// ReportView is a report as the API shows it.
type ReportView struct {
	ID             int64         `json:"id"`
	TaskID         int64         `json:"task_id"`
	InstructorID   int64         `json:"instructor_id"`
	InstructorName string        `json:"instructor_name"`
	ClientID       string        `json:"client_id,omitempty"`
	Text           string        `json:"text"`
	Done           bool          `json:"done"`
	Attachments    []upload.View `json:"attachments"`
	CreatedAt      time.Time     `json:"created_at"`
}
