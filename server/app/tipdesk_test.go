package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
)

// deskEvent is one server-sent event of GET /api/v1/tips/stream.
type deskEvent struct {
	Event string
	ID    string
	Data  struct {
		ID     int64  `json:"id"`
		TipID  int64  `json:"tip_id"`
		Kind   string `json:"kind"`
		LastID int64  `json:"last_id"`
		Live   bool   `json:"live"`
	}
}

// deskStream reads a tip desk stream in the background.
type deskStream struct {
	t      *testing.T
	events chan deskEvent
	cancel context.CancelFunc
	last   int64
	live   bool // the ready event's: woken through Redis
}

// openDesk opens the stream as the console does: fetch with the access token in the header,
// and Last-Event-ID when resuming.
func openDesk(t *testing.T, baseURL, token string, lastID int64) *deskStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", baseURL+"/api/v1/tips/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(lastID, 10))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &deskStream{t: t, events: make(chan deskEvent, 100), cancel: cancel}
	go func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev deskEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					s.events <- ev
				}
				ev = deskEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Data); err != nil {
					t.Errorf("data %q: %v", line, err)
				}
			}
		}
	}()
	t.Cleanup(s.close)
	if ev := s.next(2 * time.Second); ev.Event != "ready" {
		t.Fatalf("first event %+v, want ready", ev)
	} else {
		s.last, s.live = ev.Data.LastID, ev.Data.Live
	}
	return s
}

func (s *deskStream) close() { s.cancel() }

// next is the next event within d, or the zero event.
func (s *deskStream) next(d time.Duration) deskEvent {
	select {
	case ev, ok := <-s.events:
		if ok && ev.Event == "tip" {
			if strconv.FormatInt(ev.Data.ID, 10) != ev.ID {
				s.t.Errorf("event id %q and data id %d differ", ev.ID, ev.Data.ID)
			}
			s.last = ev.Data.ID
		}
		return ev
	case <-time.After(d):
		return deskEvent{}
	}
}

// waitFor reads events until one about tip of kind comes, within d, and returns what came before.
func (s *deskStream) waitFor(tip int64, kind string, d time.Duration) (before []deskEvent, ok bool) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		ev := s.next(time.Until(end))
		if ev.Event == "" {
			break
		}
		if ev.Data.TipID == tip && ev.Data.Kind == kind {
			return before, true
		}
		before = append(before, ev)
	}
	return before, false
}

// TestTipDeskStream: a tip submitted on one instance reaches a county desk open on another
// within 2 s, woken through Redis; another county's desk never hears of it; a desk that
// reconnects with its last id gets what it missed.
func TestTipDeskStream(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	// A second instance on the same database and Redis (the embedded one of the shared server when
	// the tests run without a Redis of their own).
	other := apitest.Another(t, e.Clock, func(c *config.Config) {
		if m := e.App.Redis.Mini(); m != nil {
			c.Redis.URL = "redis://" + m.Addr() + "/0"
		}
	})
	staffB1 := e.Staff(t, "county_staff", apitest.CountyB1)
	desk := openDesk(t, other.URL, w.staff.Token, 0)
	deskB1 := openDesk(t, e.URL, staffB1.Token, 0)
	if !desk.live || !deskB1.live {
		t.Errorf("desks with Redis say they are not live: %v %v", desk.live, deskB1.live)
	}

	start := time.Now()
	tip := w.author.Submit("tip", tipBody(e, "serious"))
	if _, ok := desk.waitFor(tip, "tip.submitted", 2*time.Second); !ok {
		t.Fatalf("tip %d did not reach the county desk on the other instance within 2 s", tip)
	}
	t.Logf("submitted → on the desk stream of another instance: %v", time.Since(start))

	// The B1 desk hears of its own county's tip, submitted after, and of nothing before it: events
	// come in id order, so the A1 tip would have come first.
	tipB1 := w.callers["instructor_other"].Submit("tip", tipBody(e, "general"))
	before, ok := deskB1.waitFor(tipB1, "tip.submitted", 2*time.Second)
	if !ok {
		t.Fatalf("tip %d did not reach its own county's desk", tipB1)
	}
	for _, ev := range append(before, deskB1.next(200*time.Millisecond)) {
		if ev.Data.TipID == tip {
			t.Fatalf("county B1's desk was told of county A1's tip: %+v", ev)
		}
	}
	if _, ok := desk.waitFor(tipB1, "tip.submitted", 300*time.Millisecond); ok {
		t.Fatal("county A1's desk was told of county B1's tip")
	}

	// A network drop: what happens meanwhile comes when the desk reconnects with its last id.
	last := desk.last
	desk.close()
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", tip, "acknowledge"), nil)
	tip2 := w.author.Submit("tip", tipBody(e, "major"))
	again := openDesk(t, e.URL, w.staff.Token, last)
	if again.last != last {
		t.Errorf("resumed stream starts at %d, want %d", again.last, last)
	}
	if _, ok := again.waitFor(tip, "tip.acknowledged", 2*time.Second); !ok {
		t.Fatal("the acknowledgement made during the drop was not sent after reconnecting")
	}
	if _, ok := again.waitFor(tip2, "tip.submitted", 2*time.Second); !ok {
		t.Fatal("the tip submitted during the drop was not sent after reconnecting")
	}

	// Only staff open a desk; a cursor is a number.
	if eb := w.author.Must(http.StatusForbidden, "GET", "/api/v1/tips/stream", nil).Err(t); eb.Code != "forbidden" {
		t.Errorf("instructor: %+v", eb)
	}
	if eb := w.staff.Must(http.StatusBadRequest, "GET", "/api/v1/tips/stream?after_id=x", nil).Err(t); eb.Code != "invalid_argument" {
		t.Errorf("bad cursor: %+v", eb)
	}
}

// TestTipDeskPollsWithoutRedis: an instance whose Redis is unreachable still brings tips to its
// desks, by reading the outbox every few seconds.
func TestTipDeskPollsWithoutRedis(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	cut := apitest.Another(t, e.Clock, func(c *config.Config) { c.Redis.URL = "redis://127.0.0.1:1/0" })
	desk := openDesk(t, cut.URL, w.staff.Token, 0)
	if desk.live {
		t.Error("a desk without Redis says it is live")
	}
	start := time.Now()
	tip := w.author.Submit("tip", tipBody(e, "general"))
	if _, ok := desk.waitFor(tip, "tip.submitted", 5*time.Second); !ok {
		t.Fatal("without Redis the desk did not get the tip within 5 s")
	}
	t.Logf("submitted → on the desk stream without Redis: %v", time.Since(start))
}
