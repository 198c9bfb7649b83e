package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on malformed JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// ErrorBody is the API's error format.
type ErrorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	Details   []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"details"`
}

// Err decodes the body as the error format and checks it is complete.
func (r *Response) Err(t testing.TB) ErrorBody {
	t.Helper()
	var e ErrorBody
	r.JSON(t, &e)
	if e.Code == "" || e.Message == "" || e.RequestID == "" {
		t.Fatalf("incomplete error body: %s", r.Body)
	}
	return e
}

// Client talks to an Env as one caller.
type Client struct {
	t     testing.TB
	env   *Env
	Token string
	// Header is sent with every request (a User-Agent, a Cookie).
	Header http.Header
}

// With returns a copy of c that also sends header k: v.
func (c *Client) With(k, v string) *Client {
	n := *c
	n.Header = c.Header.Clone()
	if n.Header == nil {
		n.Header = http.Header{}
	}
	n.Header.Set(k, v)
	return &n
}

// As returns a client sending token (empty: anonymous).
func (e *Env) As(t testing.TB, token string) *Client { return &Client{t: t, env: e, Token: token} }

// Anon is an anonymous client.
func (e *Env) Anon(t testing.TB) *Client { return e.As(t, "") }

// Do sends a request with a JSON body (a string or []byte is sent raw) and checks the exchange
// against the API contract.
func (c *Client) Do(method, path string, body any) *Response {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatalf("encode body: %v", err)
		}
	}
	return c.DoRaw(method, path, "application/json", raw)
}

// DoRaw sends a body with a content type of the caller's choosing.
func (c *Client) DoRaw(method, path, contentType string, raw []byte) *Response {
	c.t.Helper()
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.env.URL+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: out}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusBadGateway {
		c.t.Errorf("%s %s: server error %d: %s", method, path, resp.StatusCode, out)
	}
	checkContract(c.t, req, raw, r)
	return r
}

// Must sends a request and fails the test unless the status is want.
func (c *Client) Must(want int, method, path string, body any) *Response {
	c.t.Helper()
	r := c.Do(method, path, body)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, truncate(r.Body))
	}
	return r
}

func truncate(b []byte) string {
	s := string(b)
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return strings.TrimSpace(s)
}
