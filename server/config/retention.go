package config

import (
	"errors"
	"fmt"
	"time"
)

// RetentionConfig is how long the tables that only grow keep what is done with, and how often
// each instance deletes the rest. 0 keeps a table's rows forever.
type RetentionConfig struct {
	// Events is how long an outbox event is kept after the dispatcher consumed it; nothing reads a
	// consumed event again. An event not yet consumed is never deleted, however old.
	Events time.Duration `yaml:"events"`
	// Notifications is how long the delivery log keeps a notification once it is final: sent,
	// failed (staff can no longer retry it once it is gone) or skipped. Pending and sending ones
	// are never deleted.
	Notifications time.Duration `yaml:"notifications"`
	// Audit is how long audit_log entries are kept: 0 (forever) or at least AuditMinimum.
	Audit time.Duration `yaml:"audit"`
	// Interval is how often each instance deletes; 0 turns it off on this instance (then another
	// instance must do it). Several instances deleting at once is safe.
	Interval time.Duration `yaml:"interval"`
}

// AuditMinimum is the shortest audit retention accepted. The Cybersecurity Law (网络安全法, art.
// 21(3)) requires network logs to be kept at least six months; six calendar months are up to 184
// days (July to December), so 180 days would let some entries go a few days early.
const AuditMinimum = 184 * 24 * time.Hour

func defaultRetention() RetentionConfig {
	return RetentionConfig{
		Events:        30 * 24 * time.Hour,
		Notifications: 180 * 24 * time.Hour,
		Audit:         0,
		Interval:      time.Hour,
	}
}

func (r *RetentionConfig) applyEnv(get lookup) error {
	var errs []error
	for _, e := range []struct {
		name string
		dst  *time.Duration
	}{
		{"SHILIU_RETENTION_EVENTS", &r.Events},
		{"SHILIU_RETENTION_NOTIFICATIONS", &r.Notifications},
		{"SHILIU_RETENTION_AUDIT", &r.Audit},
		{"SHILIU_RETENTION_INTERVAL", &r.Interval},
	} {
		if v, ok := get(e.name); ok && v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", e.name, err))
				continue
			}
			*e.dst = d
		}
	}
	return errors.Join(errs...)
}

func (r RetentionConfig) validate() []error {
	var errs []error
	if r.Events < 0 || (r.Events > 0 && r.Events < time.Hour) {
		errs = append(errs, errors.New("retention.events must be 0 (keep forever) or at least 1h"))
	}
	if r.Notifications < 0 || (r.Notifications > 0 && r.Notifications < 24*time.Hour) {
		errs = append(errs, errors.New("retention.notifications must be 0 (keep forever) or at least 24h"))
	}
	if r.Audit < 0 || (r.Audit > 0 && r.Audit < AuditMinimum) {
		errs = append(errs, fmt.Errorf("retention.audit is %s: it must be 0 (keep forever) or at least %dh (184 days): "+
			"the Cybersecurity Law (网络安全法 art. 21) requires network logs to be kept at least six months", r.Audit, AuditMinimum/time.Hour))
	}
	return append(errs, sweepInterval("retention.interval", r.Interval)...)
}
