// Package latency measures how long a risk tip takes from submission to the county group's
// robot (the target: p99 within 2 s under load). It runs only with SHILIU_MEASURE_ALERTS=1:
//
//	SHILIU_MEASURE_ALERTS=1 go test -v -count=1 ./server/notify/latency/
//
// with SHILIU_TEST_DATABASE_DSN / SHILIU_TEST_REDIS_URL for MariaDB and Redis. The server runs
// with the production notification settings (poll interval 1 s) and the wall clock.
package latency_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
)

func TestMain(m *testing.M) {
	code := m.Run()
	apitest.Cleanup()
	os.Exit(code)
}

// Counties of 石家庄 and their first township: one county staff group each.
var counties = [][2]string{
	{"130102000000", "130102001000"}, {"130104000000", "130104001000"}, {"130105000000", "130105001000"},
	{"130107000000", "130107001000"}, {"130108000000", "130108001000"}, {"130109000000", "130109100000"},
	{"130110000000", "130110100000"}, {"130111000000", "130111100000"}, {"130121000000", "130121100000"},
	{"130123000000", "130123100000"},
}

// productionServer replaces the shared test server (fast polling, fake clock) by one with the
// production notification settings on the same database and fake WeChat; stopped at cleanup.
func productionServer(t *testing.T) (*app.App, *apitest.Env, config.Config) {
	if os.Getenv("SHILIU_MEASURE_ALERTS") == "" {
		t.Skip("set SHILIU_MEASURE_ALERTS=1 to measure")
	}
	shared := apitest.Shared(t)
	shared.Stop()
	cfg := shared.Config
	def := config.Default().Notify
	cfg.Notify.PollInterval, cfg.Notify.BatchSize, cfg.Notify.Concurrency = def.PollInterval, def.BatchSize, def.Concurrency
	cfg.Notify.RobotPerMinute, cfg.Notify.RobotBurst = def.RobotPerMinute, def.RobotBurst
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, app.WithClock(clock.Real{}), app.WithLogger(shared.App.Log))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	addr, err := a.Listen()
	if err != nil {
		cancel()
		a.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	return a, &apitest.Env{App: a, URL: "http://" + addr.String(), WX: shared.WX, Clock: clock.NewFake(time.Now()), Config: cfg}, cfg
}

func TestAlertLatencyUnderLoad(t *testing.T) {
	a, e, cfg := productionServer(t)
	shared := e

	// Each county: a staff group robot and three instructors.
	var instructors []*apitest.Client
	for i, c := range counties {
		staff := e.Staff(t, "county_staff", c[0])
		staff.Must(http.StatusCreated, "POST", "/api/v1/notification-groups", map[string]any{
			"name": fmt.Sprintf("县%d", i), "region_code": c[0], "audience": "county_staff", "webhook_key": fmt.Sprintf("latency%02d", i)})
		for range 3 {
			ins, _ := e.InstructorClient(t, staff, staff.Unit("village", c[1]))
			instructors = append(instructors, ins)
		}
	}

	// Load: 30 phones for 30 s, like a month-end rush. Each submits a tip every 5 s (6 each, 180
	// in all: 18 per county robot, under WeCom's 20 a minute, so pacing is not what is measured)
	// and visit logs back to back in between (their events are consumed without notifications).
	const tipsPerPhone, every = 6, 5 * time.Second
	type sample struct {
		title     string
		submitted time.Time
		answered  time.Duration
	}
	var mu sync.Mutex
	var samples []sample
	var visits int
	var wg sync.WaitGroup
	start := time.Now()
	for p, ins := range instructors {
		wg.Go(func() {
			next := start.Add(time.Duration(p) * every / time.Duration(len(instructors)))
			for range tipsPerPhone {
				for time.Now().Before(next) {
					ins.Submit("visit", apitest.RecordBody("visit", time.Now().Add(-time.Hour).Format(time.RFC3339)))
					mu.Lock()
					visits++
					mu.Unlock()
				}
				body := apitest.RecordBody("tip", time.Now().Add(-time.Hour).Format(time.RFC3339))
				title := body["title"].(string)
				t0 := time.Now()
				ins.Submit("tip", body)
				mu.Lock()
				samples = append(samples, sample{title: title, submitted: t0, answered: time.Since(t0)})
				mu.Unlock()
				next = next.Add(every)
			}
		})
	}
	wg.Wait()
	loadTime := time.Since(start)

	deadline := time.Now().Add(2 * time.Minute)
	var lat, submit []float64
	for {
		got := map[string]time.Time{}
		for _, m := range shared.WX.RobotMessages() {
			if strings.HasPrefix(m.Key, "latency") {
				for _, s := range samples {
					if strings.Contains(m.Content, s.title) {
						got[s.title] = m.Time
					}
				}
			}
		}
		if len(got) == len(samples) {
			lat, submit = nil, nil
			for _, s := range samples {
				lat = append(lat, got[s.title].Sub(s.submitted).Seconds())
				submit = append(submit, s.answered.Seconds())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts arrived", len(got), len(samples))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("backend %s: %d tips and %d visit logs from %d phones in %.1f s (%.0f records/s); poll interval %v",
		apitest.Backend(), len(samples), visits, len(instructors), loadTime.Seconds(),
		float64(len(samples)+visits)/loadTime.Seconds(), cfg.Notify.PollInterval)
	t.Logf("submission (HTTP 201):       p50 %s  p90 %s  p99 %s  max %s", q(submit, .5), q(submit, .9), q(submit, .99), q(submit, 1))
	t.Logf("tip submitted → robot message: p50 %s  p90 %s  p99 %s  max %s", q(lat, .5), q(lat, .9), q(lat, .99), q(lat, 1))

	// Where the time goes: event written → notification row (fan-out), row → sent (delivery).
	var rows []struct {
		EventAt, RowAt, SentAt time.Time
	}
	if err := a.DB.Raw(`SELECT e.created_at AS event_at, n.created_at AS row_at, n.sent_at AS sent_at
		FROM notifications n JOIN events e ON e.id = n.event_id
		WHERE n.channel = 'robot' AND n.status = 'sent' AND e.kind = 'tip.submitted' AND e.created_at >= ?`, start).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var fan, send []float64
	for _, r := range rows {
		fan = append(fan, r.RowAt.Sub(r.EventAt).Seconds())
		send = append(send, r.SentAt.Sub(r.RowAt).Seconds())
	}
	t.Logf("  of which event → row (fan-out): p50 %s  p99 %s;  row → sent: p50 %s  p99 %s",
		q(fan, .5), q(fan, .99), q(send, .5), q(send, .99))
}

func q(xs []float64, p float64) string {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	if i < 0 {
		i = 0
	}
	return fmt.Sprintf("%.0f ms", s[i]*1000)
}

// A flood: 400 tips in 40 s to one county (ten phones, one tip a second each), one county robot
// that takes 20 messages a minute. Each tip's robot alert is the robot message that carried it,
// alone or joined with the others waiting (notify/join.go); the time is from the start of the
// tip's POST to the row being sent (the fake WeCom answers at once). Every tip must be counted in
// exactly one robot message.
func TestAlertsThroughAFlood(t *testing.T) {
	a, e, _ := productionServer(t)
	c := counties[0]
	staff := e.Staff(t, "county_staff", c[0])
	var group struct{ ID int64 }
	staff.Must(http.StatusCreated, "POST", "/api/v1/notification-groups", map[string]any{
		"name": "洪水县", "region_code": c[0], "audience": "county_staff", "webhook_key": "floodrobot01"}).JSON(t, &group)
	var phones []*apitest.Client
	for range 10 {
		ins, _ := e.InstructorClient(t, staff, staff.Unit("village", c[1]))
		phones = append(phones, ins)
	}
	const perPhone = 40
	var mu sync.Mutex
	submitted := map[int64]time.Time{}
	var wg sync.WaitGroup
	start := time.Now()
	for p, ins := range phones {
		wg.Go(func() {
			next := start.Add(time.Duration(p) * time.Second / time.Duration(len(phones)))
			for range perPhone {
				time.Sleep(time.Until(next))
				t0 := time.Now()
				id := ins.Submit("tip", apitest.RecordBody("tip", time.Now().Add(-time.Hour).Format(time.RFC3339)))
				mu.Lock()
				submitted[id] = t0
				mu.Unlock()
				next = next.Add(time.Second)
			}
		})
	}
	wg.Wait()
	loadTime := time.Since(start)

	deadline := time.Now().Add(5 * time.Minute)
	var rows []struct {
		SubjectID int64
		SentAt    *time.Time
	}
	for {
		rows = rows[:0]
		if err := a.DB.Raw(`SELECT subject_id, sent_at FROM notifications WHERE channel = 'robot' AND event_kind = 'tip.submitted'
			AND target_kind = 'group' AND target = ? AND subject_id IN ?`, fmt.Sprint(group.ID), keys(submitted)).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, r := range rows {
			if r.SentAt != nil {
				sent++
			}
		}
		if sent == len(submitted) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d robot alerts sent", sent, len(submitted))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var lat []float64
	for _, r := range rows {
		lat = append(lat, r.SentAt.Sub(submitted[r.SubjectID]).Seconds())
	}
	covered, messages := 0, 0
	for _, m := range e.WX.RobotMessages() {
		if m.Key != "floodrobot01" {
			continue
		}
		messages++
		if n := joinedCount.FindStringSubmatch(m.Content); n != nil {
			k, _ := strconv.Atoi(n[1])
			covered += k
		} else {
			covered++
		}
	}
	if covered != len(submitted) {
		t.Fatalf("%d robot messages cover %d tips, want each of the %d once", messages, covered, len(submitted))
	}
	t.Logf("backend %s: %d tips to one county in %.1f s; %d robot messages", apitest.Backend(), len(submitted), loadTime.Seconds(), messages)
	t.Logf("tip submitted → its robot alert sent: p50 %s  p90 %s  p99 %s  max %s", q(lat, .5), q(lat, .9), q(lat, .99), q(lat, 1))
}

var joinedCount = regexp.MustCompile(`<font color="warning">(\d+) 条待签收</font>`)

func keys(m map[int64]time.Time) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
