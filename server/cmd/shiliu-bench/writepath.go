package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/stats"
	"gorm.io/gorm"
)

// The write-path mode measures a submission against the same work done bare, in one run on one
// database, the handlers taking turns so that whatever else the machine does weighs on each:
//
//   - "one INSERT": a Gin handler that reads the body and inserts it as one row;
//   - "same rows": a Gin handler that decodes the same body and writes, with database/sql in one
//     transaction and without reading anything, the rows a submission writes: the record, its
//     detail, timeline step, version, outbox event, audit entry and statistics (aggregate cells,
//     the record's fact, the instructor's latest record);
//   - "Shiliu": the real POST /api/v1/visits and /tips, with authentication, validation, the audit
//     trail and the answer.
//
// Each runs with the phones of several counties and with the phones of one busy county.

type handlerKind int

const (
	oneInsert handlerKind = iota
	sameRows
	shiliuAPI
	// shiliuDraw is Shiliu with its submissions drawing the pool's connections as database/sql
	// hands them out (at random) instead of in turn (database.Turn): MySQL only.
	shiliuDraw
	// sameRowsBatched is the same rows in two round trips (MySQL only): the record's INSERT, then
	// every other statement and the COMMIT in one multi-statement query.
	sameRowsBatched
)

var handlerNames = []string{"one INSERT (bare)", "same rows (bare, database/sql)", "Shiliu POST /visits, /tips", "Shiliu without turns (pool's draw)", "same rows, 2 round trips (bare)"}

// phone is a bound instructor as the bare handlers know it, preloaded: they read nothing.
type phone struct {
	token        string
	instructorID int64
	accountID    int64
	unitID       int64
	region       string
	name         string
}

type wpResult struct {
	scenario string
	conns    int
	handler  handlerKind
	n        int
	elapsed  time.Duration
	lat      []time.Duration
	failed   map[int]int
	// CPU used meanwhile by this process (server and clients) and by the local database server,
	// if one was found: on a shared machine throughput follows the CPU left over, CPU per request
	// much less.
	cpu, dbCPU time.Duration
	// poolWait is the time requests waited for a connection of the pool (database/sql hands a
	// freed connection to a waiter chosen at random: at more phones than connections it is a
	// lottery, and the tail of the latencies).
	poolWait time.Duration
}

func (r *wpResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func runWritePath(ctx context.Context, a *app.App, shiliuAddr string, o options) error {
	sqlDB, err := a.DB.DB.DB()
	if err != nil {
		return err
	}
	bare, bareAddr, stopBare, err := startBare(a, sqlDB)
	if err != nil {
		return err
	}
	defer stopBare()

	maxConns := slices.Max(o.conns)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: 4 * maxConns, MaxIdleConnsPerHost: 2 * maxConns}}
	anon := &client{base: "http://" + shiliuAddr, hc: hc}
	scenarios, err := pickPhones(ctx, a, anon, maxConns)
	if err != nil {
		return err
	}
	for _, s := range scenarios {
		for _, p := range s.phones {
			bare.phones[p.instructorID] = p
		}
	}
	dbPID := dbServerPID(a.DB.DB)
	stopProfile, err := startProfile(o)
	if err != nil {
		return err
	}
	defer stopProfile()
	logf("write path: %d rounds of %s per handler, connections %v, scenarios: %s and %s",
		o.rounds, o.roundDuration, o.conns, scenarios[0].describe, scenarios[1].describe)

	results := map[string]*wpResult{}
	key := func(scenario string, conns int, h handlerKind) string {
		return fmt.Sprintf("%s|%d|%d", scenario, conns, h)
	}
	order := []handlerKind{oneInsert, sameRows, shiliuAPI}
	if a.DB.Dialect == database.MySQL {
		order = append(order, shiliuDraw, sameRowsBatched)
		if err := bare.openBatched(o.dsn, o.maxOpenConns); err != nil {
			return err
		}
		defer bare.batched.Close()
	}
	for round := 0; round < o.rounds && ctx.Err() == nil; round++ {
		for _, s := range scenarios {
			for _, conns := range o.conns {
				// Each round starts with another handler, so none always follows the same one.
				hs := append(slices.Clone(order[round%len(order):]), order[:round%len(order)]...)
				for _, h := range hs {
					restore := database.SetTurns(h != shiliuDraw)
					cpu0, db0, wait0 := processCPU(), dbServerCPU(dbPID), sqlDB.Stats().WaitDuration
					r := drive(ctx, h, s.phones[:min(conns, len(s.phones))], "http://"+shiliuAddr, "http://"+bareAddr, hc, o.roundDuration, uint64(round))
					r.cpu, r.dbCPU, r.poolWait = processCPU()-cpu0, dbServerCPU(dbPID)-db0, sqlDB.Stats().WaitDuration-wait0
					restore()
					k := key(s.name, conns, h)
					if prev := results[k]; prev != nil {
						prev.n += r.n
						prev.elapsed += r.elapsed
						prev.lat = append(prev.lat, r.lat...)
						prev.cpu += r.cpu
						prev.dbCPU += r.dbCPU
						prev.poolWait += r.poolWait
						for code, n := range r.failed {
							prev.failed[code] += n
						}
					} else {
						r.scenario, r.conns, r.handler = s.name, conns, h
						results[k] = r
					}
					logf("round %d %-14s c=%-3d %-32s %6.0f/s", round+1, s.name, conns, handlerNames[h], r.rate())
				}
			}
		}
	}

	fmt.Printf("\n## shiliu-bench -writepath: %s, Go %s, %d CPUs, %d rounds of %s per handler\n\n",
		a.DB.Dialect, runtime.Version(), runtime.NumCPU(), o.rounds, o.roundDuration)
	for _, s := range scenarios {
		fmt.Printf("%s: %s\n\n", s.name, s.describe)
	}
	fmt.Printf("| phones | connections | handler | requests | requests/s | p50 | p99 | Shiliu ÷ this | CPU ms/request: Go process | database server | pool wait ms/request | failed |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range scenarios {
		for _, conns := range o.conns {
			api := results[key(s.name, conns, shiliuAPI)]
			for _, h := range order {
				r := results[key(s.name, conns, h)]
				if r == nil {
					continue
				}
				slices.Sort(r.lat)
				ratio := "—"
				if h != shiliuAPI && api != nil && r.rate() > 0 {
					ratio = fmt.Sprintf("%.2f", api.rate()/r.rate())
				}
				perReq := func(d time.Duration) string {
					if d <= 0 || r.n == 0 {
						return "—"
					}
					return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)/float64(r.n))
				}
				fmt.Printf("| %s | %d | %s | %d | %.0f | %s | %s | %s | %s | %s | %s | %v |\n", s.name, conns, handlerNames[h], r.n, r.rate(),
					ms(percentile(r.lat, 0.5)), ms(percentile(r.lat, 0.99)), ratio, perReq(r.cpu), perReq(r.dbCPU), perReq(r.poolWait), r.failed)
			}
		}
	}
	fmt.Println()
	return nil
}

type scenario struct {
	name, describe string
	phones         []phone
}

// pickPhones binds (or logs in again, from an earlier run) the instructors of the two scenarios:
// one each in n different counties, and n in the county with the most instructors in office.
func pickPhones(ctx context.Context, a *app.App, anon *client, n int) ([]scenario, error) {
	db := a.DB.WithContext(ctx)
	var busy struct {
		C string
		N int
	}
	if err := db.Raw(`SELECT SUBSTR(region_code, 1, 6) AS c, COUNT(*) AS n FROM instructors WHERE status = 'active'
		GROUP BY SUBSTR(region_code, 1, 6) ORDER BY n DESC LIMIT 1`).Scan(&busy).Error; err != nil {
		return nil, err
	}
	type row struct {
		ID         int64
		UnitID     int64
		RegionCode string
		Name       string
	}
	var inBusy []row
	if err := db.Raw("SELECT id, unit_id, region_code, name FROM instructors WHERE status = 'active' AND region_code LIKE ? ORDER BY id LIMIT ?",
		busy.C+"%", n).Scan(&inBusy).Error; err != nil {
		return nil, err
	}
	// One per county, the first in office of each, outside the busy county.
	var spread []row
	if err := db.Raw(`SELECT i.id, i.unit_id, i.region_code, i.name FROM instructors i
		JOIN (SELECT MIN(id) AS id FROM instructors WHERE status = 'active' AND region_code NOT LIKE ? GROUP BY SUBSTR(region_code, 1, 6)) f ON f.id = i.id
		ORDER BY i.id LIMIT ?`, busy.C+"%", n).Scan(&spread).Error; err != nil {
		return nil, err
	}
	province := fmt.Sprintf("bench_wp_province_%d", time.Now().UnixNano()%1e9)
	if _, err := a.Auth.CreateUser(ctx, province, "province_staff", "130000000000", "bench-password-123", ""); err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := anon.must(ctx, http.StatusOK, "POST", "/api/v1/auth/password/login", map[string]string{"username": province, "password": "bench-password-123"}, &tok); err != nil {
		return nil, err
	}
	staff := &client{base: anon.base, token: tok.AccessToken, hc: anon.hc}
	bind := func(r row) (phone, error) {
		// The fake WeChat answers code c with openid o_c: the same code finds the account an
		// earlier run bound.
		code := fmt.Sprintf("wp%d", r.ID)
		var login struct {
			AccessToken string `json:"access_token"`
			BindTicket  string `json:"bind_ticket"`
		}
		if err := anon.must(ctx, http.StatusOK, "POST", "/api/v1/auth/wechat/login", map[string]string{"code": code}, &login); err != nil {
			return phone{}, err
		}
		if login.AccessToken == "" {
			var inv struct {
				InviteCode string `json:"invite_code"`
			}
			if err := staff.must(ctx, http.StatusCreated, "POST", fmt.Sprintf("/api/v1/instructors/%d/invite", r.ID), nil, &inv); err != nil {
				return phone{}, err
			}
			if err := anon.must(ctx, http.StatusOK, "POST", "/api/v1/auth/wechat/bind", map[string]string{"bind_ticket": login.BindTicket, "invite_code": inv.InviteCode}, &login); err != nil {
				return phone{}, err
			}
		}
		var acc int64
		if err := db.Raw("SELECT id FROM accounts WHERE instructor_id = ?", r.ID).Scan(&acc).Error; err != nil {
			return phone{}, err
		}
		return phone{token: login.AccessToken, instructorID: r.ID, accountID: acc, unitID: r.UnitID, region: r.RegionCode, name: r.Name}, nil
	}
	var out []scenario
	for _, s := range []struct {
		name string
		rows []row
	}{{"several counties", spread}, {"one busy county", inBusy}} {
		sc := scenario{name: s.name}
		for _, r := range s.rows {
			p, err := bind(r)
			if err != nil {
				return nil, err
			}
			sc.phones = append(sc.phones, p)
		}
		counties := map[string]bool{}
		for _, p := range sc.phones {
			counties[p.region[:6]] = true
		}
		sc.describe = fmt.Sprintf("%d instructors in %d counties", len(sc.phones), len(counties))
		if len(counties) == 1 {
			sc.describe = fmt.Sprintf("%d instructors in %s000000, the county with the most", len(sc.phones), busy.C)
		}
		out = append(out, sc)
	}
	return out, nil
}

// drive has each phone post back to back for d: visits and one in five a tip.
func drive(ctx context.Context, h handlerKind, phones []phone, shiliu, bare string, hc *http.Client, d time.Duration, seed uint64) *wpResult {
	res := &wpResult{failed: map[int]int{}}
	var mu sync.Mutex
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, p := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Fresh client ids for every handler and run: an id a bare handler stored would be
			// a retry to Shiliu.
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), seed<<16|uint64(h)<<8|uint64(i)))
			c := &client{hc: hc}
			var lat []time.Duration
			failed := map[int]int{}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				kind, body := wpSubmission(rng)
				var path string
				switch h {
				case oneInsert:
					c.base, c.token, path = bare, "", "/bare/insert"
				case sameRows:
					c.base, c.token, path = bare, "", "/bare/"+kind+"s?instructor="+strconv.FormatInt(p.instructorID, 10)
				case sameRowsBatched:
					c.base, c.token, path = bare, "", "/bare/batched/"+kind+"s?instructor="+strconv.FormatInt(p.instructorID, 10)
				default:
					c.base, c.token, path = shiliu, p.token, "/api/v1/"+kind+"s"
				}
				status, out, took, err := c.do(ctx, "POST", path, body)
				switch {
				case err != nil:
					failed[-1]++
				case status != http.StatusCreated:
					if failed[status] == 0 {
						logf("%s: %d %.200s", path, status, out)
					}
					failed[status]++
				default:
					lat = append(lat, took)
				}
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.n += len(lat)
			for k, v := range failed {
				res.failed[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// wpSubmission is a visit, or one time in five a tip, as the mini-program sends them.
func wpSubmission(rng *rand.Rand) (string, map[string]any) {
	for {
		kind, body := submission(rng)
		if kind == "visit" || kind == "tip" {
			return kind, body
		}
	}
}

// bareServer is the handlers without Shiliu: database/sql on the same pool.
type bareServer struct {
	engine  *gin.Engine
	db      *sql.DB
	batched *sql.DB // MySQL: the same database with multiStatements
	dialect string
	phones  map[int64]phone
	upsert  string

	mu       sync.Mutex
	prepared map[bool]*sql.Stmt // the tip pages' queries (bareread.go), with a status and without
	turns    chan struct{}      // a slot for each of the pool's connections (bareread.go)
	audit    bareAudit          // the audit entries of the tip pages read with audit=1
}

// startBare serves the bare handlers, through db, on a port of their own, and returns them,
// their address and what stops them.
func startBare(a *app.App, db *sql.DB) (*bareServer, string, func(), error) {
	bare, err := newBareServer(a, db)
	if err != nil {
		return nil, "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: bare.engine, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return bare, l.Addr().String(), func() { srv.Close() }, nil
}

func newBareServer(a *app.App, db *sql.DB) (*bareServer, error) {
	b := &bareServer{db: db, dialect: string(a.DB.Dialect), phones: map[int64]phone{}, prepared: map[bool]*sql.Stmt{},
		turns: make(chan struct{}, max(1, db.Stats().MaxOpenConnections)), audit: bareAudit{writer: make(chan struct{}, 1)}}
	create := "CREATE TABLE IF NOT EXISTS bench_bare_inserts (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at DATETIME NOT NULL)"
	b.upsert = "ON CONFLICT (grain, region_code, month, metric, slot) DO UPDATE SET n = stats_monthly.n + excluded.n"
	if b.dialect == "mysql" {
		create = "CREATE TABLE IF NOT EXISTS bench_bare_inserts (id BIGINT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL, created_at DATETIME(3) NOT NULL)"
		b.upsert = "ON DUPLICATE KEY UPDATE n = n + VALUES(n)"
	}
	if _, err := db.Exec(create); err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	b.engine = gin.New()
	b.engine.POST("/bare/insert", b.insert)
	b.engine.POST("/bare/visits", b.rows("visit", b.write))
	b.engine.POST("/bare/tips", b.rows("tip", b.write))
	b.engine.POST("/bare/batched/visits", b.rows("visit", b.writeBatched))
	b.engine.POST("/bare/batched/tips", b.rows("tip", b.writeBatched))
	b.engine.GET("/bare/tips", b.tips)
	return b, nil
}

func (b *bareServer) insert(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	res, err := b.db.ExecContext(c.Request.Context(), "INSERT INTO bench_bare_inserts (body, created_at) VALUES (?, ?)", string(body), time.Now().UTC())
	if err != nil {
		c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		return
	}
	id, _ := res.LastInsertId()
	c.JSON(http.StatusCreated, gin.H{"id": id})
}

type bareBody struct {
	ClientID   string    `json:"client_id"`
	Title      string    `json:"title"`
	Place      string    `json:"place"`
	OccurredAt time.Time `json:"occurred_at"`
	Latitude   *float64  `json:"latitude"`
	Longitude  *float64  `json:"longitude"`
	Visit      *struct {
		VisitKind      string   `json:"visit_kind"`
		Households     int      `json:"households"`
		People         int      `json:"people"`
		Ethnicities    []string `json:"ethnicities"`
		Content        string   `json:"content"`
		FollowUpNeeded bool     `json:"follow_up_needed"`
	} `json:"visit"`
	Tip *struct {
		Level          string `json:"level"`
		Kind           string `json:"kind"`
		PeopleInvolved int    `json:"people_involved"`
		GroupsInvolved string `json:"groups_involved"`
		Description    string `json:"description"`
		Ongoing        bool   `json:"ongoing"`
	} `json:"tip"`
}

// rows writes what a submission of kind writes, in one transaction, reading nothing.
// writer writes the rows of a submission and returns the record's id (write, writeBatched).
type writer func(ctx context.Context, kind string, p phone, in *bareBody, raw []byte, requestID, clientIP string) (int64, error)

func (b *bareServer) rows(kind string, write writer) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, _ := strconv.ParseInt(c.Query("instructor"), 10, 64)
		p, ok := b.phones[id]
		raw, err := io.ReadAll(c.Request.Body)
		var in bareBody
		if err == nil {
			err = json.Unmarshal(raw, &in)
		}
		if err != nil || !ok || (kind == "visit" && in.Visit == nil) || (kind == "tip" && in.Tip == nil) {
			c.JSON(http.StatusBadRequest, gin.H{"error": "bad body or instructor"})
			return
		}
		recID, err := write(c.Request.Context(), kind, p, &in, raw, c.GetHeader("X-Request-ID"), c.ClientIP())
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusCreated, gin.H{"id": recID, "kind": kind, "client_id": in.ClientID, "title": in.Title, "status": "submitted",
			"author_id": p.instructorID, "unit_id": p.unitID, "region_code": p.region, "version": 1})
	}
}

// stmt is one statement of the bare handlers.
type stmt struct {
	query string
	args  []any
}

// write runs the rows of a submission one statement at a time, in one transaction.
func (b *bareServer) write(ctx context.Context, kind string, p phone, in *bareBody, raw []byte, requestID, clientIP string) (int64, error) {
	rec, rest := b.statements(kind, p, in, raw, requestID, clientIP)
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, rec.query, rec.args...)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	for _, st := range rest(id) {
		if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return id, nil
}

// openBatched opens a pool on the same database whose connections run several statements in
// one query (multiStatements), for writeBatched.
func (b *bareServer) openBatched(dsn string, maxOpen int) error {
	_, driverDSN, err := database.Parse(dsn)
	if err != nil {
		return err
	}
	cfg, err := mysqldrv.ParseDSN(driverDSN)
	if err != nil {
		return err
	}
	cfg.MultiStatements = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	if maxOpen <= 0 {
		maxOpen = 20
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	b.batched = db
	return nil
}

// writeBatched runs the same statements in two round trips: the transaction's start with the
// record's INSERT (whose id the others need), then the rest and the COMMIT in one query.
func (b *bareServer) writeBatched(ctx context.Context, kind string, p phone, in *bareBody, raw []byte, requestID, clientIP string) (id int64, err error) {
	rec, rest := b.statements(kind, p, in, raw, requestID, clientIP)
	conn, err := b.batched.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	defer func() {
		if err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	res, err := conn.ExecContext(ctx, "START TRANSACTION; "+rec.query, rec.args...)
	if err != nil {
		return 0, err
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, err
	}
	var sb strings.Builder
	var args []any
	for _, st := range rest(id) {
		sb.WriteString(st.query)
		sb.WriteString("; ")
		args = append(args, st.args...)
	}
	sb.WriteString("COMMIT")
	_, err = conn.ExecContext(ctx, sb.String(), args...)
	return id, err
}

// statements are the rows of a submission: the record's INSERT, and the others once its id is
// known. They read nothing.
func (b *bareServer) statements(kind string, p phone, in *bareBody, raw []byte, requestID, clientIP string) (stmt, func(id int64) []stmt) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	occurred := in.OccurredAt.UTC()
	sum := sha256.Sum256(raw)
	status := "submitted"
	text := ""
	if in.Visit != nil {
		text = in.Visit.Content
	} else {
		text = in.Tip.Description + "\n" + in.Tip.GroupsInvolved
	}
	rec := stmt{`INSERT INTO records (kind, client_id, body_hash, author_id, author_account_id, unit_id, region_code, title,
		search_text, occurred_at, received_at, place, latitude, longitude, status, locked, return_note, withdraw_reason, version, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		[]any{kind, in.ClientID, hex.EncodeToString(sum[:]), p.instructorID, p.accountID, p.unitID, p.region, in.Title,
			text, occurred, now, in.Place, in.Latitude, in.Longitude, status, false, "", "", 1, now}}
	return rec, func(id int64) []stmt {
		var out []stmt
		facts := outbox.RecordFacts{}
		metrics := []string{"r:" + kind}
		if v := in.Visit; v != nil {
			out = append(out, stmt{"INSERT INTO record_visits (record_id, visit_kind, households, people, ethnicities, content, follow_up_needed) VALUES (?, ?, ?, ?, ?, ?, ?)",
				[]any{id, v.VisitKind, v.Households, v.People, strings.Join(v.Ethnicities, ","), v.Content, v.FollowUpNeeded}})
		} else {
			t := in.Tip
			deadline := now.Add(24 * time.Hour)
			facts.Level, facts.AckDeadline = t.Level, &deadline
			metrics = append(metrics, "t:"+t.Level+":"+status)
			out = append(out, stmt{`INSERT INTO record_tips (record_id, level, tip_kind, people_involved, groups_involved, description, ongoing,
			submitted_at, ack_deadline, acknowledged_at, escalated_to_level, escalated_at, resolved_at, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, NULL, NULL, NULL)`,
				[]any{id, t.Level, t.Kind, t.PeopleInvolved, t.GroupsInvolved, t.Description, t.Ongoing, now, deadline}})
		}
		data, _ := json.Marshal(facts)
		out = append(out, stmt{`INSERT INTO record_steps (record_id, action, from_status, to_status, note, data, actor_account_id, actor_role, actor_name, created_at)
		VALUES (?, 'submit', '', ?, '', ?, ?, 'instructor', ?, ?)`, []any{id, status, string(data), p.accountID, p.name, now}})
		snap, _ := json.Marshal(map[string]any{"id": id, "kind": kind, "client_id": in.ClientID, "title": in.Title, "status": status,
			"occurred_at": occurred, "received_at": now, "updated_at": now, "place": in.Place, "latitude": in.Latitude, "longitude": in.Longitude,
			"author_id": p.instructorID, "unit_id": p.unitID, "region_code": p.region, "version": 1, "editable": true, kind: json.RawMessage(mustJSON(in.Visit, in.Tip))})
		out = append(out, stmt{`INSERT INTO record_versions (record_id, version, action, snapshot, actor_account_id, actor_role, actor_name, created_at)
		VALUES (?, 1, 'submit', ?, ?, 'instructor', ?, ?)`, []any{id, string(snap), p.accountID, p.name, now}})
		// Statistics: one cell per metric under the city and the county, in the record's slot.
		slices.Sort(metrics)
		month := occurred.In(clock.Shanghai).Year()*100 + int(occurred.In(clock.Shanghai).Month())
		var sb strings.Builder
		var args []any
		sb.WriteString("INSERT INTO stats_monthly (grain, region_code, month, metric, slot, n) VALUES ")
		for i, g := range []struct {
			grain int
			code  string
		}{{stats.GrainCity, p.region[:4] + "00000000"}, {stats.GrainCounty, p.region[:6] + "000000"}} {
			for j, m := range metrics {
				if i+j > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString("(?,?,?,?,?,1)")
				args = append(args, g.grain, g.code, month, m, id%stats.Slots)
			}
		}
		out = append(out, stmt{sb.String() + " " + b.upsert, args},
			stmt{"INSERT INTO stats_record_facts (record_id, region_code, month, occurred_at, counted, metrics) VALUES (?, ?, ?, ?, ?, ?)",
				[]any{id, p.region, month, occurred, true, strings.Join(metrics, " ")}},
			stmt{"UPDATE instructors SET last_record_at = ? WHERE id = ? AND (last_record_at IS NULL OR last_record_at < ?)",
				[]any{occurred, p.instructorID, occurred}})
		event := outbox.VisitSteps.Submitted
		if kind == "tip" {
			event = outbox.TipSteps.Submitted
		}
		payload, _ := json.Marshal(outbox.Record{Event: event, RecordID: id, RecordKind: kind, Title: in.Title, Action: "submit", Status: status,
			AuthorID: p.instructorID, UnitID: p.unitID, Actor: outbox.Actor{AccountID: p.accountID, Role: "instructor", Name: p.name}, RecordFacts: facts})
		out = append(out, stmt{"INSERT INTO events (kind, subject_type, subject_id, region_code, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			[]any{event.String(), kind, id, p.region, string(payload), now}},
			stmt{`INSERT INTO audit_log (account_id, role, region_code, action, subject_type, subject_id, status, personal_data, request_id, client_ip, created_at)
		VALUES (?, 'instructor', ?, ?, ?, ?, 201, ?, ?, ?, ?)`, []any{p.accountID, p.region, "POST /api/v1/" + kind + "s", kind, id, false, requestID, clientIP, now}})
		return out
	}
}

func mustJSON(vs ...any) []byte {
	for _, v := range vs {
		if b, err := json.Marshal(v); err == nil && string(b) != "null" {
			return b
		}
	}
	return []byte("null")
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dbServerPID returns the pid of the MySQL/MariaDB server db is connected to, from its pid
// file, 0 if it is not on this machine or not known. (Several may run here: a replica, say.)
func dbServerPID(db *gorm.DB) int {
	if db.Dialector.Name() != "mysql" {
		return 0
	}
	var file string
	if err := db.Raw("SELECT @@pid_file").Scan(&file).Error; err != nil || file == "" {
		return 0
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// dbServerCPU is the CPU the process pid has used (utime + stime of /proc/pid/stat), 0 if unknown.
func dbServerCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which is in parentheses and may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
