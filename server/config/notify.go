package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// NotifyConfig tunes the notification outbox and its dispatcher.
type NotifyConfig struct {
	// DispatchInServe runs the dispatcher inside `shiliu serve`; turn it off when it runs as
	// `shiliu dispatch` elsewhere.
	DispatchInServe bool `yaml:"dispatch_in_serve"`
	// PollInterval is how often an idle dispatcher looks for new events and due notifications.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Lease is how long a dispatcher owns a notification it is sending; another instance takes it
	// over only after the lease ends. It must be well above wechat.timeout.
	Lease time.Duration `yaml:"lease"`
	// BatchSize is how many events or notifications one poll takes.
	BatchSize int `yaml:"batch_size"`
	// Concurrency is how many sends one dispatcher runs at once.
	Concurrency int `yaml:"concurrency"`
	// MaxAttempts is the number of sends before a transient failure becomes final.
	MaxAttempts int `yaml:"max_attempts"`
	// RetryBase and RetryMax bound the exponential backoff between attempts.
	RetryBase time.Duration `yaml:"retry_base"`
	RetryMax  time.Duration `yaml:"retry_max"`
	// RobotPerMinute paces each WeCom group robot across all instances (WeCom allows 20).
	RobotPerMinute int `yaml:"robot_per_minute"`
	// RobotBurst is how many of those a robot may send at once; past it, sends are spaced so that
	// the minute's other slots last the minute, and tip alerts waiting meanwhile go out joined.
	// At or above RobotPerMinute there is no spacing.
	RobotBurst int `yaml:"robot_burst"`
	// PublicBaseURL prefixes the "full text" link of a message cut to a channel's size limit,
	// e.g. https://shiliu.example.gov.cn; empty leaves the link out.
	PublicBaseURL string `yaml:"public_base_url"`
	// Templates maps a notification template name (an event kind with "_" for ".", e.g.
	// tip_submitted; record_returned for the four <kind>.returned events) to a mini-program
	// subscribe-message template.
	Templates map[string]TemplateConfig `yaml:"templates"`
}

// TemplateConfig is one subscribe-message template chosen in the mini-program console.
type TemplateConfig struct {
	// ID is the template id; empty means the event is not sent as a subscribe message.
	ID string `yaml:"id"`
	// LongTerm marks a long-term subscription template (government services may use them):
	// one acceptance lasts; otherwise each acceptance allows one message.
	LongTerm bool `yaml:"long_term"`
	// Page is the mini-program page the message opens (a page of the mini-program's app.json
	// with its query); {subject_id} and {subject_type} (tip, visit…) are replaced.
	Page string `yaml:"page"`
	// Data maps the template's keywords (thing1, time2, phrase3…) to message fields (title,
	// level, region, time…); docs/notifications.md lists the fields of each event.
	Data map[string]string `yaml:"data"`
}

func defaultNotify() NotifyConfig {
	return NotifyConfig{
		DispatchInServe: true,
		PollInterval:    500 * time.Millisecond,
		Lease:           time.Minute,
		BatchSize:       50,
		Concurrency:     4,
		MaxAttempts:     8,
		RetryBase:       5 * time.Second,
		RetryMax:        10 * time.Minute,
		RobotPerMinute:  20,
		RobotBurst:      10,
		// Pages are those of miniprogram-api/miniprogram/app.json, with the query each page reads
		// in onLoad (TestTemplatePagesExist checks the paths).
		Templates: map[string]TemplateConfig{
			// To county (escalated: city, province) staff. The staff tip inbox, where a tip is
			// acknowledged, shows the tip of ?id= first (fetching it if it is not listed).
			"tip_submitted": {Page: "pages/staff-tips/index?id={subject_id}",
				Data: map[string]string{"thing1": "title", "phrase2": "level", "thing3": "region", "time4": "time"}},
			"tip_escalated": {Page: "pages/staff-tips/index?id={subject_id}",
				Data: map[string]string{"thing1": "title", "phrase2": "level", "thing3": "region", "time4": "time"}},
			// To the instructor who submitted the record: its detail page (kind and id).
			"tip_acknowledged": {Page: "pages/record-detail/index?kind=tip&id={subject_id}",
				Data: map[string]string{"thing1": "title", "thing2": "actor", "time3": "time", "phrase4": "status"}},
			"sentiment_answered": {Page: "pages/record-detail/index?kind=sentiment&id={subject_id}",
				Data: map[string]string{"thing1": "title", "thing2": "answer", "time3": "time"}},
			// visit/sentiment/tip/mediation.returned share it: the detail page shows the return
			// note and the resubmit button.
			"record_returned": {Page: "pages/record-detail/index?kind={subject_type}&id={subject_id}",
				Data: map[string]string{"thing1": "title", "phrase2": "status", "thing3": "note", "time4": "time"}},
			"group_disabled": {Page: "",
				Data: map[string]string{"thing1": "group", "thing2": "reason", "time3": "time"}},
			// Meeting notices go to each invitee; bulletins only to groups.
			"meeting_scheduled": meetingTemplate(),
			"meeting_changed":   meetingTemplate(),
			"meeting_cancelled": meetingTemplate(),
			"meeting_reminder":  meetingTemplate(),
			"task_assigned": {Page: "pages/task-detail/index?id={subject_id}",
				Data: map[string]string{"thing1": "title", "time2": "time", "thing3": "region", "phrase4": "status"}},
			// A suggestion to the county's staff (they answer it in the console); the answer to the
			// instructor, whose suggestions page shows it first.
			"suggestion_submitted": {Page: "",
				Data: map[string]string{"thing1": "title", "thing2": "name", "time3": "time", "phrase4": "status"}},
			"suggestion_answered": {Page: "pages/suggestions/index?id={subject_id}",
				Data: map[string]string{"thing1": "title", "thing2": "answer", "time3": "time"}},
			// Training notices go to each enrolled instructor: their training page, that session first.
			"training_enrolled": trainingTemplate(),
			"training_reminder": trainingTemplate(),
			// A bulletin corrected or withdrawn, to each instructor who had read it: the bulletins
			// page, that bulletin first.
			"bulletin_corrected": bulletinChangeTemplate(),
			"bulletin_withdrawn": bulletinChangeTemplate(),
			// The central adjustment, to county staff (decided in the console).
			"adjustment_launched": {Page: "",
				Data: map[string]string{"thing1": "title", "thing2": "region", "time3": "time", "phrase4": "status"}},
			"adjustment_overdue": {Page: "",
				Data: map[string]string{"thing1": "title", "thing2": "region", "time3": "time", "thing4": "status"}},
			// The filing chain, to staff (filings are handled in the console): arrival to the
			// receiving level, acceptance and return to the filer, the reminder to the county.
			"filing_submitted": filingTemplate(),
			"filing_accepted":  filingTemplate(),
			"filing_returned":  filingTemplate(),
			"filing_stale": {Page: "",
				Data: map[string]string{"thing1": "title", "thing2": "region", "time3": "time", "thing4": "status"}},
		},
	}
}

// DevTemplatePrefix starts the template ids dev mode fills in: the fake WeChat takes any id, so a
// trial delivers subscribe messages with nothing configured. A real mini-program has its own ids
// (SHILIU_NOTIFY_TEMPLATE_<NAME>); prod leaves a template without one unsent.
const DevTemplatePrefix = "dev-"

func (n *NotifyConfig) devTemplateIDs() {
	for name, t := range n.Templates {
		if t.ID == "" && len(t.Data) > 0 {
			t.ID = DevTemplatePrefix + name
			n.Templates[name] = t
		}
	}
}

// meetingTemplate opens the meetings list (RSVP and check-in are done there) with the meeting of
// ?id= first (fetched if it is not listed).
func meetingTemplate() TemplateConfig {
	return TemplateConfig{Page: "pages/meetings/index?id={subject_id}",
		Data: map[string]string{"thing1": "title", "time2": "time", "thing3": "place", "phrase4": "status"}}
}

// filingTemplate is a filing notice to staff: no page, the console handles filings.
func filingTemplate() TemplateConfig {
	return TemplateConfig{Page: "",
		Data: map[string]string{"thing1": "title", "thing2": "region", "time3": "time", "phrase4": "status"}}
}

// trainingTemplate opens the instructor's training page with the session of ?id= first.
func trainingTemplate() TemplateConfig {
	return TemplateConfig{Page: "pages/training/index?id={subject_id}",
		Data: map[string]string{"thing1": "title", "time2": "time", "thing3": "place", "phrase4": "status"}}
}

var (
	keywordPattern  = regexp.MustCompile(`^[a-z_]+[0-9]+$`)
	templateNamePat = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

func (n *NotifyConfig) applyEnv(get lookup) error {
	var errs []error
	if v, ok := get("SHILIU_NOTIFY_DISPATCH_IN_SERVE"); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SHILIU_NOTIFY_DISPATCH_IN_SERVE: %w", err))
		}
		n.DispatchInServe = b
	}
	if v, ok := get("SHILIU_NOTIFY_POLL_INTERVAL"); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SHILIU_NOTIFY_POLL_INTERVAL: %w", err))
		}
		n.PollInterval = d
	}
	if v, ok := get("SHILIU_NOTIFY_PUBLIC_BASE_URL"); ok {
		n.PublicBaseURL = v
	}
	// Template ids differ per mini-program: SHILIU_NOTIFY_TEMPLATE_TIP_SUBMITTED and so on.
	for name, t := range n.Templates {
		if v, ok := get("SHILIU_NOTIFY_TEMPLATE_" + strings.ToUpper(name)); ok {
			t.ID = v
			n.Templates[name] = t
		}
	}
	return errors.Join(errs...)
}

func (n *NotifyConfig) validate(wechatTimeout time.Duration) []error {
	var errs []error
	if n.PollInterval < 10*time.Millisecond || n.PollInterval > time.Minute {
		errs = append(errs, errors.New("notify.poll_interval must be between 10ms and 1m"))
	}
	if n.Lease < 10*time.Second || n.Lease < 2*wechatTimeout+5*time.Second {
		errs = append(errs, errors.New("notify.lease must be at least 10s and at least twice wechat.timeout plus 5s"))
	}
	if n.BatchSize < 1 || n.BatchSize > 500 {
		errs = append(errs, errors.New("notify.batch_size must be between 1 and 500"))
	}
	if n.Concurrency < 1 || n.Concurrency > 64 {
		errs = append(errs, errors.New("notify.concurrency must be between 1 and 64"))
	}
	if n.MaxAttempts < 1 || n.MaxAttempts > 100 {
		errs = append(errs, errors.New("notify.max_attempts must be between 1 and 100"))
	}
	if n.RetryBase <= 0 || n.RetryMax < n.RetryBase {
		errs = append(errs, errors.New("notify.retry_base must be positive and notify.retry_max at least retry_base"))
	}
	if n.RobotPerMinute < 1 || n.RobotPerMinute > 20 {
		errs = append(errs, errors.New("notify.robot_per_minute must be between 1 and 20 (the WeCom limit)"))
	}
	if n.RobotBurst < 1 {
		errs = append(errs, errors.New("notify.robot_burst must be at least 1 (more than notify.robot_per_minute counts as all of them)"))
	}
	if n.PublicBaseURL != "" {
		u, err := url.Parse(n.PublicBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, errors.New("notify.public_base_url must be an http(s) URL without query, e.g. https://shiliu.example.gov.cn"))
		}
	}
	names := make([]string, 0, len(n.Templates))
	for name := range n.Templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := n.Templates[name]
		if !templateNamePat.MatchString(name) {
			errs = append(errs, fmt.Errorf("notify.templates: %q is not a template name (lowercase, e.g. tip_submitted)", name))
		}
		if len(t.ID) > 64 {
			errs = append(errs, fmt.Errorf("notify.templates.%s.id is too long", name))
		}
		if t.ID != "" && len(t.Data) == 0 {
			errs = append(errs, fmt.Errorf("notify.templates.%s.data must map the template's keywords to message fields", name))
		}
		for kw, field := range t.Data {
			if !keywordPattern.MatchString(kw) || field == "" {
				errs = append(errs, fmt.Errorf("notify.templates.%s.data: %q: %q must map a keyword such as thing1 to a field such as title", name, kw, field))
			}
		}
	}
	return errs
}

// bulletinChangeTemplate opens the bulletins page with the corrected or withdrawn one of ?id= first.
func bulletinChangeTemplate() TemplateConfig {
	return TemplateConfig{Page: "pages/bulletins/index?id={subject_id}",
		Data: map[string]string{"thing1": "title", "phrase2": "status", "thing3": "note", "time4": "time"}}
}
