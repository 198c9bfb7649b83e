package outbox

import "time"

// The kinds of tasks, bulletins and notification groups.
var (
	TaskAssignedKind      = declare[TaskAssigned]("task.assigned")
	BulletinPublishedKind = declare[BulletinPublished]("bulletin.published")
	GroupDisabledKind     = declare[GroupDisabled]("group.disabled")
)

// TaskAssigned tells the assignees of a task what to do and by when.
type TaskAssigned struct {
	TaskID         int64     `json:"task_id"`
	Title          string    `json:"title"`
	Summary        string    `json:"summary"` // plain text, cut short
	DueAt          time.Time `json:"due_at"`
	RegionCode     string    `json:"region_code"` // the issuer's region
	AssigneeRegion string    `json:"assignee_region"`
	InstructorIDs  []int64   `json:"instructor_ids"`
}

// BulletinPublished announces a bulletin to the instructor groups of its scope.
type BulletinPublished struct {
	BulletinID  int64     `json:"bulletin_id"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"` // plain text, cut short
	Scope       []string  `json:"scope"`   // region codes
	RegionCode  string    `json:"region_code"`
	PublishedAt time.Time `json:"published_at"`
}

// GroupDisabled tells the admins and the group's creator that a robot group was turned off.
type GroupDisabled struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	Reason    string `json:"reason"`
	CreatedBy int64  `json:"created_by"` // an account id
	Audience  string `json:"audience"`
}

func (TaskAssigned) Kind() Kind      { return TaskAssignedKind }
func (BulletinPublished) Kind() Kind { return BulletinPublishedKind }
func (GroupDisabled) Kind() Kind     { return GroupDisabledKind }
func (TaskAssigned) payload()        {}
func (BulletinPublished) payload()   {}
func (GroupDisabled) payload()       {}
