// Package training is instructor training (培训): province and city staff put
// training into their annual plans and hold sessions (expert lectures, seminars, mutual
// inspection, field trips); instructors of the issuer's subtree are enrolled, their attendance
// and hours recorded, and each instructor's hours add up per year.
//
// Who sees what: a plan or session belongs to the issuer's region. Staff see those of their
// subtree and those issued above them (a county sees its city's and the province's sessions,
// which are meant for its instructors), but only enrolments of instructors in their own subtree.
// Only province and city staff of the issuer's region manage a plan or session; any staff
// level except admin enrols and records attendance for instructors of its subtree. An instructor
// sees the sessions they are enrolled in.
package training

import (
	"slices"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/roster"
)

// Session modes.
const (
	ModeOffline = "offline"
	ModeOnline  = "online"
)

// Methods of training the management measures allow: 专家授课、交流研讨、互观互检、外出考察.
const (
	MethodLecture          = "lecture"
	MethodSeminar          = "seminar"
	MethodMutualInspection = "mutual_inspection"
	MethodFieldTrip        = "field_trip"
)

// Topics the management measures name: 民族理论政策、法律法规、创建实务.
const (
	TopicEthnicTheory = "ethnic_theory_policy"
	TopicLaw          = "laws_regulations"
	TopicPractice     = "creation_practice"
)

// Enrolment statuses: attendance not yet recorded, attended, absent.
const (
	StatusEnrolled = "enrolled"
	StatusAttended = "attended"
	StatusAbsent   = "absent"
)

// Codes with their labels, for the API.
var (
	Modes   = []roster.Code{{Code: ModeOffline, Label: "线下"}, {Code: ModeOnline, Label: "线上"}}
	Methods = []roster.Code{
		{Code: MethodLecture, Label: "专家授课"}, {Code: MethodSeminar, Label: "交流研讨"},
		{Code: MethodMutualInspection, Label: "互观互检"}, {Code: MethodFieldTrip, Label: "外出考察"},
	}
	Topics = []roster.Code{
		{Code: TopicEthnicTheory, Label: "民族理论政策"}, {Code: TopicLaw, Label: "法律法规"}, {Code: TopicPractice, Label: "创建实务"},
	}
	Statuses = []roster.Code{
		{Code: StatusEnrolled, Label: "已报名"}, {Code: StatusAttended, Label: "已参加"}, {Code: StatusAbsent, Label: "缺席"},
	}
)

// Plan is an annual training plan of a province or city (年度培训计划).
type Plan struct {
	ID         int64
	RegionCode string
	Year       int
	Title      string
	Goals      string
	CreatedBy  int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (Plan) TableName() string { return "training_plans" }

// Session is one training session. Hours are kept in tenths, so sums are exact on every backend.
type Session struct {
	ID         int64
	PlanID     int64 // 0: outside any plan
	RegionCode string
	Title      string
	Topic      string
	// Topics are codes of Topics joined by commas, in the list's order.
	Topics      string
	Lecturer    string
	Method      string
	Mode        string
	Place       string
	URL         string `gorm:"column:url"`
	StartsAt    time.Time
	EndsAt      time.Time
	HoursTenths int
	CreatedBy   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (Session) TableName() string { return "training_sessions" }

// Enrolment is one instructor on a session's list, with their attendance. RegionCode is the
// instructor's region when enrolled: staff see the enrolments of their subtree. HoursTenths is
// nil when the instructor attended the whole session: the session's hours count, even if they
// are corrected later.
type Enrolment struct {
	ID           int64
	SessionID    int64
	InstructorID int64
	UnitID       int64
	RegionCode   string
	Status       string
	HoursTenths  *int
	EnrolledBy   int64
	RecordedBy   int64
	RecordedAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (Enrolment) TableName() string { return "training_enrolments" }

// ---- views ----

// PlanView is a plan as the API shows it, with how many sessions it holds and their hours.
type PlanView struct {
	ID           int64     `json:"id"`
	Year         int       `json:"year"`
	Title        string    `json:"title"`
	Goals        string    `json:"goals"`
	RegionCode   string    `json:"region_code"`
	RegionName   string    `json:"region_name"`
	SessionCount int64     `json:"session_count"`
	Hours        float64   `json:"hours"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// SessionView is a session as the API shows it. Enrolled and Attended count every enrolment;
// Mine is the calling instructor's own.
type SessionView struct {
	ID         int64          `json:"id"`
	PlanID     *int64         `json:"plan_id,omitempty"`
	Year       int            `json:"year"`
	Title      string         `json:"title"`
	Topic      string         `json:"topic"`
	Topics     []string       `json:"topics"`
	TopicNames []string       `json:"topic_names"`
	Lecturer   string         `json:"lecturer"`
	Method     string         `json:"method"`
	MethodName string         `json:"method_name"`
	Mode       string         `json:"mode"`
	ModeName   string         `json:"mode_name"`
	Place      string         `json:"place"`
	URL        string         `json:"url"`
	StartsAt   time.Time      `json:"starts_at"`
	EndsAt     time.Time      `json:"ends_at"`
	Hours      float64        `json:"hours"`
	RegionCode string         `json:"region_code"`
	RegionName string         `json:"region_name"`
	Enrolled   int64          `json:"enrolled"`
	Attended   int64          `json:"attended"`
	Mine       *EnrolmentView `json:"mine,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// EnrolmentView is one instructor on a session's list. Hours are those credited: the session's
// (or the recorded part of it) when attended, 0 otherwise.
type EnrolmentView struct {
	InstructorID int64      `json:"instructor_id"`
	Name         string     `json:"name"`
	UnitID       int64      `json:"unit_id"`
	UnitName     string     `json:"unit_name"`
	RegionCode   string     `json:"region_code"`
	Status       string     `json:"status"`
	StatusName   string     `json:"status_name"`
	Hours        float64    `json:"hours"`
	RecordedAt   *time.Time `json:"recorded_at,omitempty"`
	EnrolledAt   time.Time  `json:"enrolled_at"`
}

// EnrolmentList is a page of a session's enrolments as the caller may see them.
type EnrolmentList struct {
	SessionID  int64           `json:"session_id"`
	Items      []EnrolmentView `json:"items"`
	NextCursor string          `json:"next_cursor"`
}

// HoursView is one instructor's training in one year.
type HoursView struct {
	InstructorID int64   `json:"instructor_id"`
	Name         string  `json:"name"`
	UnitID       int64   `json:"unit_id"`
	UnitName     string  `json:"unit_name"`
	RegionCode   string  `json:"region_code"`
	Status       string  `json:"status"`
	Year         int     `json:"year"`
	Sessions     int64   `json:"sessions"`
	Hours        float64 `json:"hours"`
}

// HoursList is a page of instructors with their hours, and the totals over the whole filter.
type HoursList struct {
	Year int `json:"year"`
	// Instructors counts every instructor the filter covers; Trained those with any hours.
	Instructors int64       `json:"instructors"`
	Trained     int64       `json:"trained"`
	TotalHours  float64     `json:"total_hours"`
	Items       []HoursView `json:"items"`
	NextCursor  string      `json:"next_cursor"`
}

// MyTraining is an instructor's own training in one year: GET /api/v1/me/training.
type MyTraining struct {
	Year     int           `json:"year"`
	Sessions int64         `json:"sessions"`
	Hours    float64       `json:"hours"`
	Items    []SessionView `json:"items"`
}

func hours(tenths int) float64 { return float64(tenths) / 10 }

// Dictionaries are the code lists of training, merged into GET /api/v1/dictionaries.
func Dictionaries() map[string][]roster.Code {
	return map[string][]roster.Code{"training_topic": Topics, "training_method": Methods, "training_mode": Modes}
}

// splitTopics reads a session's stored topics; never nil.
func splitTopics(s string) []string {
	out := []string{}
	for t := range strings.SplitSeq(s, ",") {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// joinTopics stores topics in the list's order, each once.
func joinTopics(codes []string) string {
	var out []string
	for _, c := range Topics {
		if slices.Contains(codes, c.Code) {
			out = append(out, c.Code)
		}
	}
	return strings.Join(out, ",")
}

func topicNames(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = roster.Label(Topics, c)
	}
	return out
}
