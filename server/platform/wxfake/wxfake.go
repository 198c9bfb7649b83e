// Package wxfake is a fake of the WeChat mini-program and WeCom group-robot
// HTTP APIs that our server calls. It is used by tests (NewTestServer) and by
// a CLI subcommand for local trials (Serve), which logs every message it accepts and lists
// them at GET /_fake/messages.
//
// Defaults, so tests need little setup:
//   - any login code c that was not registered maps to openid "o_"+c with no
//     unionid; every code works once (the second use gives 40163);
//   - any appid/secret is accepted unless WithCredentials is given;
//   - tokens never expire by time; InvalidateTokens/ExpireTokens end them;
//   - every robot key is valid unless disabled with DisableRobot;
//   - phone-number codes must be registered with SetPhone and work once.
package wxfake

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// Endpoint names for Inject, InjectHTTPStatus, SetDelay and Requests.
const (
	EndpointCode2Session = "code2session" // GET /sns/jscode2session
	EndpointToken        = "token"        // GET /cgi-bin/token and POST /cgi-bin/stable_token
	EndpointPhone        = "phone"        // POST /wxa/business/getuserphonenumber
	EndpointSubscribe    = "subscribe"    // POST /cgi-bin/message/subscribe/send
	EndpointRobot        = "robot"        // POST /cgi-bin/webhook/send (WeCom)
)

// Limits of the WeCom group robot as documented (bytes of UTF-8). The real
// service answers 40058 ("text.content exceed max length ...") beyond them.
const (
	RobotTextMaxBytes       = 2048
	RobotMarkdownMaxBytes   = 4096
	DefaultRobotRateLimit   = 20 // messages per key per minute
	tokenExpiresIn          = 7200
	maxRequestBody          = 8 << 20
	errcodeRobotContentLong = 40058
)

// Request is one request received by the fake.
type Request struct {
	Method  string
	Path    string
	Query   url.Values
	Body    map[string]any // parsed JSON body; nil when absent or not a JSON object
	RawBody []byte
	Time    time.Time
}

// SubscribeMessage is a subscribe message the fake accepted.
type SubscribeMessage struct {
	ToUser           string
	TemplateID       string
	Page             string
	Data             map[string]string
	MiniprogramState string
	Lang             string
	Time             time.Time
}

// RobotMessage is a robot message the fake accepted.
type RobotMessage struct {
	Key              string
	MsgType          string
	Content          string // empty for types without content (image, news, ...)
	MentionedMobiles []string
	MentionedList    []string
	Time             time.Time
}

// Option configures a Server.
type Option func(*Server)

// WithRobotRateLimit sets the per-key messages-per-minute limit (45009 beyond
// it). n <= 0 disables the limit.
func WithRobotRateLimit(n int) Option { return func(s *Server) { s.robotLimit = n } }

// WithClock replaces time.Now, e.g. to step over the robot rate window.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithMessageLog writes one line to l for every subscribe or robot message the fake accepts, so a
// trial shows what WeChat would have delivered.
func WithMessageLog(l *log.Logger) Option { return func(s *Server) { s.msgLog = l } }

// WithCredentials makes login and token calls require this appid and secret
// (40013 / 40125 otherwise).
func WithCredentials(appID, secret string) Option {
	return func(s *Server) { s.appID, s.secret = appID, secret }
}

type codeEntry struct{ openID, unionID string }

type injection struct {
	errcode int
	status  int // HTTP status when non-zero
}

// Server is the fake. It is an http.Handler and safe for concurrent use.
type Server struct {
	// Fixed after New.
	now        func() time.Time
	robotLimit int
	appID      string
	secret     string
	url        string
	msgLog     *log.Logger

	mu             sync.Mutex
	codes          map[string]codeEntry
	usedCodes      map[string]bool
	expiredCodes   map[string]bool
	phones         map[string]string
	tokens         map[string]int // token -> 0 valid, else the errcode it now gets
	stableToken    string
	tokenFetches   int
	refused        map[string]bool
	disabledRobots map[string]bool
	robotSends     map[string][]time.Time
	injections     map[string][]injection
	delays         map[string]time.Duration
	requests       map[string][]Request
	subscribeMsgs  []SubscribeMessage
	robotMsgs      []RobotMessage
	msgID          int64
}

// New returns a fake without a listener; serve it with any http.Server.
func New(opts ...Option) *Server {
	s := &Server{now: time.Now, robotLimit: DefaultRobotRateLimit}
	for _, o := range opts {
		o(s)
	}
	s.reset()
	return s
}

// NewTestServer starts the fake on a local httptest listener that is closed
// when the test ends. URL() returns its base URL.
func NewTestServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := New(opts...)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

// URL is the base URL of a server made by NewTestServer ("" otherwise).
func (s *Server) URL() string { return s.url }

// Serve serves the fake on l until the listener fails or is closed.
func (s *Server) Serve(l net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(l)
}

// Reset forgets all state: codes, phones, tokens, robots, injections, delays
// and recordings. Options given to New are kept.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
}

func (s *Server) reset() {
	s.codes = map[string]codeEntry{}
	s.usedCodes = map[string]bool{}
	s.expiredCodes = map[string]bool{}
	s.phones = map[string]string{}
	s.tokens = map[string]int{}
	s.stableToken = ""
	s.tokenFetches = 0
	s.refused = map[string]bool{}
	s.disabledRobots = map[string]bool{}
	s.robotSends = map[string][]time.Time{}
	s.injections = map[string][]injection{}
	s.delays = map[string]time.Duration{}
	s.requests = map[string][]Request{}
	s.subscribeMsgs = nil
	s.robotMsgs = nil
	s.msgID = 0
}

// RegisterCode makes a login code return this openid and unionid.
func (s *Server) RegisterCode(code, openID, unionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = codeEntry{openID, unionID}
	delete(s.usedCodes, code)
	delete(s.expiredCodes, code)
}

// ExpireCode makes a login code fail with 40029.
func (s *Server) ExpireCode(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiredCodes[code] = true
}

// SetPhone makes a getPhoneNumber code return this phone number, once.
func (s *Server) SetPhone(code, phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phones[code] = phone
}

// InvalidateTokens makes every token issued so far fail with 40001; the next
// token fetch issues a new one.
func (s *Server) InvalidateTokens() { s.endTokens(40001) }

// ExpireTokens makes every token issued so far fail with 42001.
func (s *Server) ExpireTokens() { s.endTokens(42001) }

func (s *Server) endTokens(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.tokens[t] = code
	}
	s.stableToken = ""
}

// TokenFetches counts calls to both token endpoints that returned a token.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenFetches
}

// RefuseSubscribe makes subscribe messages to openid fail with 43101, as for
// a user who did not accept (or rejected) the template.
func (s *Server) RefuseSubscribe(openID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[openID] = true
}

// DisableRobot makes the webhook key fail with 93000.
func (s *Server) DisableRobot(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabledRobots[key] = true
}

// Inject makes the next `times` calls to endpoint answer errcode (HTTP 200),
// before any other processing (codes are not consumed, nothing is recorded as
// accepted).
func (s *Server) Inject(endpoint string, errcode, times int) {
	s.inject(endpoint, injection{errcode: errcode}, times)
}

// InjectHTTPStatus makes the next `times` calls to endpoint answer this HTTP
// status (e.g. 502) with a short body.
func (s *Server) InjectHTTPStatus(endpoint string, status, times int) {
	s.inject(endpoint, injection{status: status}, times)
}

func (s *Server) inject(endpoint string, in injection, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.injections[endpoint] = append(s.injections[endpoint], in)
	}
}

// SetDelay delays every answer of endpoint by d (0 removes the delay). A
// client that gives up stops the wait.
func (s *Server) SetDelay(endpoint string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.delays, endpoint)
		return
	}
	s.delays[endpoint] = d
}

// Requests returns every request received for endpoint, injected failures
// included, oldest first. The result is a copy.
func (s *Server) Requests(endpoint string) []Request {
	s.mu.Lock()
	rs := append([]Request(nil), s.requests[endpoint]...)
	s.mu.Unlock()
	for i := range rs {
		rs[i].Query = cloneValues(rs[i].Query)
		rs[i].Body = parseBody(rs[i].RawBody)
		rs[i].RawBody = append([]byte(nil), rs[i].RawBody...)
	}
	return rs
}

// SubscribeMessages returns the subscribe messages accepted so far.
func (s *Server) SubscribeMessages() []SubscribeMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SubscribeMessage, len(s.subscribeMsgs))
	for i, m := range s.subscribeMsgs {
		m.Data = cloneStrings(m.Data)
		out[i] = m
	}
	return out
}

// RobotMessages returns the robot messages accepted so far.
func (s *Server) RobotMessages() []RobotMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RobotMessage, len(s.robotMsgs))
	for i, m := range s.robotMsgs {
		m.MentionedMobiles = append([]string(nil), m.MentionedMobiles...)
		m.MentionedList = append([]string(nil), m.MentionedList...)
		out[i] = m
	}
	return out
}

// MessagesPath lists what the fake accepted (GET), for a person trying the server by hand.
const MessagesPath = "/_fake/messages"

// listedMessage is one accepted message as GET /_fake/messages shows it.
type listedMessage struct {
	Channel    string            `json:"channel"` // robot or subscribe
	Time       time.Time         `json:"time"`
	RobotKey   string            `json:"robot_key,omitempty"`
	MsgType    string            `json:"msgtype,omitempty"`
	Content    string            `json:"content,omitempty"`
	ToUser     string            `json:"touser,omitempty"`
	TemplateID string            `json:"template_id,omitempty"`
	Page       string            `json:"page,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
}

// listMessages is every accepted message, robot and subscribe, oldest first.
func (s *Server) listMessages() []listedMessage {
	out := []listedMessage{}
	for _, m := range s.RobotMessages() {
		out = append(out, listedMessage{Channel: "robot", Time: m.Time, RobotKey: m.Key, MsgType: m.MsgType, Content: m.Content})
	}
	for _, m := range s.SubscribeMessages() {
		out = append(out, listedMessage{Channel: "subscribe", Time: m.Time, ToUser: m.ToUser, TemplateID: m.TemplateID, Page: m.Page, Data: m.Data})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// logf writes one line about an accepted message; s.mu is held.
func (s *Server) logf(format string, args ...any) {
	if s.msgLog != nil {
		s.msgLog.Printf(format, args...)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == MessagesPath && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"messages": s.listMessages()})
		return
	}
	var endpoint string
	var handle func(*http.Request, []byte) (int, any)
	switch r.URL.Path {
	case "/sns/jscode2session":
		endpoint, handle = EndpointCode2Session, s.code2Session
	case "/cgi-bin/token", "/cgi-bin/stable_token":
		endpoint, handle = EndpointToken, s.token
	case "/wxa/business/getuserphonenumber":
		endpoint, handle = EndpointPhone, s.phone
	case "/cgi-bin/message/subscribe/send":
		endpoint, handle = EndpointSubscribe, s.subscribe
	case "/cgi-bin/webhook/send":
		endpoint, handle = EndpointRobot, s.robot
	default:
		writeJSON(w, http.StatusNotFound, errBody(-1, "wxfake: unknown path "+r.URL.Path))
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errBody(-1, "wxfake: read body: "+err.Error()))
		return
	}

	s.mu.Lock()
	s.requests[endpoint] = append(s.requests[endpoint], Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), RawBody: body, Time: s.now(),
	})
	var in *injection
	if q := s.injections[endpoint]; len(q) > 0 {
		in = &q[0]
		s.injections[endpoint] = q[1:]
	}
	delay := s.delays[endpoint]
	s.mu.Unlock()

	if delay > 0 && !sleep(r.Context(), delay) {
		return
	}
	if in != nil {
		if in.status != 0 {
			writeJSON(w, in.status, errBody(-1, http.StatusText(in.status)))
			return
		}
		writeJSON(w, http.StatusOK, errBody(in.errcode, errMsg(endpoint, in.errcode)))
		return
	}
	status, resp := handle(r, body)
	writeJSON(w, status, resp)
}

func (s *Server) code2Session(r *http.Request, _ []byte) (int, any) {
	if r.Method != http.MethodGet {
		return fail(43001, "require GET method")
	}
	q := r.URL.Query()
	code := q.Get("js_code")
	switch {
	case q.Get("appid") == "":
		return fail(41002, "appid missing")
	case q.Get("secret") == "":
		return fail(41004, "appsecret missing")
	case code == "":
		return fail(41008, "missing code")
	case q.Get("grant_type") != "authorization_code":
		return fail(40002, "invalid grant_type")
	}
	if c, msg := s.checkApp(q.Get("appid"), q.Get("secret")); c != 0 {
		return fail(c, msg)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expiredCodes[code] {
		return fail(40029, errMsg(EndpointCode2Session, 40029))
	}
	if s.usedCodes[code] {
		return fail(40163, errMsg(EndpointCode2Session, 40163))
	}
	s.usedCodes[code] = true
	e, ok := s.codes[code]
	if !ok {
		e = codeEntry{openID: "o_" + code}
	}
	resp := map[string]any{"openid": e.openID, "session_key": randomB64(16)}
	if e.unionID != "" {
		resp["unionid"] = e.unionID
	}
	return http.StatusOK, resp
}

func (s *Server) token(r *http.Request, body []byte) (int, any) {
	stable := r.URL.Path == "/cgi-bin/stable_token"
	var appID, secret, grant string
	var force bool
	if stable {
		if r.Method != http.MethodPost {
			return fail(43002, "require POST method")
		}
		var req struct {
			GrantType    string `json:"grant_type"`
			AppID        string `json:"appid"`
			Secret       string `json:"secret"`
			ForceRefresh bool   `json:"force_refresh"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return fail(47001, "data format error")
		}
		appID, secret, grant, force = req.AppID, req.Secret, req.GrantType, req.ForceRefresh
	} else {
		if r.Method != http.MethodGet {
			return fail(43001, "require GET method")
		}
		q := r.URL.Query()
		appID, secret, grant = q.Get("appid"), q.Get("secret"), q.Get("grant_type")
	}
	switch {
	case appID == "":
		return fail(41002, "appid missing")
	case secret == "":
		return fail(41004, "appsecret missing")
	case grant != "client_credential":
		return fail(40002, "invalid grant_type")
	}
	if c, msg := s.checkApp(appID, secret); c != 0 {
		return fail(c, msg)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenFetches++
	var tok string
	switch {
	case stable && !force && s.stableToken != "":
		tok = s.stableToken
	case stable:
		// A forced refresh ends the previous stable token, as on the real API.
		if s.stableToken != "" {
			s.tokens[s.stableToken] = 40001
		}
		tok = s.newTokenLocked()
		s.stableToken = tok
	default:
		tok = s.newTokenLocked()
	}
	return http.StatusOK, map[string]any{"access_token": tok, "expires_in": tokenExpiresIn}
}

func (s *Server) newTokenLocked() string {
	tok := "fake-token-" + randomHex(12)
	s.tokens[tok] = 0
	return tok
}

// checkTokenLocked returns the errcode for an access_token (0 when valid).
func (s *Server) checkTokenLocked(tok string) int {
	if tok == "" {
		return 41001
	}
	code, ok := s.tokens[tok]
	if !ok {
		return 40001
	}
	return code
}

func (s *Server) checkApp(appID, secret string) (int, string) {
	if s.appID != "" && appID != s.appID {
		return 40013, "invalid appid"
	}
	if s.secret != "" && secret != s.secret {
		return 40125, "invalid appsecret"
	}
	return 0, ""
}

func (s *Server) phone(r *http.Request, body []byte) (int, any) {
	if r.Method != http.MethodPost {
		return fail(43002, "require POST method")
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(47001, "data format error")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.checkTokenLocked(r.URL.Query().Get("access_token")); c != 0 {
		return fail(c, errMsg(EndpointPhone, c))
	}
	phone, ok := s.phones[req.Code]
	if !ok {
		return fail(40029, errMsg(EndpointPhone, 40029))
	}
	delete(s.phones, req.Code)
	return http.StatusOK, map[string]any{
		"errcode": 0,
		"errmsg":  "ok",
		"phone_info": map[string]any{
			"phoneNumber":     phone,
			"purePhoneNumber": phone,
			"countryCode":     "86", // a string on the real API too
			"watermark":       map[string]any{"timestamp": s.now().Unix(), "appid": s.appID},
		},
	}
}

func (s *Server) subscribe(r *http.Request, body []byte) (int, any) {
	if r.Method != http.MethodPost {
		return fail(43002, "require POST method")
	}
	var req struct {
		ToUser           string                     `json:"touser"`
		TemplateID       string                     `json:"template_id"`
		Page             string                     `json:"page"`
		Data             map[string]json.RawMessage `json:"data"`
		MiniprogramState string                     `json:"miniprogram_state"`
		Lang             string                     `json:"lang"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(47001, "data format error")
	}
	data := make(map[string]string, len(req.Data))
	for k, raw := range req.Data {
		var item struct {
			Value any `json:"value"`
		}
		if err := json.Unmarshal(raw, &item); err != nil {
			return fail(47001, "data format error")
		}
		if v, ok := item.Value.(string); ok {
			data[k] = v
		} else if item.Value != nil {
			data[k] = fmt.Sprint(item.Value)
		} else {
			data[k] = ""
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.checkTokenLocked(r.URL.Query().Get("access_token")); c != 0 {
		return fail(c, errMsg(EndpointSubscribe, c))
	}
	switch {
	case req.ToUser == "":
		return fail(40003, "invalid openid")
	case req.TemplateID == "":
		return fail(40037, "invalid template_id")
	case len(data) == 0:
		return fail(47003, "argument invalid! data is empty")
	}
	switch req.MiniprogramState {
	case "", "developer", "trial", "formal":
	default:
		return fail(47003, "argument invalid! miniprogram_state")
	}
	for k, v := range data {
		if msg := checkKeyword(k, v); msg != "" {
			return fail(47003, "argument invalid! data."+k+".value "+msg)
		}
	}
	if s.refused[req.ToUser] {
		return fail(43101, errMsg(EndpointSubscribe, 43101))
	}
	s.msgID++
	s.subscribeMsgs = append(s.subscribeMsgs, SubscribeMessage{
		ToUser: req.ToUser, TemplateID: req.TemplateID, Page: req.Page, Data: data,
		MiniprogramState: req.MiniprogramState, Lang: req.Lang, Time: s.now(),
	})
	s.logf("subscribe message to %s, template %s, page %s: %s", req.ToUser, req.TemplateID, req.Page, oneLine(data))
	return http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": s.msgID}
}

// checkKeyword applies the documented value limits of subscribe-message
// keyword types (the key name without its trailing digits, e.g. "thing1").
func checkKeyword(key, v string) string {
	if v == "" {
		return "is empty"
	}
	typ := strings.TrimRightFunc(key, unicode.IsDigit)
	n := utf8.RuneCountInString(v)
	limit := map[string]int{
		"thing": 20, "number": 32, "letter": 32, "symbol": 5, "character_string": 32,
		"phone_number": 17, "car_number": 8, "phrase": 5, "amount": 14,
	}[typ]
	if typ == "name" {
		// 10 Chinese characters, or 20 when the value is plain ASCII.
		limit = 10
		if n == len(v) {
			limit = 20
		}
	}
	if limit > 0 && n > limit {
		return fmt.Sprintf("exceeds %d characters", limit)
	}
	return ""
}

func (s *Server) robot(r *http.Request, body []byte) (int, any) {
	if r.Method != http.MethodPost {
		return fail(43002, "require POST method")
	}
	key := r.URL.Query().Get("key")
	var req struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content             string   `json:"content"`
			MentionedList       []string `json:"mentioned_list"`
			MentionedMobileList []string `json:"mentioned_mobile_list"`
		} `json:"text"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
		MarkdownV2 struct {
			Content string `json:"content"`
		} `json:"markdown_v2"`
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if key == "" || s.disabledRobots[key] {
		return fail(93000, errMsg(EndpointRobot, 93000))
	}
	if s.robotLimit > 0 {
		now := s.now()
		recent := s.robotSends[key][:0]
		for _, t := range s.robotSends[key] {
			if now.Sub(t) < time.Minute {
				recent = append(recent, t)
			}
		}
		if len(recent) >= s.robotLimit {
			s.robotSends[key] = recent
			return fail(45009, errMsg(EndpointRobot, 45009))
		}
		s.robotSends[key] = append(recent, now)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(40035, "invalid json")
	}
	msg := RobotMessage{Key: key, MsgType: req.MsgType, Time: s.now()}
	limit := 0
	switch req.MsgType {
	case "text":
		msg.Content, limit = req.Text.Content, RobotTextMaxBytes
		msg.MentionedMobiles, msg.MentionedList = req.Text.MentionedMobileList, req.Text.MentionedList
	case "markdown":
		msg.Content, limit = req.Markdown.Content, RobotMarkdownMaxBytes
	case "markdown_v2":
		msg.Content, limit = req.MarkdownV2.Content, RobotMarkdownMaxBytes
	case "image", "news", "file", "voice", "template_card":
	default:
		return fail(40008, "invalid message type")
	}
	if limit > 0 {
		if msg.Content == "" {
			return fail(44004, "empty content")
		}
		if len(msg.Content) > limit {
			return fail(errcodeRobotContentLong, fmt.Sprintf("%s.content exceed max length %d. invalid Request Parameter", req.MsgType, limit))
		}
	}
	s.robotMsgs = append(s.robotMsgs, msg)
	s.logf("robot message to group key %s (%s): %s", key, msg.MsgType, strings.Join(strings.Fields(msg.Content), " "))
	return http.StatusOK, errBody(0, "ok")
}

// oneLine shows subscribe-message data as keyword=value pairs in keyword order.
func oneLine(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strings.Join(strings.Fields(data[k]), " ")
	}
	return strings.Join(parts, " ")
}

func fail(code int, msg string) (int, any) { return http.StatusOK, errBody(code, msg) }

func errBody(code int, msg string) map[string]any {
	return map[string]any{"errcode": code, "errmsg": msg}
}

func errMsg(endpoint string, code int) string {
	switch code {
	case -1:
		return "system error"
	case 40001:
		return "invalid credential, access_token is invalid or not latest"
	case 40003:
		return "invalid openid"
	case 40029:
		return "invalid code"
	case 40163:
		return "code been used"
	case 40226:
		return "invalid user, risky user is blocked"
	case 41001:
		return "access_token missing"
	case 42001:
		return "access_token expired"
	case 43101:
		return "user refuse to accept the msg"
	case 45009:
		if endpoint == EndpointRobot {
			return "api freq out of limit"
		}
		return "reach max api daily quota limit"
	case 45011:
		return "api minute-quota reach limit, must slower, retry next minute"
	case 47003:
		return "argument invalid!"
	case 93000:
		return "invalid webhook url"
	}
	return fmt.Sprintf("wxfake injected error %d", code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errcode":-1,"errmsg":"wxfake: marshal"}`)
	}
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func parseBody(raw []byte) map[string]any {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func cloneStrings(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
