// Package meeting is the county's regular meeting (例会): county staff schedule it
// for the county's instructors or a chosen list, change or cancel it, and every notice goes into
// the events outbox in the same transaction; invitees answer, are reminded before it starts, and
// check in with the organizer's rotating QR code or from the meeting place; staff read the
// attendance.
package meeting

import (
	"fmt"
	"time"

	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/roster"
)

// Stored statuses; the API shows scheduled meetings as upcoming, ongoing or ended by the clock.
const (
	StatusScheduled = "scheduled"
	StatusCancelled = "cancelled"
)

// Audiences.
const (
	AudienceCounty = "county" // every active instructor of the county when it was scheduled
	AudienceList   = "list"   // the instructors the organizer chose
)

// Answers to an invitation.
const (
	RSVPNone  = "none"
	RSVPYes   = "yes"
	RSVPNo    = "no"
	RSVPMaybe = "maybe"
)

// Check-in methods.
const (
	CheckinQR       = "qr"
	CheckinLocation = "location"
)

// Codes with their labels, for the API.
var (
	Audiences    = []roster.Code{{Code: AudienceCounty, Label: "全县指导员"}, {Code: AudienceList, Label: "指定指导员"}}
	Answers      = []roster.Code{{Code: RSVPYes, Label: "参加"}, {Code: RSVPNo, Label: "不参加"}, {Code: RSVPMaybe, Label: "待定"}}
	ViewStatuses = []roster.Code{
		{Code: "upcoming", Label: "未开始"}, {Code: "ongoing", Label: "进行中"},
		{Code: "ended", Label: "已结束"}, {Code: StatusCancelled, Label: "已取消"},
	}
	Methods = []roster.Code{{Code: CheckinQR, Label: "扫码签到"}, {Code: CheckinLocation, Label: "定位签到"}}
)

// Meeting is one scheduled meeting of a county.
type Meeting struct {
	ID           int64
	RegionCode   string
	Title        string
	Agenda       string
	Place        string
	Latitude     *float64
	Longitude    *float64
	StartsAt     time.Time
	EndsAt       time.Time
	Audience     string
	Status       string
	CancelReason string
	CancelledAt  *time.Time
	AnnouncedAt  time.Time
	InviteeCount int
	// SeriesID and SeriesSeq place an occurrence in its series (nil for a single meeting);
	// Detached marks an occurrence changed on its own, which changes of the series leave alone.
	SeriesID  *int64
	SeriesSeq *int
	Detached  bool
	Version   int
	CreatedBy int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (Meeting) TableName() string { return "meetings" }

// viewStatus is what the meeting is now: cancelled, or upcoming/ongoing/ended by the clock.
func (m Meeting) viewStatus(now time.Time) string {
	switch {
	case m.Status == StatusCancelled:
		return StatusCancelled
	case now.Before(m.StartsAt):
		return "upcoming"
	case now.Before(m.EndsAt):
		return "ongoing"
	}
	return "ended"
}

// Invitee is one instructor invited to a meeting.
type Invitee struct {
	ID              int64
	MeetingID       int64
	InstructorID    int64
	UnitID          int64
	RSVP            string     `gorm:"column:rsvp"`
	RSVPNote        string     `gorm:"column:rsvp_note"`
	RSVPAt          *time.Time `gorm:"column:rsvp_at"`
	CheckedInAt     *time.Time
	CheckinMethod   string
	CheckinDistance *int
	// Where the phone said it was at a location check-in, and how accurate it said that was.
	CheckinLatitude  *float64
	CheckinLongitude *float64
	CheckinAccuracy  *int
	CreatedAt        time.Time
}

func (Invitee) TableName() string { return "meeting_invitees" }

// Reminder marks a reminder written for one offset before one start time.
type Reminder struct {
	ID            int64
	MeetingID     int64
	OffsetMinutes int
	StartsAt      time.Time
	CreatedAt     time.Time
}

func (Reminder) TableName() string { return "meeting_reminders" }

// ---- views ----

// View is a meeting as the API shows it. Mine is the caller's own invitation (instructors only).
type View struct {
	ID       int64     `json:"id"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Place    string    `json:"place"`
	// Latitude and Longitude are the venue's, shown to staff only.
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
	// LocationCheckin tells an invitee the venue has coordinates, so checking in by location is
	// possible.
	LocationCheckin bool       `json:"location_checkin"`
	Agenda          string     `json:"agenda"`
	Audience        string     `json:"audience"`
	AudienceName    string     `json:"audience_name"`
	RegionCode      string     `json:"region_code"`
	RegionName      string     `json:"region_name"`
	Status          string     `json:"status"`
	StatusName      string     `json:"status_name"`
	CancelReason    string     `json:"cancel_reason"`
	CancelledAt     *time.Time `json:"cancelled_at,omitempty"`
	InviteeCount    int        `json:"invitee_count"`
	// CheckinOpen tells the phone whether check-in is possible now.
	CheckinOpen bool            `json:"checkin_open"`
	Mine        *InvitationView `json:"mine,omitempty"`
	// SeriesID is the series the meeting is an occurrence of.
	SeriesID *int64 `json:"series_id,omitempty"`
	// Minutes are the meeting's minutes, in the detail only, once written.
	Minutes   *MinutesView `json:"minutes,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// InvitationView is one invitee's answer and check-in.
type InvitationView struct {
	RSVP          string     `json:"rsvp"`
	RSVPName      string     `json:"rsvp_name"`
	RSVPNote      string     `json:"rsvp_note"`
	RSVPAt        *time.Time `json:"rsvp_at,omitempty"`
	CheckedInAt   *time.Time `json:"checked_in_at,omitempty"`
	CheckinMethod string     `json:"checkin_method"`
}

func (i Invitee) invitation() *InvitationView {
	return &InvitationView{
		RSVP: i.RSVP, RSVPName: rsvpName(i.RSVP), RSVPNote: i.RSVPNote, RSVPAt: clock.LocalPtr(i.RSVPAt),
		CheckedInAt: clock.LocalPtr(i.CheckedInAt), CheckinMethod: i.CheckinMethod,
	}
}

func rsvpName(code string) string {
	if code == RSVPNone || code == "" {
		return "未回复"
	}
	return roster.Label(Answers, code)
}

// AttendeeView is one line of the attendance list.
type AttendeeView struct {
	InstructorID int64  `json:"instructor_id"`
	Name         string `json:"name"`
	UnitID       int64  `json:"unit_id"`
	UnitName     string `json:"unit_name"`
	InvitationView
	// CheckinDistance is how far from the meeting place a location check-in was, in meters.
	CheckinDistance *int `json:"checkin_distance_m,omitempty"`
	// The reported position and its accuracy, and why staff may want to ask about it.
	CheckinLatitude  *float64 `json:"checkin_latitude,omitempty"`
	CheckinLongitude *float64 `json:"checkin_longitude,omitempty"`
	CheckinAccuracy  *int     `json:"checkin_accuracy_m,omitempty"`
	CheckinDoubt     string   `json:"checkin_doubt"`
}

// checkinDoubt says why a location check-in may not be genuine, "" when nothing stands out. A
// phone's fix scatters by meters even standing still, and reports its accuracy: a position on
// the venue's exact coordinates, or one without an accuracy (not what wx.getLocation returns),
// was most likely typed in or copied.
func (i Invitee) checkinDoubt() string {
	if i.CheckinMethod != CheckinLocation {
		return ""
	}
	switch {
	case i.CheckinDistance != nil && *i.CheckinDistance < 1:
		return "上报位置与会场坐标完全相同,可能是复制的坐标"
	case i.CheckinAccuracy == nil:
		return "未上报定位精度,可能不是手机定位"
	case *i.CheckinAccuracy > 1000:
		return fmt.Sprintf("定位精度较差(约%d米)", *i.CheckinAccuracy)
	}
	return ""
}

// RSVPCounts counts the answers.
type RSVPCounts struct {
	Yes   int `json:"yes"`
	No    int `json:"no"`
	Maybe int `json:"maybe"`
	None  int `json:"none"`
}

// AttendanceView is who was invited, what they answered and who came.
type AttendanceView struct {
	MeetingID int64      `json:"meeting_id"`
	Status    string     `json:"status"`
	Invited   int        `json:"invited"`
	RSVP      RSVPCounts `json:"rsvp"`
	CheckedIn int        `json:"checked_in"`
	// AttendanceRate is checked_in / invited, 0 to 1 (0 when nobody was invited).
	AttendanceRate float64        `json:"attendance_rate"`
	Items          []AttendeeView `json:"items"`
}

// CheckinTokenView is the token the organizer's screen shows as a QR code.
type CheckinTokenView struct {
	MeetingID int64  `json:"meeting_id"`
	Token     string `json:"token"`
	// QRPayload is the text to encode in the QR code; the mini-program's scanner reads it.
	QRPayload string    `json:"qr_payload"`
	ExpiresAt time.Time `json:"expires_at"`
	// RefreshAt is when the next token takes over: the screen should fetch one then.
	RefreshAt time.Time `json:"refresh_at"`
}
