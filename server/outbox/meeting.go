package outbox

import "time"

// The kinds meetings write.
var (
	MeetingScheduledKind = declare[MeetingScheduled]("meeting.scheduled")
	MeetingChangedKind   = declare[MeetingChanged]("meeting.changed")
	MeetingCancelledKind = declare[MeetingCancelled]("meeting.cancelled")
	MeetingReminderKind  = declare[MeetingReminder]("meeting.reminder")
)

// Meeting is what every meeting event carries: what a notice says and who it goes to, so the
// dispatcher needs no meeting tables.
type Meeting struct {
	MeetingID     int64     `json:"meeting_id"`
	Title         string    `json:"title"`
	StartsAt      time.Time `json:"starts_at"`
	EndsAt        time.Time `json:"ends_at"`
	Place         string    `json:"place"`
	Agenda        string    `json:"agenda"`
	Audience      string    `json:"audience"` // "county": the whole county; otherwise a chosen list
	RegionCode    string    `json:"region_code"`
	InstructorIDs []int64   `json:"instructor_ids"` // never null
}

// MeetingScheduled announces a new meeting to its invitees.
type MeetingScheduled struct {
	Meeting
}

// MeetingChanged tells the invitees (as they now are) what changed.
type MeetingChanged struct {
	Meeting
	Changes              []string `json:"changes"`              // field names: title, starts_at, ends_at, place, location, agenda, instructor_ids
	AddedInstructorIDs   []int64  `json:"added_instructor_ids"` // never null
	RemovedInstructorIDs []int64  `json:"removed_instructor_ids"`
}

// MeetingCancelled tells the invitees that the meeting will not take place, and why.
type MeetingCancelled struct {
	Meeting
	Reason string `json:"reason"`
}

// MeetingReminder reminds the invitees who did not decline, some time before the start.
type MeetingReminder struct {
	Meeting
	OffsetMinutes int    `json:"offset_minutes"`
	StartsIn      string `json:"starts_in"` // "1小时", "1天"
}

func (MeetingScheduled) Kind() Kind { return MeetingScheduledKind }
func (MeetingChanged) Kind() Kind   { return MeetingChangedKind }
func (MeetingCancelled) Kind() Kind { return MeetingCancelledKind }
func (MeetingReminder) Kind() Kind  { return MeetingReminderKind }
func (MeetingScheduled) payload()   {}
func (MeetingChanged) payload()     {}
func (MeetingCancelled) payload()   {}
func (MeetingReminder) payload()    {}

// Notice is the part every meeting event shares (promoted to the four payload types).
func (m Meeting) Notice() Meeting { return m }
