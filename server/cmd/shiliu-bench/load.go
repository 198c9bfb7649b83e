package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/roster"
)

// client is one logged-in caller of the real HTTP server.
type client struct {
	base, token string
	hc          *http.Client
}

func (c *client) do(ctx context.Context, method, path string, body any) (int, []byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, time.Since(start), err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, time.Since(start), err
}

// must sends a request and decodes the JSON answer into v, failing unless the status is want.
func (c *client) must(ctx context.Context, want int, method, path string, body, v any) error {
	status, out, _, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: %d: %.300s", method, path, status, out)
	}
	if v != nil {
		return json.Unmarshal(out, v)
	}
	return nil
}

type result struct {
	name, who, path string
	n, c            int
	p50, p99, max   time.Duration
	items           int
	plan            string
	// CPU per request of this process (server and callers) and of the local database server
	// (MariaDB only): on a shared machine latency follows the CPU left over, CPU much less.
	cpu, dbCPU time.Duration
}

type bench struct {
	a          *app.App
	o          options
	anon       *client
	county     string
	countyName string
	village    string
	person     string
	city       string
	staff      map[string]*client
	typical    *client
	prolific   *client
	counts     map[*client]int64
	submitters []*client
	results    []result
	exports    []result
	submit     submitResult
	cap        *capture
	seedInfo   string
	skewed     []*skewCounty
}

func newBench(ctx context.Context, a *app.App, addr string, o options) (*bench, error) {
	hc := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConns: 500, MaxIdleConnsPerHost: 500}}
	b := &bench{a: a, o: o, anon: &client{base: "http://" + addr, hc: hc}, staff: map[string]*client{}, counts: map[*client]int64{}}
	b.cap = &capture{}
	if err := b.cap.register(a.DB.DB); err != nil {
		return nil, err
	}
	db := a.DB.WithContext(ctx)

	// The busiest county is the county officer's; the city above it the city officer's.
	var busiest struct {
		C string
		N int64
	}
	if err := db.Raw("SELECT SUBSTR(region_code, 1, 6) AS c, COUNT(*) AS n FROM records GROUP BY SUBSTR(region_code, 1, 6) ORDER BY n DESC LIMIT 1").Scan(&busiest).Error; err != nil {
		return nil, err
	}
	b.county, b.city = busiest.C+"000000", busiest.C[:4]+"00000000"
	if r, err := a.Regions.Get(ctx, b.county); err == nil {
		b.countyName = r.Name
	}
	// A keyword with few matches: the name of the village of the county's newest record, in the
	// titles of that village's records (and of villages of the same name elsewhere).
	db.Raw("SELECT name FROM regions WHERE code = (SELECT region_code FROM records WHERE region_code >= ? AND region_code < ? ORDER BY id DESC LIMIT 1)",
		busiest.C, busiest.C+"a").Scan(&b.village)
	// As staff type it: "东张庄村", not "东张庄村村民委员会" (every village's suffix).
	for _, suffix := range []string{"村民委员会", "社区居民委员会", "居民委员会"} {
		b.village = strings.TrimSuffix(b.village, suffix)
	}
	// A name search with few matches: the whole name of the county's newest instructor.
	db.Raw("SELECT name FROM instructors WHERE region_code >= ? AND region_code < ? ORDER BY id DESC LIMIT 1",
		busiest.C, busiest.C+"a").Scan(&b.person)
	var stats struct{ Records, Instructors, Units, Counties int64 }
	db.Raw("SELECT COUNT(*) FROM records").Scan(&stats.Records)
	db.Raw("SELECT COUNT(*) FROM instructors").Scan(&stats.Instructors)
	db.Raw("SELECT COUNT(*) FROM units").Scan(&stats.Units)
	db.Raw("SELECT COUNT(DISTINCT SUBSTR(region_code, 1, 6)) FROM units").Scan(&stats.Counties)
	b.seedInfo = fmt.Sprintf("%d records, %d instructors in %d units of %d counties; county officer: %s (%s, %d records, the busiest); city officer: %s",
		stats.Records, stats.Instructors, stats.Units, stats.Counties, b.countyName, b.county, busiest.N, b.city)
	logf("%s", b.seedInfo)

	run := time.Now().UnixNano() % 1e9
	for role, region := range map[string]string{"county_staff": b.county, "city_staff": b.city, "province_staff": "130000000000"} {
		name := fmt.Sprintf("bench_%s_%d", role, run)
		if _, err := a.Auth.CreateUser(ctx, name, role, region, "bench-password-123", ""); err != nil {
			return nil, err
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := b.anon.must(ctx, http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": name, "password": "bench-password-123"}, &tok); err != nil {
			return nil, err
		}
		b.staff[role] = &client{base: b.anon.base, token: tok.AccessToken, hc: hc}
	}

	// Instructors log in through WeChat with an invite, as on the phone. Only instructors without
	// an account can bind: earlier runs bound some.
	var free []int64
	if err := db.Raw(`SELECT id FROM instructors WHERE status = 'active'
		AND id NOT IN (SELECT instructor_id FROM accounts WHERE instructor_id IS NOT NULL)`).Scan(&free).Error; err != nil {
		return nil, err
	}
	if len(free) < o.clients+2 {
		return nil, fmt.Errorf("only %d instructors left without an account; seed a fresh database", len(free))
	}
	isFree := map[int64]bool{}
	for _, id := range free {
		isFree[id] = true
	}
	rng := rand.New(rand.NewPCG(uint64(run), 7))
	rng.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	var top []struct {
		AuthorID int64
		N        int64
	}
	if err := db.Raw("SELECT author_id, COUNT(*) AS n FROM records GROUP BY author_id ORDER BY n DESC LIMIT 1000").Scan(&top).Error; err != nil {
		return nil, err
	}
	// The prolific instructor is among the top 1 % by records, not the single extreme.
	var prolificID, prolificN int64
	for _, t := range top[min(len(top)-1, int(stats.Instructors/200)):] {
		if isFree[t.AuthorID] {
			prolificID, prolificN = t.AuthorID, t.N
			break
		}
	}
	bind := func(id int64) (*client, error) {
		isFree[id] = false
		var inv struct {
			InviteCode string `json:"invite_code"`
		}
		if err := b.staff["province_staff"].must(ctx, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/instructors/%d/invite", id), nil, &inv); err != nil {
			return nil, err
		}
		var login struct {
			BindTicket string `json:"bind_ticket"`
		}
		if err := b.anon.must(ctx, http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": fmt.Sprintf("bench%d_%d", run, id)}, &login); err != nil {
			return nil, err
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := b.anon.must(ctx, http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": login.BindTicket, "invite_code": inv.InviteCode}, &tok); err != nil {
			return nil, err
		}
		return &client{base: b.anon.base, token: tok.AccessToken, hc: hc}, nil
	}
	var err error
	if prolificID != 0 {
		if b.prolific, err = bind(prolificID); err != nil {
			return nil, err
		}
		b.counts[b.prolific] = prolificN
	}
	free = slices.DeleteFunc(free, func(id int64) bool { return id == prolificID })
	if b.typical, err = bind(free[0]); err != nil {
		return nil, err
	}
	var typicalN int64
	db.Raw("SELECT COUNT(*) FROM records WHERE author_id = ?", free[0]).Scan(&typicalN)
	b.counts[b.typical] = typicalN
	for _, id := range free[1 : 1+o.clients] {
		c, err := bind(id)
		if err != nil {
			return nil, err
		}
		b.submitters = append(b.submitters, c)
	}
	logf("logged in: 3 staff (county, city, province) and %d instructors through WeChat binding", len(b.submitters)+2)
	if o.skew > 0 {
		if err := b.setupSkew(ctx, run, hc, bind, isFree); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// percentile of sorted durations, nearest rank.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p+0.999999) - 1
	return d[max(0, min(i, len(d)-1))]
}

// measure times GET path as c: a few unmeasured requests first, then samples (at most
// maxPerQuery of them, at least 5).
func (b *bench) measure(ctx context.Context, name, who string, c *client, path string) (result, error) {
	r := result{name: name, who: who, path: path}
	b.cap.arm()
	var items int
	for i := 0; i < 3; i++ {
		status, out, _, err := c.do(ctx, "GET", path, nil)
		if err != nil {
			return r, err
		}
		if status != http.StatusOK {
			return r, fmt.Errorf("GET %s: %d %.300s", path, status, out)
		}
		var l struct {
			Items []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(out, &l) == nil {
			items = len(l.Items)
		}
	}
	r.items = items
	if !b.o.skipExplain {
		r.plan = b.explain(ctx, b.cap.take())
	}
	// -c callers at once, each sending its next request when its last one is answered.
	var (
		mu     sync.Mutex
		ds     []time.Duration
		failed error
		taken  atomic.Int64
		wg     sync.WaitGroup
	)
	start := time.Now()
	dbPID := dbServerPID(b.a.DB.DB)
	cpu0, db0 := processCPU(), dbServerCPU(dbPID)
	r.c = max(1, b.o.concurrency)
	for range r.c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := taken.Add(1)
				if n > int64(b.o.samples) || (n > 5 && time.Since(start) >= b.o.maxPerQuery) {
					return
				}
				status, out, d, err := c.do(ctx, "GET", path, nil)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("GET %s: %d %.300s", path, status, out)
				}
				mu.Lock()
				if err != nil && failed == nil {
					failed = err
				}
				ds = append(ds, d)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		return r, failed
	}
	slices.Sort(ds)
	r.n, r.p50, r.p99, r.max = len(ds), percentile(ds, 0.5), percentile(ds, 0.99), ds[len(ds)-1]
	r.cpu, r.dbCPU = (processCPU()-cpu0)/time.Duration(r.n), (dbServerCPU(dbPID)-db0)/time.Duration(r.n)
	logf("%-44s c=%-2d n=%-4d p50=%-9s p99=%-9s items=%d cpu=%s db=%s", name, r.c, r.n, r.p50.Round(100*time.Microsecond),
		r.p99.Round(100*time.Microsecond), r.items, r.cpu.Round(10*time.Microsecond), r.dbCPU.Round(10*time.Microsecond))
	return r, nil
}

// walk follows the cursor of a list for pages pages and returns the path of the last one.
func (b *bench) walk(ctx context.Context, c *client, path string, pages int) (string, error) {
	cur := path
	for i := 1; i < pages; i++ {
		var l struct {
			NextCursor string `json:"next_cursor"`
		}
		if err := c.must(ctx, http.StatusOK, "GET", cur, nil, &l); err != nil {
			return "", err
		}
		if l.NextCursor == "" {
			return cur, nil
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		cur = path + sep + "cursor=" + url.QueryEscape(l.NextCursor)
	}
	return cur, nil
}

func (b *bench) lists(ctx context.Context) error {
	county, city, province := b.staff["county_staff"], b.staff["city_staff"], b.staff["province_staff"]
	deep, err := b.walk(ctx, county, "/api/v1/records", 50)
	if err != nil {
		return err
	}
	deeper, err := b.walk(ctx, county, "/api/v1/records?limit=100", 50)
	if err != nil {
		return err
	}
	deepQ, err := b.walk(ctx, province, "/api/v1/records?q="+url.QueryEscape("宅基地"), 20)
	if err != nil {
		return err
	}
	local := time.FixedZone("CST", 8*3600)
	now := time.Now().In(local)
	yearAgo, elevenMonths := now.AddDate(-1, 0, 0).Format("2006-01-02"), now.AddDate(0, -11, 0).Format("2006-01-02")
	monthAgo := now.AddDate(0, 0, -30).Format("2006-01-02")
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, local)
	lastMonth, lastMonthEnd := first.AddDate(0, -1, 0).Format("2006-01-02"), first.AddDate(0, 0, -1).Format("2006-01-02")
	type q struct{ name, who, path string }
	qs := []q{
		{fmt.Sprintf("instructor's own list (typical, %d records)", b.counts[b.typical]), "instructor", "/api/v1/records"},
		{"instructor's own visits (typical)", "instructor", "/api/v1/visits"},
		{"me/summary (typical)", "instructor", "/api/v1/me/summary"},
		{"county: first page, all kinds", "county", "/api/v1/records"},
		{"county: first page of tips", "county", "/api/v1/tips"},
		{"county: deep page via cursor (page 50 × 20)", "county", deep},
		{"county: deep page via cursor (page 50 × 100)", "county", deeper},
		{"county: tips in handling", "county", "/api/v1/tips?status=handling"},
		{"county: one month a year ago", "county", "/api/v1/records?from=" + yearAgo + "&to=" + elevenMonths},
		{"county: last 30 days (from only)", "county", "/api/v1/records?from=" + monthAgo},
		{"province: last calendar month (from, to)", "province", "/api/v1/records?from=" + lastMonth + "&to=" + lastMonthEnd},
		{"county: keyword 宅基地", "county", "/api/v1/records?q=" + url.QueryEscape("宅基地")},
		{"county: keyword without match", "county", "/api/v1/records?q=" + url.QueryEscape("马建国")},
		{"county: keyword 低保 (two characters, frequent)", "county", "/api/v1/records?q=" + url.QueryEscape("低保")},
		{"county: keyword, a village's name (few)", "county", "/api/v1/records?q=" + url.QueryEscape(b.village)},
		{"county: keyword 宅基地 in tips in handling", "county", "/api/v1/tips?status=handling&q=" + url.QueryEscape("宅基地")},
		// Keywords between frequent and few, which the newest records of the scope do not fill:
		// a sentiment category in the titles (~0.4 % of records) and a dispute kind (~0.1 %).
		{"county: keyword 宗教事务 (~0.4 %)", "county", "/api/v1/records?q=" + url.QueryEscape("宗教事务")},
		{"county: keyword 涉及宗教因素 (~0.1 %)", "county", "/api/v1/records?q=" + url.QueryEscape("涉及宗教因素")},
		{"city: tips level=major", "city", "/api/v1/tips?level=major"},
		{"city: tips level=critical", "city", "/api/v1/tips?level=critical"},
		{"city: sentiments very urgent", "city", "/api/v1/sentiments?urgency=very_urgent"},
		{"city: unsettled mediations", "city", "/api/v1/mediations?unsettled=true"},
		{"city: keyword 宅基地", "city", "/api/v1/records?q=" + url.QueryEscape("宅基地")},
		{"province: first page, all kinds", "province", "/api/v1/records"},
		{"province: tips escalated to the province", "province", "/api/v1/tips?escalated_to=province"},
		{"province: keyword without match", "province", "/api/v1/records?q=" + url.QueryEscape("马建国")},
		{"province: keyword 宅基地 (frequent)", "province", "/api/v1/records?q=" + url.QueryEscape("宅基地")},
		{"province: keyword 低保 (two characters, frequent)", "province", "/api/v1/records?q=" + url.QueryEscape("低保")},
		{"province: keyword, a village's name (few)", "province", "/api/v1/records?q=" + url.QueryEscape(b.village)},
		{"province: keyword 宗教事务 (~0.4 %)", "province", "/api/v1/records?q=" + url.QueryEscape("宗教事务")},
		{"province: keyword 涉及宗教因素 (~0.1 %)", "province", "/api/v1/records?q=" + url.QueryEscape("涉及宗教因素")},
		{"province: keyword 宅基地, deep page via cursor (page 20)", "province", deepQ},
		// The console's roster pages, on the whole seeded roster.
		{"roster: county units list", "county", "/api/v1/units?limit=20"},
		{"roster: county instructors list", "county", "/api/v1/instructors?limit=20"},
		{"roster: county units without an instructor", "county", "/api/v1/stats/units-without-instructor"},
		{"roster: city units list", "city", "/api/v1/units?limit=20"},
		{"roster: province units list", "province", "/api/v1/units?limit=20"},
		{"roster: province instructors list", "province", "/api/v1/instructors?limit=20"},
		{"roster: county units named 村", "county", "/api/v1/units?q=" + url.QueryEscape("村") + "&limit=20"},
		// The roster's name search (q), through the name index (migration 45).
		{"roster: county instructors named 张 (one character, frequent)", "county", "/api/v1/instructors?q=" + url.QueryEscape("张") + "&limit=20"},
		{"roster: county instructors named 建国 (two characters)", "county", "/api/v1/instructors?q=" + url.QueryEscape("建国") + "&limit=20"},
		{"roster: county instructors, no match (欧阳修)", "county", "/api/v1/instructors?q=" + url.QueryEscape("欧阳修") + "&limit=20"},
		{"roster: province instructors named 张 (one character, frequent)", "province", "/api/v1/instructors?q=" + url.QueryEscape("张") + "&limit=20"},
		{"roster: province instructors named 建国 (two characters)", "province", "/api/v1/instructors?q=" + url.QueryEscape("建国") + "&limit=20"},
		{"roster: province instructors, a whole name (few)", "province", "/api/v1/instructors?q=" + url.QueryEscape(b.person) + "&limit=20"},
		{"roster: province instructors, no match (欧阳修)", "province", "/api/v1/instructors?q=" + url.QueryEscape("欧阳修") + "&limit=20"},
		{"roster: province units named 村 (frequent)", "province", "/api/v1/units?q=" + url.QueryEscape("村") + "&limit=20"},
		{"roster: province units, a village's name (few)", "province", "/api/v1/units?q=" + url.QueryEscape(b.village) + "&limit=20"},
		{"roster: province units, no match (欧阳修)", "province", "/api/v1/units?q=" + url.QueryEscape("欧阳修") + "&limit=20"},
	}
	if b.prolific != nil {
		qs = append([]q{{fmt.Sprintf("instructor's own list (prolific, %d records)", b.counts[b.prolific]), "prolific", "/api/v1/records"},
			{"instructor's own tips (prolific)", "prolific", "/api/v1/tips"}}, qs...)
	}
	who := map[string]*client{"instructor": b.typical, "prolific": b.prolific, "county": county, "city": city, "province": province}
	for _, x := range qs {
		if !strings.Contains(x.name, b.o.only) {
			continue
		}
		r, err := b.measure(ctx, x.name, x.who, who[x.who], x.path)
		if err != nil {
			return err
		}
		b.results = append(b.results, r)
	}
	exports := []q{
		{"county: export tips, last year", "county", "/api/v1/tips/export.xlsx?from=" + yearAgo},
		{"county: export all records, 2 years", "county", "/api/v1/records/export.xlsx"},
		{"city: export major tips", "city", "/api/v1/tips/export.xlsx?level=major"},
	}
	for _, x := range exports {
		if !strings.Contains(x.name, b.o.only) {
			continue
		}
		r := result{name: x.name, who: x.who, path: x.path}
		var ds []time.Duration
		for i := 0; i < 3; i++ {
			status, out, d, err := who[x.who].do(ctx, "GET", x.path, nil)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return fmt.Errorf("GET %s: %d %.300s", x.path, status, out)
			}
			ds = append(ds, d)
			r.items = len(out) // bytes, for the report
		}
		slices.Sort(ds)
		r.n, r.p50, r.max = len(ds), percentile(ds, 0.5), ds[len(ds)-1]
		logf("%-44s n=%d median=%s max=%s size=%d KB", x.name, r.n, r.p50.Round(time.Millisecond), r.max.Round(time.Millisecond), r.items/1024)
		b.exports = append(b.exports, r)
	}
	return nil
}

type submitResult struct {
	clients           int
	elapsed           time.Duration
	created, replayed int
	failed            map[int]int
	p50, p90, p99     time.Duration
	max               time.Duration
}

// submissions has every submitter post records back to back for the duration.
func (b *bench) submissions(ctx context.Context) error {
	var mu sync.Mutex
	var all []time.Duration
	res := submitResult{clients: len(b.submitters), failed: map[int]int{}}
	deadline := time.Now().Add(b.o.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range b.submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			var ds []time.Duration
			created, replayed, failed := 0, 0, map[int]int{}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				kind, body := submission(rng)
				status, _, d, err := c.do(ctx, "POST", "/api/v1/"+kindPath[kind], body)
				switch {
				case err != nil:
					failed[-1]++
				case status == http.StatusCreated:
					created++
				case status == http.StatusOK:
					replayed++
				default:
					failed[status]++
				}
				ds = append(ds, d)
			}
			mu.Lock()
			defer mu.Unlock()
			all = append(all, ds...)
			res.created += created
			res.replayed += replayed
			for k, v := range failed {
				res.failed[k] += v
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(all)
	res.p50, res.p90, res.p99, res.max = percentile(all, 0.5), percentile(all, 0.9), percentile(all, 0.99), all[len(all)-1]
	b.submit = res
	logf("submitted %d records in %s with %d clients: %.0f records/s, p50 %s, p99 %s, failures %v",
		res.created, res.elapsed.Round(time.Millisecond), res.clients, float64(res.created)/res.elapsed.Seconds(),
		res.p50.Round(100*time.Microsecond), res.p99.Round(100*time.Microsecond), res.failed)
	return nil
}

var kindPath = map[string]string{"visit": "visits", "sentiment": "sentiments", "tip": "tips", "mediation": "mediations"}

// submission is a record as the mini-program sends it, with the same mix of kinds as the seed.
func submission(rng *rand.Rand) (string, map[string]any) {
	one := func(list []string) string { return list[rng.IntN(len(list))] }
	code := func(list []roster.Code) string { return list[rng.IntN(len(list))].Code }
	var u [16]byte
	for i := range u {
		u[i] = byte(rng.UintN(256))
	}
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	occurred := time.Now().Add(-time.Duration(rng.Int64N(int64(48 * time.Hour)))).In(time.FixedZone("CST", 8*3600))
	body := map[string]any{
		"client_id":   fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:]),
		"occurred_at": occurred.Format(time.RFC3339), "place": "村委会", "latitude": 38.04, "longitude": 114.51,
	}
	var kind string
	switch x := rng.IntN(100); {
	case x < 60:
		kind = "visit"
		body["title"] = "入户走访"
		body[kind] = map[string]any{"visit_kind": code(record.VisitKinds), "households": 1 + rng.IntN(20), "people": 1 + rng.IntN(50),
			"ethnicities": []string{"01", "03"}, "content": one(visitContent), "follow_up_needed": rng.IntN(10) == 0}
	case x < 80:
		kind = "sentiment"
		body["title"] = "群众反映问题"
		body[kind] = map[string]any{"category": code(record.SentimentCategories), "content": one(sentimentContent),
			"people_affected": rng.IntN(100), "urgency": code(record.Urgencies), "suggestion": one(sentimentSuggestion)}
	case x < 90:
		kind = "tip"
		body["title"] = "矛盾纠纷苗头"
		body[kind] = map[string]any{"level": one([]string{"general", "general", "general", "serious", "major"}), "kind": code(record.TipKinds),
			"people_involved": 1 + rng.IntN(30), "groups_involved": one(groups), "description": one(tipContent), "ongoing": rng.IntN(5) == 0}
	default:
		kind = "mediation"
		body["title"] = "邻里纠纷调解"
		body[kind] = map[string]any{"dispute_kind": code(record.DisputeKinds),
			"parties": []map[string]any{{"name": "马某", "ethnicity": "03", "role": "applicant"}, {"name": "张某", "ethnicity": "01", "role": "respondent"}},
			"process": one(mediationProcess), "outcome": code(record.Outcomes), "agreement": one(mediationAgreement)}
	}
	return kind, body
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func (b *bench) report(w io.Writer) {
	fmt.Fprintf(w, "\n## shiliu-bench: %s, Go %s, %d CPUs\n\n%s\n\n", b.a.DB.Dialect, runtime.Version(), runtime.NumCPU(), b.seedInfo)
	if b.submit.clients > 0 {
		s := b.submit
		fmt.Fprintf(w, "| submission | clients | duration | records stored | records/s | p50 | p90 | p99 | max | failed |\n|---|---|---|---|---|---|---|---|---|---|\n")
		fmt.Fprintf(w, "| POST /api/v1/{kind} | %d | %s | %d | %.0f | %s | %s | %s | %s | %v |\n\n", s.clients, s.elapsed.Round(time.Second),
			s.created, float64(s.created)/s.elapsed.Seconds(), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), s.failed)
	}
	if len(b.results) > 0 {
		fmt.Fprintf(w, "| list | as | request | c | n | p50 | p99 | items | CPU ms/request: Go process | database server |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range b.results {
			path := r.path
			if i := strings.Index(path, "cursor="); i >= 0 {
				path = path[:i] + "cursor=…"
			}
			fmt.Fprintf(w, "| %s | %s | `%s` | %d | %d | %s | %s | %d | %.2f | %.2f |\n", r.name, r.who, path, r.c, r.n, ms(r.p50), ms(r.p99), r.items,
				float64(r.cpu.Microseconds())/1000, float64(r.dbCPU.Microseconds())/1000)
		}
		fmt.Fprintln(w)
	}
	if len(b.exports) > 0 {
		fmt.Fprintf(w, "| export | as | request | runs | median | max | size |\n|---|---|---|---|---|---|---|\n")
		for _, r := range b.exports {
			fmt.Fprintf(w, "| %s | %s | `%s` | %d | %s | %s | %d KB |\n", r.name, r.who, r.path, r.n, ms(r.p50), ms(r.max), r.items/1024)
		}
		fmt.Fprintln(w)
	}
	for _, r := range b.results {
		if r.plan != "" {
			fmt.Fprintf(w, "### %s\n\n```\n%s```\n\n", r.name, r.plan)
		}
	}
}
