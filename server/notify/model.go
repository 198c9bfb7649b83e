// Package notify is the notification outbox: events written by the domain services in the
// transaction of their change are fanned out into one notification per (event, channel, target),
// and a dispatcher delivers those through WeCom group robots and mini-program subscribe messages,
// paced, retried with backoff, and leased so that each target gets each notification once.
// docs/notifications.md explains the design and its guarantees.
package notify

import (
	"strconv"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// Channels.
const (
	ChannelRobot     = "robot"     // WeCom group robot
	ChannelSubscribe = "subscribe" // mini-program subscribe message
)

// Target kinds.
const (
	TargetGroup   = "group"
	TargetAccount = "account"
)

// Notification statuses.
const (
	StatusPending = "pending"
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Group statuses.
const (
	GroupActive   = "active"
	GroupDisabled = "disabled"
)

// Audience is who reads a notification group, and the region levels it may be registered at.
type Audience struct {
	Code, Label string
	Levels      []int
}

// Audiences of notification groups.
var Audiences = []Audience{
	{"instructors", "指导员群", []int{3, 4, 5}},
	{"county_staff", "县级工作人员群", []int{3}},
	{"city_staff", "市级工作人员群", []int{2}},
	{"province_staff", "省级工作人员群", []int{1}},
}

// Event is a row of the outbox (server/outbox owns it); the dispatcher marks it consumed once
// fanned out.
type Event = outbox.Event

// Notification is one message to one target on one channel, and its delivery state.
type Notification struct {
	ID            int64
	EventID       int64
	Channel       string
	Target        string
	TargetKind    string
	EventKind     string
	SubjectType   string
	SubjectID     int64
	RegionCode    string
	Title         string
	Content       string // the rendered Message as JSON
	Status        string
	NextAttemptAt time.Time
	Attempts      int
	LeaseOwner    string
	LeaseUntil    *time.Time
	LastError     string
	ErrorCode     int
	SentAt        *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (Notification) TableName() string { return "notifications" }

func (n *Notification) targetID() int64 {
	id, _ := strconv.ParseInt(n.Target, 10, 64)
	return id
}

// Group is a WeCom group robot registered for a region and an audience.
type Group struct {
	ID             int64
	Name           string
	RegionCode     string
	Audience       string
	WebhookKeyEnc  string
	WebhookKeyHash string
	WebhookHint    string
	Status         string
	DisabledReason string
	DisabledAt     *time.Time
	CreatedBy      int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (Group) TableName() string { return "notification_groups" }

// Subscription kinds and statuses.
const (
	SubOneTime  = "one_time"
	SubLongTerm = "long_term"

	SubActive   = "active"
	SubRejected = "rejected" // the user declined
	SubBanned   = "banned"   // the user turned the template off, or WeChat filtered it
	SubRevoked  = "revoked"  // WeChat answered 43101: no grant left
)

// Subscription is what a user accepted for one subscribe-message template.
type Subscription struct {
	ID         int64
	AccountID  int64
	TemplateID string
	Kind       string
	Remaining  int
	Status     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (Subscription) TableName() string { return "subscriptions" }

// usable reports whether a message may be sent on this subscription now.
func (s Subscription) usable() bool {
	if s.Kind == SubLongTerm {
		return s.Status == SubActive
	}
	return s.Remaining > 0 && s.Status != SubBanned && s.Status != SubRevoked
}

// account is the part of an account notify reads.
type account struct {
	ID           int64
	Role         string
	RegionCode   string
	InstructorID *int64
	OpenID       *string `gorm:"column:openid"`
	DisplayName  string
	Username     *string
	Status       string
	OnDuty       bool
}

func (account) TableName() string { return "accounts" }

func (a account) name() string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	if a.Username != nil {
		return *a.Username
	}
	return "账号" + strconv.FormatInt(a.ID, 10)
}

// ---- views ----

// GroupView is a group as the API shows it: the webhook key only by its last characters.
type GroupView struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	RegionCode     string     `json:"region_code"`
	RegionName     string     `json:"region_name"`
	Audience       string     `json:"audience"`
	WebhookKeyHint string     `json:"webhook_key_hint"`
	Status         string     `json:"status"`
	DisabledReason string     `json:"disabled_reason"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	CreatedBy      int64      `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

func (g Group) view(regionName string) GroupView {
	return GroupView{
		ID: g.ID, Name: g.Name, RegionCode: g.RegionCode, RegionName: regionName, Audience: g.Audience,
		WebhookKeyHint: "…" + g.WebhookHint, Status: g.Status, DisabledReason: g.DisabledReason,
		DisabledAt: clock.LocalPtr(g.DisabledAt), CreatedBy: g.CreatedBy,
		CreatedAt: clock.Local(g.CreatedAt), UpdatedAt: clock.Local(g.UpdatedAt),
	}
}

// SubscriptionView is one of the caller's subscriptions.
type SubscriptionView struct {
	TemplateID string    `json:"template_id"`
	Events     []string  `json:"events"`
	Kind       string    `json:"kind"`
	Remaining  int       `json:"remaining"`
	Status     string    `json:"status"`
	Usable     bool      `json:"usable"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// NotificationView is one entry of the delivery log.
type NotificationView struct {
	ID            int64      `json:"id"`
	EventID       int64      `json:"event_id"`
	EventKind     string     `json:"event_kind"`
	SubjectType   string     `json:"subject_type"`
	SubjectID     int64      `json:"subject_id"`
	Channel       string     `json:"channel"`
	TargetKind    string     `json:"target_kind"`
	TargetID      int64      `json:"target_id"`
	TargetName    string     `json:"target_name"`
	RegionCode    string     `json:"region_code"`
	Title         string     `json:"title"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	Reason        string     `json:"reason"`
	ErrorCode     int        `json:"error_code"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func (n Notification) view(targetName string) NotificationView {
	v := NotificationView{
		ID: n.ID, EventID: n.EventID, EventKind: n.EventKind, SubjectType: n.SubjectType, SubjectID: n.SubjectID, Channel: n.Channel,
		TargetKind: n.TargetKind, TargetID: n.targetID(), TargetName: targetName, RegionCode: n.RegionCode,
		Title: n.Title, Status: n.Status, Attempts: n.Attempts, SentAt: clock.LocalPtr(n.SentAt),
		Reason: n.LastError, ErrorCode: n.ErrorCode, CreatedAt: clock.Local(n.CreatedAt), UpdatedAt: clock.Local(n.UpdatedAt),
	}
	if n.Status == StatusPending || n.Status == StatusSending {
		v.NextAttemptAt = clock.LocalPtr(&n.NextAttemptAt)
	}
	return v
}
