package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// capture runs the CLI with args and returns what it printed.
func capture(t *testing.T, args ...string) (string, error) {
	t.Helper()
	r, w, _ := os.Pipe()
	old := os.Stdout
	os.Stdout = w
	err := run(args)
	w.Close()
	os.Stdout = old
	b := make([]byte, 1<<16)
	n, _ := r.Read(b)
	return string(b[:n]), err
}

func TestCommands(t *testing.T) {
	t.Setenv("SHILIU_DATABASE_DSN", filepath.Join(t.TempDir(), "cli.db"))
	t.Setenv("SHILIU_UPLOADS_DIR", t.TempDir())
	t.Setenv("SHILIU_LOG_LEVEL", "error")
	t.Setenv("SHILIU_BCRYPT_COST", "4")

	if out, err := capture(t, "version"); err != nil || !strings.HasPrefix(out, "shiliu ") {
		t.Fatalf("version: %q %v", out, err)
	}
	if out, err := capture(t, "migrate"); err != nil || !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, err := capture(t, "user", "create", "--username", "county1", "--role", "county_staff", "--region", "131028")
	if err != nil || !strings.Contains(out, "generated password") || !strings.Contains(out, "131028000000") {
		t.Fatalf("user create: %q %v", out, err)
	}
	if _, err := capture(t, "user", "create", "--username", "county1", "--role", "county_staff", "--region", "131028"); err == nil {
		t.Fatal("duplicate user accepted")
	}
	if _, err := capture(t, "user", "create", "--username", "bad", "--role", "city_staff", "--region", "131028"); err == nil {
		t.Fatal("a city account bound to a county was accepted")
	}
	out, err = capture(t, "seed-demo")
	if err != nil || !strings.Contains(out, "demo county 131028000000") || strings.Count(out, "password") != 4 {
		t.Fatalf("seed-demo: %q %v", out, err)
	}
	if _, err := capture(t, "seed-demo"); err == nil {
		t.Fatal("seed-demo twice should say the data is there")
	}
	if _, err := capture(t, "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestProdRefusesToStartWithDefaults(t *testing.T) {
	t.Setenv("SHILIU_MODE", "prod")
	t.Setenv("SHILIU_DATABASE_DSN", filepath.Join(t.TempDir(), "p.db"))
	t.Setenv("SHILIU_UPLOADS_DIR", t.TempDir())
	err := run([]string{"serve"})
	if err == nil || !strings.Contains(err.Error(), "token_secret") {
		t.Fatalf("prod serve with defaults: %v", err)
	}
}
