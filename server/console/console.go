// Package console serves the staff web console: the single-page application built from web/ into
// dist/ (committed, so the binary serves it with no Node installed) and embedded here.
//
// index.html is never cached (a new release takes effect on the next visit), the content-hashed
// files under assets/ are cached for a year, and any other path falls back to index.html so that a
// bookmarked page of the console loads. Every answer carries a strict Content Security Policy: the
// console loads nothing but its own files and runs no inline script.
package console

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// CSP is the console's Content Security Policy. Styles may be set inline because Element Plus
// positions popups through style attributes; scripts come only from the console's own files.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the embedded console.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed directive guarantees dist exists
	}
	return &server{files: sub, gz: map[string][]byte{}}
}

type server struct {
	files fs.FS
	mu    sync.Mutex
	gz    map[string][]byte // gzip-compressed bodies, made once on first request
}

// compressible is what the first visit downloads: scripts, styles, the page, the icon.
var compressible = map[string]bool{".js": true, ".css": true, ".html": true, ".svg": true, ".json": true}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	isAsset := strings.HasPrefix(name, "assets/")
	body, err := fs.ReadFile(s.files, name)
	switch {
	case err == nil && name != "" && name != "index.html":
		if isAsset {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=3600")
		}
	case isAsset || path.Ext(name) != "" && name != "index.html":
		// A missing hashed file (an old page after a release) must not be answered with the page:
		// the browser would try to run HTML as a script.
		h.Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	default:
		name = "index.html"
		body, err = fs.ReadFile(s.files, name)
		if err != nil {
			http.Error(w, "console not built", http.StatusNotFound)
			return
		}
		h.Set("Cache-Control", "no-cache")
	}
	ext := path.Ext(name)
	if ct := mime.TypeByExtension(ext); ct != "" {
		h.Set("Content-Type", ct)
	}
	if compressible[ext] {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body = s.gzipped(name, body)
			h.Set("Content-Encoding", "gzip")
		}
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func (s *server) gzipped(name string, body []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if z, ok := s.gz[name]; ok {
		return z
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	s.gz[name] = buf.Bytes()
	return s.gz[name]
}
