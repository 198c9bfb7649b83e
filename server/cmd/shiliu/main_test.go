package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net"
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
	t.Setenv("SHILIU_DATABASE_DSN", "sqlite:"+filepath.Join(t.TempDir(), "cli.db"))
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
	t.Setenv("SHILIU_DATABASE_DSN", "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	t.Setenv("SHILIU_UPLOADS_DIR", t.TempDir())
	err := run([]string{"serve"})
	if err == nil || !strings.Contains(err.Error(), "token_secret") {
		t.Fatalf("prod serve with defaults: %v", err)
	}
}

// captureAll runs the CLI with args and returns what it printed on standard output and standard
// error (where the logs go).
func captureAll(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	outR, outW, _ := os.Pipe()
	errR, errW, _ := os.Pipe()
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outW, errW
	read := func(r *os.File, dst *string, done chan<- struct{}) {
		b, _ := io.ReadAll(r)
		*dst = string(b)
		close(done)
	}
	outDone, errDone := make(chan struct{}), make(chan struct{})
	go read(outR, &stdout, outDone)
	go read(errR, &stderr, errDone)
	err = run(args)
	outW.Close()
	errW.Close()
	os.Stdout, os.Stderr = oldOut, oldErr
	<-outDone
	<-errDone
	return stdout, stderr, err
}

// Every command answers --help and -h with its usage and does nothing else: seed-demo writes no
// accounts, migrate creates no schema, serve starts no server.
func TestEveryCommandAnswersHelpAndDoesNothingElse(t *testing.T) {
	db := filepath.Join(t.TempDir(), "help.db")
	secrets := filepath.Join(t.TempDir(), "secrets.json")
	t.Setenv("SHILIU_DATABASE_DSN", "sqlite:"+db)
	t.Setenv("SHILIU_SECRETS_FILE", secrets)
	t.Setenv("SHILIU_UPLOADS_DIR", filepath.Join(t.TempDir(), "uploads"))
	t.Setenv("SHILIU_HTTP_ADDR", "127.0.0.1:0")
	for _, cmd := range [][]string{
		{"serve"}, {"migrate"}, {"dispatch"}, {"user"}, {"user", "create"}, {"seed-demo"}, {"fake-wechat"}, {"version"},
	} {
		for _, flag := range []string{"--help", "-h"} {
			args := append(append([]string{}, cmd...), flag)
			out, _, err := captureAll(t, args...)
			if err != nil || !strings.HasPrefix(out, "Usage: shiliu") {
				t.Errorf("%v: %v, printed %q", args, err, out)
			}
			if strings.Contains(out, "staff account dachang") {
				t.Errorf("%v printed passwords: %q", args, out)
			}
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("a --help touched the database: %v", err)
	}
	if _, err := os.Stat(os.Getenv("SHILIU_UPLOADS_DIR")); !os.IsNotExist(err) {
		t.Fatalf("a --help created the uploads directory: %v", err)
	}
	if _, err := os.Stat(secrets); !os.IsNotExist(err) {
		t.Fatalf("a --help generated the dev secrets: %v", err)
	}
	// The overview gives the defaults a newcomer needs.
	out, _, err := captureAll(t, "--help")
	for _, want := range []string{":8080", "SHILIU_HTTP_ADDR", "sqlite:data/shiliu.db", "data/uploads"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("shiliu --help does not give %s: %v %q", want, err, out)
		}
	}
}

func TestSeedDemoRefusesProd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "prod.db")
	t.Setenv("SHILIU_MODE", "prod")
	t.Setenv("SHILIU_DATABASE_DSN", "sqlite:"+db)
	t.Setenv("SHILIU_ALLOW_SQLITE_IN_PROD", "true")
	t.Setenv("SHILIU_UPLOADS_DIR", t.TempDir())
	secret := make([]byte, 32)
	rand.Read(secret)
	t.Setenv("SHILIU_TOKEN_SECRET", hex.EncodeToString(secret))
	rand.Read(secret)
	t.Setenv("SHILIU_DATA_KEY", base64.StdEncoding.EncodeToString(secret))
	t.Setenv("SHILIU_WECHAT_APPID", "wx1")
	t.Setenv("SHILIU_WECHAT_SECRET", "s")
	t.Setenv("SHILIU_REDIS_URL", "redis://127.0.0.1:1/0")
	out, _, err := captureAll(t, "seed-demo")
	if err == nil || !strings.Contains(err.Error(), "dev mode only") {
		t.Fatalf("seed-demo in prod: %v, printed %q", err, out)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("seed-demo in prod touched the database: %v", err)
	}
}

// One-off commands do not announce a server start with a listen address they never use.
func TestToolsDoNotLogAServerStart(t *testing.T) {
	t.Setenv("SHILIU_DATABASE_DSN", "sqlite:"+filepath.Join(t.TempDir(), "tools.db"))
	t.Setenv("SHILIU_UPLOADS_DIR", t.TempDir())
	t.Setenv("SHILIU_LOG_LEVEL", "info")
	t.Setenv("SHILIU_BCRYPT_COST", "4")
	for _, args := range [][]string{
		{"migrate"}, {"user", "create", "--username", "county1", "--role", "county_staff", "--region", "131028"}, {"seed-demo"},
	} {
		_, logs, err := captureAll(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, logs)
		}
		if strings.Contains(logs, "starting shiliu") || strings.Contains(logs, "http_addr") {
			t.Errorf("%v logged a server start:\n%s", args, logs)
		}
	}
}

// fake-wechat binds before it says where it listens: on a taken port the failure is all it prints.
func TestFakeWeChatBindsBeforeSayingItListens(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, stderr, err := captureAll(t, "fake-wechat", "--addr", l.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("fake-wechat on a taken port: %v", err)
	}
	if strings.Contains(stderr, "listening") || strings.Contains(stderr, "SHILIU_WECHAT_API_BASE") {
		t.Fatalf("fake-wechat said it listens before binding: %q", stderr)
	}
}
