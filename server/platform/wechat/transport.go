package wechat

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

const (
	apiHost   = "api.weixin.qq.com"
	qyapiHost = "qyapi.weixin.qq.com"
)

// routing is what the shared transport applies to each request. The SDK calls
// through one package variable (util.DefaultHTTPClient), so routing is
// process-wide: the most recently built Client that is not yet closed wins.
// A production process has one Client. Tests that build a second one (another
// app in the same binary) must Close it, which hands routing back to the
// Client before it; clients pointing at different fake servers must not be
// used at the same time (no t.Parallel between such tests).
type routing struct {
	bases   map[string]*url.URL // WeChat host -> base it is sent to
	timeout time.Duration
}

var (
	installOnce    sync.Once
	currentRouting atomic.Pointer[routing]

	liveMu sync.Mutex
	live   []*routing // routings of open Clients, oldest first
)

// install points the SDK at r. The *http.Client is assigned once; later calls
// only swap the routing, which the transport reads per request, so there is
// no unsynchronised write to util.DefaultHTTPClient while calls are running.
func install(r *routing) {
	liveMu.Lock()
	live = append(live, r)
	currentRouting.Store(r)
	liveMu.Unlock()
	installOnce.Do(func() {
		// No Client.Timeout: the transport applies the current timeout so that
		// it can change with the routing.
		util.DefaultHTTPClient = &http.Client{Transport: &rewriteTransport{next: baseTransport()}}
	})
}

// uninstall drops r and routes by the newest routing still open. With none
// open, requests to the WeChat hosts go out unchanged.
func uninstall(r *routing) {
	liveMu.Lock()
	defer liveMu.Unlock()
	for i, l := range live {
		if l == r {
			live = append(live[:i], live[i+1:]...)
			break
		}
	}
	if len(live) == 0 {
		currentRouting.Store(nil)
		return
	}
	currentRouting.Store(live[len(live)-1])
}

func baseTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment}
}

// rewriteTransport sends requests for the WeChat hosts to the configured
// bases, bounds them with the configured timeout and turns a non-200 status
// into *HTTPStatusError (the SDK would otherwise build an error string that
// includes the full URL, secrets and all).
type rewriteTransport struct {
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := currentRouting.Load()
	if r == nil {
		return t.next.RoundTrip(req)
	}
	base, ours := r.bases[req.URL.Hostname()]
	if !ours {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), r.timeout)
	out := req.Clone(ctx)
	out.URL.Scheme = base.Scheme
	out.URL.Host = base.Host
	out.URL.Path = strings.TrimSuffix(base.Path, "/") + req.URL.Path
	out.URL.RawPath = ""
	out.Host = ""

	resp, err := t.next.RoundTrip(out)
	if err != nil {
		cancel()
		return nil, &calledError{url: redactURL(out.URL.String()), err: err}
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		cancel()
		return nil, &calledError{url: redactURL(out.URL.String()), err: &HTTPStatusError{StatusCode: resp.StatusCode}}
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// calledError carries the URL a request was really sent to (a gateway's, when one is configured)
// out of the transport: http.Client names the URL the SDK asked for, always a WeChat host, and
// an operator reading the log must see where the call went. mapErr puts it in place.
type calledError struct {
	url string // without query
	err error
}

func (e *calledError) Error() string { return e.url + ": " + e.err.Error() }
func (e *calledError) Unwrap() error { return e.err }

// HTTPStatusError is a non-200 answer from WeChat or WeCom.
type HTTPStatusError struct {
	StatusCode int
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("http status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

func parseBase(s, def string) (*url.URL, error) {
	if s == "" {
		s = def
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("want http(s)://host[/path], got %q", s)
	}
	return u, nil
}

// redactURL drops the query, which carries secret, js_code, access_token or
// the webhook key.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
	return u.String()
}
