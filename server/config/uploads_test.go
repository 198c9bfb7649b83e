package config

import (
	"strings"
	"testing"
	"time"
)

func TestUploadLimitsFromEnvironment(t *testing.T) {
	c := devDefault()
	if err := c.applyEnv(env(map[string]string{"SHILIU_UPLOADS_MAX_CONCURRENT": "3", "SHILIU_UPLOADS_ORPHAN_AFTER": "72h"})); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Uploads.MaxConcurrent != 3 || c.Uploads.OrphanAfter != 72*time.Hour {
		t.Fatalf("uploads: %+v", c.Uploads)
	}
	for name, set := range map[string]func(*UploadsConfig){
		"uploads.max_concurrent": func(u *UploadsConfig) { u.MaxConcurrent = 0 },
		"uploads.queue_wait":     func(u *UploadsConfig) { u.QueueWait = -time.Second },
		"uploads.orphan_after":   func(u *UploadsConfig) { u.OrphanAfter = 10 * time.Minute },
		"uploads.sweep_interval": func(u *UploadsConfig) { u.SweepInterval = time.Millisecond },
	} {
		c := devDefault()
		set(&c.Uploads)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c = devDefault()
	if err := c.applyEnv(env(map[string]string{"SHILIU_UPLOADS_ORPHAN_AFTER": "a week"})); err == nil {
		t.Fatal("a bad duration was accepted")
	}
}

// TestUploadShareAndStallFromEnvironment: the per-account share, the stall timeout and the import
// cap come from the environment, and a share above the instance cap (which would let one account
// take every place again) is refused.
func TestUploadShareAndStallFromEnvironment(t *testing.T) {
	c := devDefault()
	if c.Uploads.MaxPerAccount >= c.Uploads.MaxConcurrent {
		t.Fatalf("default share %d is not below the instance cap %d", c.Uploads.MaxPerAccount, c.Uploads.MaxConcurrent)
	}
	if err := c.applyEnv(env(map[string]string{"SHILIU_UPLOADS_MAX_PER_ACCOUNT": "3",
		"SHILIU_UPLOADS_STALL_TIMEOUT": "15s", "SHILIU_UPLOADS_IMPORT_MAX_CONCURRENT": "4"})); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Uploads.MaxPerAccount != 3 || c.Uploads.StallTimeout != 15*time.Second || c.Uploads.ImportMaxConcurrent != 4 {
		t.Fatalf("uploads: %+v", c.Uploads)
	}
	for name, set := range map[string]func(*UploadsConfig){
		"uploads.max_per_account":       func(u *UploadsConfig) { u.MaxPerAccount = u.MaxConcurrent + 1 },
		"uploads.stall_timeout":         func(u *UploadsConfig) { u.StallTimeout = 0 },
		"uploads.import_max_concurrent": func(u *UploadsConfig) { u.ImportMaxConcurrent = 0 },
	} {
		c := devDefault()
		set(&c.Uploads)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStorageURLFromEnvironment(t *testing.T) {
	c := devDefault()
	const u = "s3://AK:very-secret@127.0.0.1:8333/photos?secure=false&lookup=path"
	if err := c.applyEnv(env(map[string]string{"SHILIU_STORAGE_URL": u})); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil || c.Uploads.StorageURL != u {
		t.Fatalf("%q: %v", c.Uploads.StorageURL, err)
	}
	if got := c.Redacted()["uploads_storage"]; strings.Contains(got.(string), "very-secret") || !strings.Contains(got.(string), "AK:***@127.0.0.1") {
		t.Fatalf("redacted: %v", got)
	}
	for _, bad := range []string{"http://AK:S@host/b", "s3://AK:S@host", "s3://host/b", "s3://AK@host/b", "s3://AK:S@/b"} {
		c := devDefault()
		c.Uploads.StorageURL = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "SHILIU_STORAGE_URL") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
