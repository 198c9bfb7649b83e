package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRetentionDefaults(t *testing.T) {
	c := devDefault()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := RetentionConfig{Events: 30 * 24 * time.Hour, Notifications: 180 * 24 * time.Hour, Audit: 0, Interval: time.Hour}
	if c.Retention != want {
		t.Fatalf("retention defaults: %+v", c.Retention)
	}
	// The example documents the defaults.
	ex, err := Load(filepath.Join("..", "..", "configs", "shiliu.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Retention != want {
		t.Fatalf("the example's retention differs from the defaults: %+v", ex.Retention)
	}
}

func TestRetentionFromEnvironment(t *testing.T) {
	c := devDefault()
	if err := c.applyEnv(env(map[string]string{"SHILIU_RETENTION_EVENTS": "168h", "SHILIU_RETENTION_NOTIFICATIONS": "2160h",
		"SHILIU_RETENTION_AUDIT": "8760h", "SHILIU_RETENTION_INTERVAL": "0"})); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := RetentionConfig{Events: 7 * 24 * time.Hour, Notifications: 90 * 24 * time.Hour, Audit: 365 * 24 * time.Hour, Interval: 0}
	if c.Retention != want {
		t.Fatalf("retention: %+v", c.Retention)
	}
	c = devDefault()
	if err := c.applyEnv(env(map[string]string{"SHILIU_RETENTION_EVENTS": "30d"})); err == nil || !strings.Contains(err.Error(), "SHILIU_RETENTION_EVENTS") {
		t.Fatalf("a bad duration: %v", err)
	}
}

// TestAuditRetentionLegalMinimum: the audit trail is kept forever (0) or at least six months,
// the longest six calendar months being 184 days; anything shorter refuses to start.
func TestAuditRetentionLegalMinimum(t *testing.T) {
	for _, tc := range []struct {
		audit time.Duration
		ok    bool
	}{
		{0, true},
		{time.Nanosecond, false},
		{time.Second, false},
		{30 * 24 * time.Hour, false},
		{180 * 24 * time.Hour, false},
		{184*24*time.Hour - time.Second, false},
		{184 * 24 * time.Hour, true},
		{3 * 365 * 24 * time.Hour, true},
		{-time.Hour, false},
	} {
		c := devDefault()
		c.Retention.Audit = tc.audit
		err := c.Validate()
		if tc.ok && err != nil {
			t.Errorf("audit %s refused: %v", tc.audit, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "retention.audit") || !strings.Contains(err.Error(), "six months")) {
			t.Errorf("audit %s: %v", tc.audit, err)
		}
	}
	c := devDefault()
	if err := c.applyEnv(env(map[string]string{"SHILIU_RETENTION_AUDIT": "2160h"})); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "4416h") {
		t.Fatalf("90 days of audit log from the environment: %v", err)
	}
}

func TestRetentionValidation(t *testing.T) {
	for name, set := range map[string]func(*RetentionConfig){
		"retention.events":        func(r *RetentionConfig) { r.Events = time.Minute },
		"retention.notifications": func(r *RetentionConfig) { r.Notifications = time.Hour },
		"retention.interval":      func(r *RetentionConfig) { r.Interval = time.Millisecond },
	} {
		c := devDefault()
		set(&c.Retention)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := devDefault()
	c.Retention = RetentionConfig{}
	if err := c.Validate(); err != nil {
		t.Fatalf("keeping everything and never sweeping is allowed: %v", err)
	}
}
