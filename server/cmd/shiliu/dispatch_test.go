package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
)

// `shiliu dispatch` runs the dispatcher alone until SIGTERM/SIGINT, then exits cleanly.
func TestDispatchCommandRunsUntilSignalled(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "dispatch.db")
	t.Setenv("SHILIU_DATABASE_DSN", dsn)
	t.Setenv("SHILIU_UPLOADS_DIR", t.TempDir())
	t.Setenv("SHILIU_LOG_LEVEL", "error")
	done := make(chan error, 1)
	go func() { done <- run([]string{"dispatch"}) }()

	// Wait until it is past opening (schema and regions in place), then signal it.
	deadline := time.Now().Add(5 * time.Minute) // a hang guard: a loaded machine migrates slowly
	for {
		if db, err := database.Open(context.Background(), dsn, database.Options{}); err == nil {
			var n int64
			db.Raw("SELECT COUNT(*) FROM regions").Scan(&n)
			db.Close()
			if n > 0 {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("dispatch ended before it was signalled: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("dispatch did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dispatch: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dispatch did not stop on SIGINT")
	}
}
