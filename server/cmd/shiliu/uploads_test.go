package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/upload/s3test"
)

// TestUploadsMigrate: the command copies the directory's files into the bucket, and run again
// copies nothing.
func TestUploadsMigrate(t *testing.T) {
	to := s3test.URL(t)
	dir := t.TempDir()
	t.Setenv("SHILIU_DATABASE_DSN", "sqlite:"+filepath.Join(t.TempDir(), "cli.db"))
	t.Setenv("SHILIU_UPLOADS_DIR", dir)
	t.Setenv("SHILIU_LOG_LEVEL", "error")
	for _, k := range []string{"2026/05/01/aa11", "2026/05/02/bb22"} {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("photo "+k), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := capture(t, "uploads", "migrate", "--to", to)
	if err != nil || !strings.Contains(out, "2 copied") || !strings.Contains(out, "0 failed") {
		t.Fatalf("first run: %q %v", out, err)
	}
	out, err = capture(t, "uploads", "migrate", "--to", to)
	if err != nil || !strings.Contains(out, "0 copied") || !strings.Contains(out, "2 already there") {
		t.Fatalf("second run: %q %v", out, err)
	}
	if _, err := capture(t, "uploads", "migrate"); err == nil || !strings.Contains(err.Error(), "SHILIU_STORAGE_URL") {
		t.Fatalf("no store: %v", err)
	}
	if _, err := capture(t, "uploads", "copy"); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}
