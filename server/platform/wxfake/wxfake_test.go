package wxfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type answer map[string]any

func (a answer) code() int {
	f, _ := a["errcode"].(float64)
	return int(f)
}

func call(t *testing.T, s *Server, method, pathQuery string, body any) (int, answer) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, s.URL()+pathQuery, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err) // not Fatal: also called from goroutines
		return 0, nil
	}
	defer resp.Body.Close()
	var a answer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return resp.StatusCode, a
}

func login(t *testing.T, s *Server, code string) answer {
	t.Helper()
	_, a := call(t, s, "GET", "/sns/jscode2session?appid=a&secret=s&grant_type=authorization_code&js_code="+code, nil)
	return a
}

func token(t *testing.T, s *Server, force bool) string {
	t.Helper()
	_, a := call(t, s, "POST", "/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": "a", "secret": "s", "force_refresh": force})
	tok, _ := a["access_token"].(string)
	if tok == "" {
		t.Fatalf("no token: %v", a)
	}
	return tok
}

func TestCodes(t *testing.T) {
	s := NewTestServer(t)
	if a := login(t, s, "c1"); a["openid"] != "o_c1" || a["session_key"] == "" || a.code() != 0 {
		t.Fatalf("%v", a)
	}
	if a := login(t, s, "c1"); a.code() != 40163 {
		t.Fatalf("reuse: %v", a)
	}
	s.RegisterCode("c2", "oid", "uid")
	if a := login(t, s, "c2"); a["openid"] != "oid" || a["unionid"] != "uid" {
		t.Fatalf("%v", a)
	}
	s.ExpireCode("c3")
	if a := login(t, s, "c3"); a.code() != 40029 {
		t.Fatalf("%v", a)
	}
	if _, a := call(t, s, "GET", "/sns/jscode2session?appid=a&js_code=x&grant_type=authorization_code", nil); a.code() != 41004 {
		t.Fatalf("missing secret: %v", a)
	}
}

func TestCredentials(t *testing.T) {
	s := NewTestServer(t, WithCredentials("a", "right"))
	if a := login(t, s, "c"); a.code() != 40125 {
		t.Fatalf("%v", a)
	}
}

func TestTokens(t *testing.T) {
	s := NewTestServer(t)
	t1 := token(t, s, false)
	if t2 := token(t, s, false); t2 != t1 {
		t.Fatal("stable token changed without force_refresh")
	}
	s.SetPhone("p", "13800000000")
	_, a := call(t, s, "POST", "/wxa/business/getuserphonenumber?access_token="+t1, map[string]any{"code": "p"})
	info, _ := a["phone_info"].(map[string]any)
	if a.code() != 0 || info["purePhoneNumber"] != "13800000000" || info["countryCode"] != "86" {
		t.Fatalf("%v", a)
	}

	s.InvalidateTokens()
	if _, a := call(t, s, "POST", "/wxa/business/getuserphonenumber?access_token="+t1, map[string]any{"code": "p"}); a.code() != 40001 {
		t.Fatalf("%v", a)
	}
	t3 := token(t, s, false)
	if t3 == t1 {
		t.Fatal("invalidated token reissued")
	}
	t4 := token(t, s, true)
	if t4 == t3 {
		t.Fatal("force_refresh kept the token")
	}
	if _, a := call(t, s, "POST", "/cgi-bin/message/subscribe/send?access_token="+t3, map[string]any{"touser": "o", "template_id": "t", "data": map[string]any{"thing1": map[string]any{"value": "x"}}}); a.code() != 40001 {
		t.Fatalf("forced refresh should end the old stable token: %v", a)
	}
	s.ExpireTokens()
	if _, a := call(t, s, "POST", "/cgi-bin/message/subscribe/send?access_token="+t4, map[string]any{}); a.code() != 42001 {
		t.Fatalf("%v", a)
	}
	if _, a := call(t, s, "POST", "/cgi-bin/message/subscribe/send", map[string]any{}); a.code() != 41001 {
		t.Fatalf("%v", a)
	}
	if _, a := call(t, s, "GET", "/cgi-bin/token?grant_type=client_credential&appid=a&secret=s", nil); a["access_token"] == "" {
		t.Fatalf("%v", a)
	}
	if n := s.TokenFetches(); n != 5 {
		t.Fatalf("%d fetches", n)
	}
}

func TestSubscribeRecording(t *testing.T) {
	s := NewTestServer(t)
	tok := token(t, s, false)
	_, a := call(t, s, "POST", "/cgi-bin/message/subscribe/send?access_token="+tok, map[string]any{
		"touser": "o1", "template_id": "t1", "page": "p", "miniprogram_state": "developer", "lang": "zh_CN",
		"data": map[string]any{"thing1": map[string]any{"value": "消防"}, "number2": map[string]any{"value": 3}},
	})
	if a.code() != 0 {
		t.Fatalf("%v", a)
	}
	m := s.SubscribeMessages()
	if len(m) != 1 || m[0].MiniprogramState != "developer" || m[0].Data["thing1"] != "消防" || m[0].Data["number2"] != "3" {
		t.Fatalf("%+v", m)
	}
	m[0].Data["thing1"] = "changed"
	if s.SubscribeMessages()[0].Data["thing1"] != "消防" {
		t.Fatal("SubscribeMessages shares state")
	}
	r := s.Requests(EndpointSubscribe)
	if len(r) != 1 || r[0].Body["touser"] != "o1" || r[0].Query.Get("access_token") != tok {
		t.Fatalf("%+v", r)
	}
	_, a = call(t, s, "POST", "/cgi-bin/message/subscribe/send?access_token="+tok, map[string]any{
		"touser": "o1", "template_id": "t1", "data": map[string]any{"phrase1": map[string]any{"value": "超过五个字了"}},
	})
	if a.code() != 47003 {
		t.Fatalf("%v", a)
	}
}

func TestRobot(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := NewTestServer(t, WithClock(clock), WithRobotRateLimit(2))
	send := func(key string, body any) int {
		_, a := call(t, s, "POST", "/cgi-bin/webhook/send?key="+key, body)
		return a.code()
	}
	text := func(c string) any { return map[string]any{"msgtype": "text", "text": map[string]any{"content": c}} }

	if c := send("k", text("a")); c != 0 {
		t.Fatal(c)
	}
	if c := send("k", map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": strings.Repeat("a", RobotMarkdownMaxBytes+1)}}); c != 40058 {
		t.Fatal(c)
	}
	if c := send("k", text("b")); c != 45009 {
		t.Fatal("rate limit:", c)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if c := send("k", text(strings.Repeat("a", RobotTextMaxBytes+1))); c != 40058 {
		t.Fatal(c)
	}
	if c := send("k", map[string]any{"msgtype": "nope"}); c != 40008 {
		t.Fatal(c)
	}
	s.DisableRobot("k")
	if c := send("k", text("c")); c != 93000 {
		t.Fatal(c)
	}
	if c := send("", text("c")); c != 93000 {
		t.Fatal(c)
	}
	if m := s.RobotMessages(); len(m) != 1 || m[0].Content != "a" || m[0].Key != "k" {
		t.Fatalf("%+v", m)
	}
}

func TestInjectionDelayReset(t *testing.T) {
	s := NewTestServer(t)
	s.Inject(EndpointCode2Session, 45011, 2)
	s.InjectHTTPStatus(EndpointCode2Session, 502, 1)
	if a := login(t, s, "x"); a.code() != 45011 {
		t.Fatal(a)
	}
	if a := login(t, s, "x"); a.code() != 45011 {
		t.Fatal(a)
	}
	if st, _ := call(t, s, "GET", "/sns/jscode2session?js_code=x", nil); st != 502 {
		t.Fatal(st)
	}
	if a := login(t, s, "x"); a["openid"] != "o_x" {
		t.Fatal("injected calls must not consume the code:", a)
	}

	s.SetDelay(EndpointRobot, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.URL()+"/cgi-bin/webhook/send?key=k", strings.NewReader(`{}`))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("want timeout")
	}

	s.Reset()
	if len(s.Requests(EndpointCode2Session)) != 0 || len(s.Requests(EndpointRobot)) != 0 {
		t.Fatal("Reset kept requests")
	}
	if a := login(t, s, "x"); a["openid"] != "o_x" {
		t.Fatal("Reset kept used codes:", a)
	}
}

func TestConcurrent(t *testing.T) {
	s := NewTestServer(t, WithRobotRateLimit(0))
	tok := token(t, s, false)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			login(t, s, fmt.Sprint("c", i))
			call(t, s, "POST", "/cgi-bin/webhook/send?key=k", map[string]any{"msgtype": "text", "text": map[string]any{"content": "x"}})
			call(t, s, "POST", "/cgi-bin/message/subscribe/send?access_token="+tok, map[string]any{"touser": "o", "template_id": "t", "data": map[string]any{"thing1": map[string]any{"value": "x"}}})
			_ = s.Requests(EndpointRobot)
			_ = s.RobotMessages()
		})
	}
	wg.Wait()
	if len(s.RobotMessages()) != 20 || len(s.SubscribeMessages()) != 20 || len(s.Requests(EndpointCode2Session)) != 20 {
		t.Fatal("lost messages")
	}
}
