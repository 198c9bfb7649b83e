package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNotifyConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("notify:\n  public_base_url: https://shiliu.example.gov.cn\n  templates:\n    tip_submitted:\n      id: FROMFILE\n      data: {thing1: title}\n"), 0o600)
	t.Setenv("SHILIU_NOTIFY_TEMPLATE_SENTIMENT_ANSWERED", "FROMENV")
	t.Setenv("SHILIU_NOTIFY_DISPATCH_IN_SERVE", "false")
	t.Setenv("SHILIU_NOTIFY_POLL_INTERVAL", "250ms")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notify
	if n.DispatchInServe || n.PollInterval != 250*time.Millisecond || n.PublicBaseURL != "https://shiliu.example.gov.cn" {
		t.Fatalf("%+v", n)
	}
	if tpl := n.Templates["tip_submitted"]; tpl.ID != "FROMFILE" || tpl.Data["thing1"] != "title" {
		t.Fatalf("template from file: %+v", tpl)
	}
	if tpl := n.Templates["sentiment_answered"]; tpl.ID != "FROMENV" || tpl.Data["thing2"] != "answer" {
		t.Fatalf("template id from the environment keeps the default keywords: %+v", tpl)
	}

	for name, tc := range map[string]struct {
		change func(*Config)
		want   string
	}{
		"short lease":    {func(c *Config) { c.Notify.Lease = 15 * time.Second }, "notify.lease"},
		"over WeCom":     {func(c *Config) { c.Notify.RobotPerMinute = 30 }, "notify.robot_per_minute"},
		"no attempts":    {func(c *Config) { c.Notify.MaxAttempts = 0 }, "notify.max_attempts"},
		"retry max":      {func(c *Config) { c.Notify.RetryMax = time.Second }, "notify.retry_base"},
		"base url":       {func(c *Config) { c.Notify.PublicBaseURL = "shiliu.example.gov.cn" }, "notify.public_base_url"},
		"id no keywords": {func(c *Config) { c.Notify.Templates["x_y"] = TemplateConfig{ID: "T"} }, "notify.templates.x_y.data"},
		"bad keyword": {func(c *Config) {
			c.Notify.Templates["x_y"] = TemplateConfig{ID: "T", Data: map[string]string{"thing": "title"}}
		}, "thing1"},
	} {
		c := Default()
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
