package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/apitest"
)

// The console is served by the same engine as the API: pages and their files at /, with unknown
// paths falling back to the page, while unknown paths under /api/ stay the API's JSON 404.
func TestConsoleIsServedBesideTheAPI(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	get := func(method, path string) (*http.Response, string) {
		req, _ := http.NewRequest(method, e.URL+path, nil)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r, string(b)
	}
	for _, p := range []string{"/", "/units", "/instructors/7", "/filings?status=submitted"} {
		r, b := get(http.MethodGet, p)
		if r.StatusCode != http.StatusOK || !strings.Contains(b, `<div id="app">`) {
			t.Fatalf("GET %s: %d %.120s", p, r.StatusCode, b)
		}
		if r.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET %s: headers %v", p, r.Header)
		}
	}
	for _, p := range []string{"/api/v1/no-such-thing", "/api/nothing", "/api"} {
		r, b := get(http.MethodGet, p)
		var body struct{ Code string }
		if r.StatusCode != http.StatusNotFound || json.Unmarshal([]byte(b), &body) != nil || body.Code != "not_found" {
			t.Errorf("GET %s: %d %.120s, want the API's JSON 404", p, r.StatusCode, b)
		}
	}
	// A write to a console path is not the console's: the API's JSON 404.
	r, b := get(http.MethodPost, "/units")
	if r.StatusCode != http.StatusNotFound || !strings.Contains(b, `"not_found"`) {
		t.Errorf("POST /units: %d %.120s", r.StatusCode, b)
	}
	// The API itself carries no console CSP and keeps working.
	r, _ = get(http.MethodGet, "/healthz")
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("/healthz: %d %v", r.StatusCode, r.Header)
	}
}
