package app_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/app"
)

// TestShutdownDrainsInFlightRequests stops the server while a request is being served: the
// request still completes and Run returns cleanly.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	t.Parallel()
	// Start from the shared test config: WeChat routing is process-wide (the SDK has one HTTP
	// client), so an App with the real WeChat hosts would point every other test at them.
	cfg := apitest.Shared(t).Config
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Database.DSN = "sqlite:" + filepath.Join(t.TempDir(), "drain.db")
	cfg.Database.LoadRegions = false
	a, err := app.Open(context.Background(), cfg, app.WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	started := make(chan struct{})
	inner := a.Handler
	a.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			time.Sleep(500 * time.Millisecond)
			w.Write([]byte("done"))
			return
		}
		inner.ServeHTTP(w, r)
	})
	addr, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request: %q", body)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get("http://" + addr.String() + "/healthz"); err == nil {
		t.Fatal("server still accepting after shutdown")
	}
}
