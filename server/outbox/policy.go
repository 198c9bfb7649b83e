package outbox

import "time"

// The kinds of suggestions, training notices and the central adjustment.
var (
	SuggestionSubmittedKind = declare[SuggestionSubmitted]("suggestion.submitted")
	SuggestionAnsweredKind  = declare[SuggestionAnswered]("suggestion.answered")
	TrainingEnrolledKind    = declare[TrainingEnrolled]("training.enrolled")
	TrainingReminderKind    = declare[TrainingReminder]("training.reminder")
	AdjustmentLaunchedKind  = declare[AdjustmentLaunched]("adjustment.launched")
	AdjustmentOverdueKind   = declare[AdjustmentOverdue]("adjustment.overdue")
)

// SuggestionSubmitted tells the instructor's county that a suggestion came in.
type SuggestionSubmitted struct {
	SuggestionID   int64  `json:"suggestion_id"`
	InstructorID   int64  `json:"instructor_id"`
	InstructorName string `json:"instructor_name"`
	UnitName       string `json:"unit_name"`
	Summary        string `json:"summary"` // plain text, cut short
	CountyCode     string `json:"county_code"`
}

// SuggestionAnswered tells the instructor how the county answered.
type SuggestionAnswered struct {
	SuggestionID int64  `json:"suggestion_id"`
	InstructorID int64  `json:"instructor_id"`
	Summary      string `json:"summary"` // of the suggestion
	Answer       string `json:"answer"`  // cut short
	CountyCode   string `json:"county_code"`
}

// Training is what every training notice carries, so the dispatcher needs no training tables.
type Training struct {
	SessionID     int64     `json:"session_id"`
	Title         string    `json:"title"`
	StartsAt      time.Time `json:"starts_at"`
	EndsAt        time.Time `json:"ends_at"`
	Mode          string    `json:"mode"` // offline, online
	Place         string    `json:"place"`
	RegionCode    string    `json:"region_code"`    // the organiser's
	InstructorIDs []int64   `json:"instructor_ids"` // never null
}

// TrainingEnrolled tells instructors newly put on a session's list.
type TrainingEnrolled struct {
	Training
}

// TrainingReminder reminds the enrolled instructors some time before the session starts.
type TrainingReminder struct {
	Training
	OffsetMinutes int    `json:"offset_minutes"`
	StartsIn      string `json:"starts_in"` // "1天", "2小时"
}

// Notice is the part both training payloads share.
func (t Training) Notice() Training { return t }

// AdjustmentCounty is one county of a round with the instructors whose term it decides.
type AdjustmentCounty struct {
	CountyCode  string `json:"county_code"`
	Instructors int64  `json:"instructors"`
}

// AdjustmentLaunched tells the counties of a round's scope that it started and how many of their
// instructors' terms it covers.
type AdjustmentLaunched struct {
	RoundID     int64              `json:"round_id"`
	Title       string             `json:"title"`
	WindowStart string             `json:"window_start"` // 2006-01-02
	WindowEnd   string             `json:"window_end"`
	RegionCode  string             `json:"region_code"` // the launching province or city
	Counties    []AdjustmentCounty `json:"counties"`
}

// AdjustmentOverdue reminds a county of terms in a round that ran out without a decision: they
// are not extended, they wait for the county.
type AdjustmentOverdue struct {
	RoundID    int64  `json:"round_id"`
	Title      string `json:"title"`
	CountyCode string `json:"county_code"`
	Overdue    int64  `json:"overdue"`  // terms already ended, undecided
	Pending    int64  `json:"pending"`  // all undecided, those included
	Earliest   string `json:"earliest"` // the earliest ended term, 2006-01-02
}

func (SuggestionSubmitted) Kind() Kind { return SuggestionSubmittedKind }
func (SuggestionAnswered) Kind() Kind  { return SuggestionAnsweredKind }
func (TrainingEnrolled) Kind() Kind    { return TrainingEnrolledKind }
func (TrainingReminder) Kind() Kind    { return TrainingReminderKind }
func (AdjustmentLaunched) Kind() Kind  { return AdjustmentLaunchedKind }
func (AdjustmentOverdue) Kind() Kind   { return AdjustmentOverdueKind }
func (SuggestionSubmitted) payload()   {}
func (SuggestionAnswered) payload()    {}
func (TrainingEnrolled) payload()      {}
func (TrainingReminder) payload()      {}
func (AdjustmentLaunched) payload()    {}
func (AdjustmentOverdue) payload()     {}
