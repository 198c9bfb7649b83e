package multiinstance_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// robotLog stands between each instance and the fake WeCom (each instance gets its own proxy as
// its WeCom API base) and notes every robot message WeCom accepted: through which instance, when
// WeCom answered, and whether the instance was still there to read the answer. A message WeCom
// accepted but its sender may not have recorded as sent is the only one whose alerts may go out
// twice (docs/notifications.md, "residual window"); the test allows exactly those.
type robotLog struct {
	mu   sync.Mutex
	sent []proxiedRobot
}

// proxiedRobot is one robot message WeCom accepted.
type proxiedRobot struct {
	instance   int
	content    string
	covers     int       // how many tip alerts it stands for: its "N 条待签收", or 1
	answeredAt time.Time // when WeCom's answer came back through the proxy
	gone       bool      // the instance had stopped waiting (its timeout, or it died) before the answer reached it
}

// proxy starts instance n's WeCom API base in front of target.
func (l *robotLog) proxy(t *testing.T, n int, target string) string {
	client := &http.Client{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := http.NewRequest(r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := client.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, werr := w.Write(answer)
		if f, ok := w.(http.Flusher); ok && werr == nil {
			f.Flush()
		}
		if r.URL.Path == "/cgi-bin/webhook/send" {
			l.note(n, body, answer, werr != nil || r.Context().Err() != nil)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (l *robotLog) note(n int, body, answer []byte, gone bool) {
	var a struct {
		ErrCode int `json:"errcode"`
	}
	if json.Unmarshal(answer, &a) != nil || a.ErrCode != 0 {
		return // not accepted: its alerts are due again, rightly
	}
	var m struct {
		Text     struct{ Content string } `json:"text"`
		Markdown struct{ Content string } `json:"markdown"`
	}
	_ = json.Unmarshal(body, &m)
	content := m.Markdown.Content + m.Text.Content
	covers := 1
	if c := joinedCount.FindStringSubmatch(content); c != nil {
		covers, _ = strconv.Atoi(c[1])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, proxiedRobot{instance: n, content: content, covers: covers, answeredAt: time.Now(), gone: gone})
}

// unrecorded is the accepted messages whose sender may not have recorded them, and the alerts
// they cover: those whose answer the sender did not wait for, and those the killed instance had
// answered in the last moments before its kill (it records a send a few milliseconds after the
// answer; 3 s is ample on a loaded machine and far below the 10 s lease).
func (l *robotLog) unrecorded(killed int, kill time.Time) ([]proxiedRobot, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []proxiedRobot
	covers := 0
	for _, m := range l.sent {
		if m.gone || m.instance == killed && m.answeredAt.After(kill.Add(-3*time.Second)) {
			out = append(out, m)
			covers += m.covers
		}
	}
	return out, covers
}
