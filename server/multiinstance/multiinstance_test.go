// Package multiinstance_test runs Shiliu as it runs in a province: three `shiliu serve`
// processes (the built binary) on one MariaDB and one Redis, the photos in the object store,
// phones spread over the instances by a load balancer that sends a phone to the next instance
// when one does not answer. One instance is killed (SIGKILL) in mid-load. Afterwards nothing the
// phones sent is lost or stored twice, every tip alert reached its county's WeCom group once,
// and photos uploaded through one instance download through another.
//
// It needs SHILIU_TEST_DATABASE_DSN, SHILIU_TEST_REDIS_URL (processes share them; the embedded
// SQLite and Redis are one process's) and SHILIU_TEST_S3_URL; .ci/run sets all three on its
// MariaDB pass. WeChat/WeCom is the test's fake HTTP server.
package multiinstance_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/upload/s3test"
	"gopkg.in/yaml.v3"
)

func TestMain(m *testing.M) {
	code := m.Run()
	apitest.Cleanup()
	os.Exit(code)
}

// instance is one `shiliu serve` process.
type instance struct {
	n    int
	url  string
	cmd  *exec.Cmd
	log  string
	dead bool
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func photo(t *testing.T, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x*4 + seed), uint8(y*5 + seed*3), uint8(seed * 7), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// joinedCount is how the dispatcher says a robot message stands for several waiting tips.
var joinedCount = regexp.MustCompile(`<font color="warning">(\d+) 条待签收</font>`)

func TestThreeInstancesOneKilled(t *testing.T) {
	if os.Getenv("SHILIU_TEST_DATABASE_DSN") == "" || os.Getenv("SHILIU_TEST_REDIS_URL") == "" {
		t.Skip("needs SHILIU_TEST_DATABASE_DSN and SHILIU_TEST_REDIS_URL: three processes share one MariaDB and one Redis")
	}
	storageURL := s3test.URL(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "shiliu")
	build := exec.Command("go", "build", "-o", bin, "github.com/shiliu/shiliu/server/cmd/shiliu")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build shiliu: %v", err)
	}

	// The people, made through the shared test server, which then stops: the three processes
	// take over its database, Redis prefix, secrets and fake WeChat.
	e := apitest.Shared(t)
	type phone struct {
		token  string
		county int
	}
	var phones []phone
	var robotKeys []string
	for c := range 3 {
		a := e.Area(t)
		staff := e.Staff(t, "county_staff", a.County)
		key := "multi" + apitest.Unique()
		robotKeys = append(robotKeys, key)
		staff.Must(http.StatusCreated, "POST", "/api/v1/notification-groups", map[string]any{
			"name": "县" + a.CountyName, "region_code": a.County, "audience": "county_staff", "webhook_key": key})
		for range 4 {
			ins, _ := e.InstructorClient(t, staff, staff.Unit("village", a.Township()))
			phones = append(phones, phone{token: ins.Token, county: c})
		}
	}
	cfg := e.Config
	e.Stop()

	cfg.Uploads.StorageURL = storageURL
	cfg.Uploads.Dir = filepath.Join(dir, "unused-uploads")
	cfg.Notify.Lease = 10 * time.Second // a killed instance's sends are taken over after 10 s
	cfg.WeChat.Timeout = 2 * time.Second
	cfg.Notify.PollInterval = 200 * time.Millisecond
	cfg.Log.Level = "warn"
	var insts []*instance
	robots := &robotLog{}
	for n := range 3 {
		c := cfg
		c.HTTP.Addr = freeAddr(t)
		c.WeChat.WeComAPIBase = robots.proxy(t, n, cfg.WeChat.WeComAPIBase)
		b, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("shiliu%d.yaml", n))
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		in := &instance{n: n, url: "http://" + c.HTTP.Addr, log: filepath.Join(dir, fmt.Sprintf("shiliu%d.log", n))}
		logf, err := os.Create(in.log)
		if err != nil {
			t.Fatal(err)
		}
		in.cmd = exec.Command(bin, "--config", file, "serve")
		in.cmd.Env = append(os.Environ(), "SHILIU_CONFIG=")
		in.cmd.Stdout, in.cmd.Stderr = logf, logf
		if err := in.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		insts = append(insts, in)
		t.Cleanup(func() {
			if !in.dead {
				in.cmd.Process.Signal(syscall.SIGTERM)
				in.cmd.Wait()
			}
			logf.Close()
			if t.Failed() {
				b, _ := os.ReadFile(in.log)
				t.Logf("instance %d log:\n%s", in.n, b)
			}
		})
	}
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	for _, in := range insts {
		deadline := time.Now().Add(90 * time.Second)
		for {
			r, err := hc.Get(in.url + "/readyz")
			if err == nil {
				r.Body.Close()
				if r.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(in.log)
				t.Fatalf("instance %d not ready: %v\n%s", in.n, err, b)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// The load balancer: a phone's request goes to its instance; when that one does not answer
	// (connection refused or reset, 502/503), the phone sends the same request again (same
	// client_id) to the next instance, as the mini-program's outbox does.
	var lbMu sync.Mutex
	alive := func(n int) bool {
		lbMu.Lock()
		defer lbMu.Unlock()
		return !insts[n].dead
	}
	send := func(start int, do func(base string) (*http.Response, error)) (int, []byte, int) {
		for attempt := 0; attempt < 30; attempt++ {
			n := (start + attempt) % len(insts)
			if attempt >= len(insts) {
				time.Sleep(200 * time.Millisecond)
			}
			r, err := do(insts[n].url)
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode >= 500 {
				continue
			}
			return r.StatusCode, b, n
		}
		return 0, nil, -1
	}
	authed := func(method, url, token, ct string, body []byte) (*http.Response, error) {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return hc.Do(req)
	}

	type sentUpload struct {
		id    int64
		data  []byte
		via   int
		token string
	}
	type sentRecord struct {
		clientID string
		kind     string
		title    string
		county   int
		id       int64
	}
	var (
		mu      sync.Mutex
		records []sentRecord
		uploads []sentUpload
		failed  []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failed = append(failed, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	const loadFor = 24 * time.Second
	start := time.Now()
	var wg sync.WaitGroup
	for p, ph := range phones {
		wg.Go(func() {
			home := p % len(insts)
			for j := 0; time.Since(start) < loadFor; j++ {
				kind := "visit"
				var attachments []int64
				if j%3 == 0 {
					kind = "tip"
					data := photo(t, p*100+j)
					var body bytes.Buffer
					mw := multipart.NewWriter(&body)
					_ = mw.WriteField("client_id", uuid())
					fw, _ := mw.CreateFormFile("file", fmt.Sprintf("p%d-%d.png", p, j))
					fw.Write(data)
					mw.Close()
					status, out, via := send(home, func(base string) (*http.Response, error) {
						return authed("POST", base+"/api/v1/uploads", ph.token, mw.FormDataContentType(), body.Bytes())
					})
					if status != http.StatusCreated && status != http.StatusOK {
						fail("phone %d upload: %d %s", p, status, out)
						return
					}
					var v struct{ ID int64 }
					if err := json.Unmarshal(out, &v); err != nil || v.ID == 0 {
						fail("phone %d upload answer %s", p, out)
						return
					}
					attachments = []int64{v.ID}
					mu.Lock()
					uploads = append(uploads, sentUpload{id: v.ID, data: data, via: via, token: ph.token})
					mu.Unlock()
				}
				rb := apitest.RecordBody(kind, time.Now().Add(-time.Hour).Format(time.RFC3339))
				if attachments != nil {
					rb["attachments"] = attachments
				}
				raw, _ := json.Marshal(rb)
				status, out, _ := send(home, func(base string) (*http.Response, error) {
					return authed("POST", base+"/api/v1/"+apitest.RecordPaths[kind], ph.token, "application/json", raw)
				})
				if status != http.StatusCreated && status != http.StatusOK {
					fail("phone %d %s: %d %s", p, kind, status, out)
					return
				}
				var v struct{ ID int64 }
				if err := json.Unmarshal(out, &v); err != nil || v.ID == 0 {
					fail("phone %d %s answer %s", p, kind, out)
					return
				}
				mu.Lock()
				records = append(records, sentRecord{clientID: rb["client_id"].(string), kind: kind, title: rb["title"].(string), county: ph.county, id: v.ID})
				mu.Unlock()
			}
		})
	}
	// Kill the third instance in mid-load, once it has answered some uploads.
	time.Sleep(loadFor / 3)
	lbMu.Lock()
	killedAt, killTime := time.Since(start), time.Now()
	if err := insts[2].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	insts[2].dead = true
	lbMu.Unlock()
	_ = insts[2].cmd.Wait()
	wg.Wait()
	loadTime := time.Since(start)
	for _, f := range failed {
		t.Error(f)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Nothing lost, nothing twice: each record the phones sent is stored once, under the id
	// they were answered with.
	db, err := database.Open(context.Background(), cfg.Database.DSN, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tips := map[string]sentRecord{}
	viaKilled := 0
	for _, u := range uploads {
		if u.via == 2 {
			viaKilled++
		}
	}
	for _, r := range records {
		var rows []struct{ ID int64 }
		if err := db.Raw("SELECT id FROM records WHERE client_id = ?", r.clientID).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].ID != r.id {
			t.Errorf("%s %s answered as %d: stored as %v", r.kind, r.clientID, r.id, rows)
		}
		if r.kind == "tip" {
			tips[r.title] = r
		}
	}
	var uploadRows int64
	db.Raw("SELECT COUNT(*) FROM uploads WHERE owner_kind <> ''").Scan(&uploadRows)
	if int(uploadRows) != len(uploads) {
		t.Errorf("%d uploads attached, %d sent", uploadRows, len(uploads))
	}

	// Every tip alert went out once: the county robots' messages cover each tip exactly once
	// (a message may stand for several waiting tips).
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var pending int64
		if err := db.Raw(`SELECT COUNT(*) FROM notifications WHERE channel = 'robot' AND event_kind = 'tip.submitted' AND sent_at IS NULL`).
			Scan(&pending).Error; err != nil {
			t.Fatal(err)
		}
		covered, messages, seen := 0, 0, map[string]int{}
		for _, m := range e.WX.RobotMessages() {
			if !strings.HasPrefix(m.Key, "multi") {
				continue
			}
			messages++
			if n := joinedCount.FindStringSubmatch(m.Content); n != nil {
				k, _ := strconv.Atoi(n[1])
				covered += k
			} else {
				covered++
			}
			for title := range tips {
				if strings.Contains(m.Content, title) {
					seen[title]++
				}
			}
		}
		if covered >= len(tips) && pending == 0 {
			// The one duplicate docs/notifications.md allows (the "residual window"): WeCom accepted
			// a message whose sender did not record it as sent — the killed instance died between
			// WeCom's answer and its UPDATE, or a sender gave up waiting for an answer WeCom then
			// gave. Its alerts go out again after the lease, alone or joined with others (so with
			// other content). Those messages are known from the proxies; any other extra fails.
			risky, riskyCover := robots.unrecorded(2, killTime)
			extra := covered - len(tips)
			switch {
			case extra < 0 || extra > riskyCover:
				t.Errorf("%d robot messages cover %d tips, want each of the %d once (%d more allowed: %d message(s) WeCom accepted but their sender may not have recorded)",
					messages, covered, len(tips), riskyCover, len(risky))
			case extra > 0:
				t.Logf("%d alert(s) sent twice, within the %d covered by %d message(s) WeCom accepted that the sender may not have recorded (the residual window of docs/notifications.md)",
					extra, riskyCover, len(risky))
			}
			for title, n := range seen {
				if n > 1 && !slices.ContainsFunc(risky, func(m proxiedRobot) bool { return strings.Contains(m.content, title) }) {
					t.Errorf("tip %q alerted %d times", title, n)
				}
			}
			t.Logf("%d tips alerted in %d robot messages", len(tips), messages)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 min: %d robot messages cover %d of %d tips, %d alerts unsent", messages, covered, len(tips), pending)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Photos uploaded through one instance download through another (the killed instance's
	// through the living ones), whole and by range.
	for i, u := range uploads {
		other := (u.via + 1 + i%2) % len(insts)
		for !alive(other) || other == u.via {
			other = (other + 1) % len(insts)
		}
		r, err := authed("GET", fmt.Sprintf("%s/api/v1/uploads/%d", insts[other].url, u.id), u.token, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			URL  string
			Size int64
		}
		json.NewDecoder(r.Body).Decode(&v)
		r.Body.Close()
		got, err := hc.Get(insts[other].url + v.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if got.StatusCode != http.StatusOK || !bytes.Equal(b, u.data) {
			t.Fatalf("upload %d sent through instance %d, fetched through %d: %d, %d bytes of %d", u.id, u.via, other, got.StatusCode, len(b), len(u.data))
		}
		req, _ := http.NewRequest("GET", insts[other].url+v.URL, nil)
		req.Header.Set("Range", "bytes=8-23")
		pr, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		part, _ := io.ReadAll(pr.Body)
		pr.Body.Close()
		if pr.StatusCode != http.StatusPartialContent || !bytes.Equal(part, u.data[8:24]) {
			t.Fatalf("range of upload %d: %d % x", u.id, pr.StatusCode, part)
		}
	}
	if viaKilled == 0 {
		t.Errorf("no upload went through the killed instance before it died")
	}
	t.Logf("%s: %d phones on 3 instances for %.1f s, instance 2 killed at %.1f s; %d records (%d tips), %d photos (%d through the killed instance) — each stored once, downloaded through another instance",
		apitest.Backend(), len(phones), loadTime.Seconds(), killedAt.Seconds(), len(records), len(tips), len(uploads), viaKilled)
}
