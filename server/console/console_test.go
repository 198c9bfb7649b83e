package console

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	rd := r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		z, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = z
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// anAsset finds one built script under assets/ (names are content hashes).
func anAsset(t *testing.T) string {
	t.Helper()
	entries, err := fs.ReadDir(dist, "dist/assets")
	if err != nil || len(entries) == 0 {
		t.Fatalf("no built assets: %v", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".js") {
			return "/assets/" + e.Name()
		}
	}
	t.Fatal("no built script")
	return ""
}

func TestIndexIsNotCachedAndCarriesCSP(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/", "/index.html", "/units", "/instructors/12", "/login?redirect=/units"} {
		r := get(t, h, p)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", p, r.StatusCode)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache", p, got)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		b := body(t, r)
		if !strings.Contains(b, `<div id="app">`) {
			t.Errorf("%s: not the console page: %.200s", p, b)
		}
	}
}

// The built page must run under its own CSP: no inline script, nothing from another origin.
func TestBuiltPageHasNoInlineScriptOrForeignOrigin(t *testing.T) {
	b, err := fs.ReadFile(dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, tag := range strings.Split(page, "<script")[1:] {
		if !strings.Contains(strings.SplitN(tag, ">", 2)[0], "src=") {
			t.Errorf("inline script in index.html: <script%.80s", tag)
		}
	}
	for _, bad := range []string{"http://", "https://", "//cdn", "fonts.googleapis"} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html refers to %q", bad)
		}
	}
}

func TestAssetsAreCachedForAYearAndCompressed(t *testing.T) {
	h := Handler()
	p := anAsset(t)
	r := get(t, h, p, "Accept-Encoding", "gzip, deflate, br")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	if got := r.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q", got)
	}
	if r.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("headers %v", r.Header)
	}
	plain := get(t, h, p)
	if plain.Header.Get("Content-Encoding") != "" || body(t, plain) != body(t, r) {
		t.Error("gzip and plain bodies differ, or plain was compressed")
	}
}

func TestMissingAssetIsNotFoundNotThePage(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/assets/index-00000000.js", "/favicon.ico", "/robots.txt"} {
		r := get(t, h, p)
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, r.StatusCode)
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/units", strings.NewReader("{}"))
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status %d", rec.Code)
	}
}
