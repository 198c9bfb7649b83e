package stats

// The statistics at province scale: seeds a MySQL/MariaDB database with 100,000 instructors and
// as many records as it can within a time budget (bulk multi-row INSERTs), then times the
// overview and the other routes. It never runs in the normal test suite:
//
//	SHILIU_STATS_BENCH_DSN='root@tcp(127.0.0.1:3306)/' SHILIU_STATS_BENCH_RECORDS=24000000 \
//	  go test -run TestStatsAtScale -v -timeout 0 ./server/stats/
//
// The database (SHILIU_STATS_BENCH_DB, default shiliu_stats_bench) is kept between runs: a second
// run with a larger SHILIU_STATS_BENCH_RECORDS adds records and measures again. Seeding stops at
// SHILIU_STATS_BENCH_SEED_MINUTES (default 10) per run. docs/performance.md has the results.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/paging"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"gorm.io/gorm"
)

// benchKey is a throwaway data key (base64 of 32 bytes) for the seeded phone numbers.
var benchKey = base64.StdEncoding.EncodeToString([]byte("shiliu-stats-benchmark-key-32byt"))

const (
	benchInstructors = 100_000
	benchUnits       = 60_000
	benchMonths      = 60 // the five years of the measures
	benchBatch       = 1000
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestStatsAtScale(t *testing.T) {
	server := os.Getenv("SHILIU_STATS_BENCH_DSN")
	if server == "" {
		t.Skip("set SHILIU_STATS_BENCH_DSN to a MySQL server (e.g. root@tcp(127.0.0.1:3306)/) to seed and measure")
	}
	name := os.Getenv("SHILIU_STATS_BENCH_DB")
	if name == "" {
		name = "shiliu_stats_bench"
	}
	target := envInt("SHILIU_STATS_BENCH_RECORDS", 24_000_000)
	budget := time.Duration(envInt("SHILIU_STATS_BENCH_SEED_MINUTES", 10)) * time.Minute
	ctx := context.Background()

	admin, err := database.Open(ctx, server, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, admin.Exec("CREATE DATABASE IF NOT EXISTS "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci").Error)
	admin.Close()
	dsn := strings.TrimSuffix(server, "/") + "/" + name
	if i := strings.Index(server, ")/"); i >= 0 {
		dsn = server[:i+2] + name
	}
	// Slow-query warnings would drown the results.
	d, err := database.Open(ctx, dsn, database.Options{MaxOpenConns: 8, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx, migrations.All); err != nil {
		t.Fatal(err)
	}
	// The seeder counts the aggregate itself; a server started on this database must not rebuild.
	must(t, d.Exec("DELETE FROM stats_state").Error)
	if _, err := region.Load(ctx, d.DB); err != nil {
		t.Fatal(err)
	}
	db := d.DB
	sqlDB, _ := db.DB()
	now := time.Now().UTC()

	var have int64
	must(t, db.Table("instructors").Count(&have).Error)
	if have == 0 {
		start := time.Now()
		seedRoster(t, db, sqlDB, now)
		t.Logf("seeded %d units and %d instructors in %s", benchUnits, benchInstructors, time.Since(start).Round(time.Second))
	}
	ins := loadInstructors(t, db)

	var maxID sql.NullInt64
	must(t, db.Raw("SELECT MAX(id) FROM records").Scan(&maxID).Error)
	if int(maxID.Int64) < target {
		start := time.Now()
		// Millions of rows go in far faster in primary-key order with the secondary indexes built
		// once afterwards (a sort) than maintained row by row in random order.
		restore, err := database.DropSecondaryIndexes(context.Background(), sqlDB, "records", "record_tips", "record_mediations")
		must(t, err)
		n := seedRecords(t, db, sqlDB, ins, maxID.Int64, target-int(maxID.Int64), now, start.Add(budget))
		el := time.Since(start)
		t.Logf("seeded %d records (ids %d–%d) in %s: %.0f records/s", n, maxID.Int64+1, maxID.Int64+int64(n),
			el.Round(time.Second), float64(n)/el.Seconds())
		start = time.Now()
		must(t, restore(context.Background()))
		t.Logf("rebuilt the secondary indexes in %s", time.Since(start).Round(time.Second))
	}
	var meetings int64
	must(t, db.Table("meetings").Count(&meetings).Error)
	if meetings == 0 {
		start := time.Now()
		seedMeetingsTraining(t, sqlDB, ins, now)
		// The training service tallies each attendance it records (migration 13 did so for the
		// enrolments before it); the seeded ones are tallied the way that step does.
		must(t, db.Exec("INSERT INTO training_tallies (session_id, county_code, attended, whole, tenths) "+
			"SELECT session_id, CONCAT(SUBSTRING(region_code, 1, 6), '000000') AS county, COUNT(*), COUNT(*) - COUNT(hours_tenths), "+
			"COALESCE(SUM(hours_tenths), 0) FROM training_enrolments WHERE status = 'attended' GROUP BY session_id, county").Error)
		t.Logf("seeded meetings and training in %s", time.Since(start).Round(time.Second))
	}
	for _, tbl := range []string{"records", "record_tips", "record_mediations", "stats_monthly", "instructors",
		"units", "meetings", "meeting_invitees", "training_sessions", "training_enrolments"} {
		must(t, db.Exec("ANALYZE TABLE "+tbl).Error)
	}
	if os.Getenv("SHILIU_STATS_BENCH_REBUILD") != "" {
		rebuildFromScratch(t, db)
	}
	measure(t, db, ins, now)
}

// rebuildFromScratch empties the statistics, rebuilds them from the records as a first start on
// an existing database does (stats.Prepare), and checks the result is the aggregate the seeder
// counted.
func rebuildFromScratch(t *testing.T, db *gorm.DB) {
	snapshot := func() map[string]int64 {
		var rows []Count
		must(t, db.Where("n <> 0").Find(&rows).Error)
		m := make(map[string]int64, len(rows))
		for _, c := range rows {
			m[fmt.Sprintf("%d %s %d %s", c.Grain, c.RegionCode, c.Month, c.Metric)] += c.N
		}
		return m
	}
	before := snapshot()
	for _, tbl := range []string{"stats_monthly", "stats_record_facts"} {
		must(t, db.Exec("TRUNCATE TABLE "+tbl).Error)
	}
	must(t, db.Exec("UPDATE instructors SET last_record_at = NULL").Error)
	start := time.Now()
	n, err := Rebuild(context.Background(), db)
	must(t, err)
	el := time.Since(start)
	t.Logf("rebuilt the statistics of %d records in %s (%.0f records/s)", n, el.Round(time.Second), float64(n)/el.Seconds())
	after := snapshot()
	diff := 0
	for k, v := range before {
		if after[k] != v {
			diff++
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diff++
		}
	}
	t.Logf("aggregate after the rebuild: %d cells, %d differ from the seeder's %d", len(after), diff, len(before))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// execAll runs literal SQL statements on n connections and returns the first error.
func execAll(sqlDB *sql.DB, workers int, stmts <-chan string) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := sqlDB.Conn(context.Background())
			if err == nil {
				defer conn.Close()
				_, err = conn.ExecContext(context.Background(), "SET unique_checks = 0")
			}
			for s := range stmts {
				if err == nil {
					_, err = conn.ExecContext(context.Background(), s)
				}
			}
			if err != nil {
				mu.Lock()
				first = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

func sqlTime(t time.Time) string { return "'" + t.UTC().Format("2006-01-02 15:04:05.000") + "'" }

// pick returns the index of a weight chosen at random.
func pick(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

type benchInstructor struct {
	id, unit int64
	region   string
	status   string
}

func seedRoster(t *testing.T, db *gorm.DB, sqlDB *sql.DB, now time.Time) {
	var codes []string
	must(t, db.Table("regions").Where("level IN ?", []int{4, 5}).Order("code").Pluck("code", &codes).Error)
	r := rand.New(rand.NewPCG(1, 2))
	box, err := secret.NewBox(benchKey)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := box.Encrypt("13800000000")
	if err != nil {
		t.Fatal(err)
	}
	kindWeights := []int{2, 2, 8, 10, 40, 12, 10, 1, 3, 5, 3, 2, 2}
	ethnicities := []string{"01", "03", "11", "02", "06", "05", "10", "97"}
	ethWeights := []int{85, 6, 5, 2, 1, 1, 1, 1}
	statuses := []string{roster.StatusActive, roster.StatusTermEnded, roster.StatusDismissed, roster.StatusSuspended}
	statusWeights := []int{94, 3, 2, 1}
	stmts := make(chan string, 8)
	go func() {
		defer close(stmts)
		var units, people strings.Builder
		nu, np := 0, 0
		flush := func(b *strings.Builder, head string, n *int) {
			if *n > 0 {
				stmts <- head + b.String()
			}
			b.Reset()
			*n = 0
		}
		insID := 0
		for u := 1; u <= benchUnits; u++ {
			code := codes[(u*7919)%len(codes)]
			kind := roster.UnitKinds[pick(r, kindWeights)].Code
			want := 2
			switch {
			case u%20 == 0:
				want = 0
			case u%5 == 1:
				want = 1
			}
			active := 0
			for range want {
				if insID >= benchInstructors {
					break
				}
				insID++
				st := statuses[pick(r, statusWeights)]
				if st == roster.StatusActive {
					active++
				}
				start := now.AddDate(0, 0, -r.IntN(3*365))
				ts := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
				if np > 0 {
					people.WriteByte(',')
				}
				fmt.Fprintf(&people, "(%d,%d,'%s','指导员%06d','%s','%s','%s','%064x','','%s','%s',%s,%s,%s,%s)",
					insID, u, code, insID, []string{"male", "female"}[r.IntN(2)], ethnicities[pick(r, ethWeights)], enc, insID,
					roster.SourceCategories[r.IntN(len(roster.SourceCategories))].Code, st,
					sqlTime(now), sqlTime(now), sqlTime(ts), sqlTime(ts.AddDate(3, 0, 0)))
				if np++; np == benchBatch {
					flush(&people, "INSERT INTO instructors (id, unit_id, region_code, name, gender, ethnicity, phone_enc, phone_hash, "+
						"id_number_enc, source_category, status, created_at, updated_at, term_start, term_end) VALUES ", &np)
				}
			}
			if nu > 0 {
				units.WriteByte(',')
			}
			fmt.Fprintf(&units, "(%d,'单位%06d','%s','%s',%d,%s,%s)", u, u, kind, code, active, sqlTime(now), sqlTime(now))
			if nu++; nu == benchBatch {
				flush(&units, "INSERT INTO units (id, name, kind, region_code, active_instructors, created_at, updated_at) VALUES ", &nu)
			}
		}
		flush(&people, "INSERT INTO instructors (id, unit_id, region_code, name, gender, ethnicity, phone_enc, phone_hash, "+
			"id_number_enc, source_category, status, created_at, updated_at, term_start, term_end) VALUES ", &np)
		flush(&units, "INSERT INTO units (id, name, kind, region_code, active_instructors, created_at, updated_at) VALUES ", &nu)
	}()
	must(t, execAll(sqlDB, 2, stmts))
}

func loadInstructors(t *testing.T, db *gorm.DB) []benchInstructor {
	var rows []struct {
		ID, UnitID         int64
		RegionCode, Status string
	}
	must(t, db.Table("instructors").Select("id, unit_id, region_code, status").Order("id").Scan(&rows).Error)
	out := make([]benchInstructor, len(rows))
	for i, r := range rows {
		out[i] = benchInstructor{r.ID, r.UnitID, r.RegionCode, r.Status}
	}
	return out
}

// seedRecords adds n records with their tip and mediation rows, and counts them into the aggregate
// and the activity as Tally would. Each million records sweeps the last five years in time order,
// so that stopping at the deadline still leaves them spread evenly over the five years.
func seedRecords(t *testing.T, db *gorm.DB, sqlDB *sql.DB, ins []benchInstructor, after int64, n int, now time.Time, deadline time.Time) int {
	r := rand.New(rand.NewPCG(uint64(after)+7, 11))
	start := now.AddDate(0, -benchMonths, 0)
	span := now.Sub(start)
	kinds := []string{"visit", "sentiment", "tip", "mediation"}
	kindWeights := []int{70, 15, 5, 10}
	sentStatus := []string{"open", "forwarded", "answered", "closed", record.StatusWithdrawn}
	sentWeights := []int{20, 20, 20, 39, 1}
	tipStatus := []string{"resolved", "acknowledged", "handling", "escalated", "submitted", record.StatusWithdrawn}
	tipWeights := []int{60, 15, 10, 5, 9, 1}
	levels := []string{"general", "serious", "major", "critical"}
	levelWeights := []int{60, 25, 10, 5}
	outcomes := []string{"settled", "partly_settled", "failed", "referred"}
	outcomeWeights := []int{60, 20, 10, 10}

	stmts := make(chan string, 6)
	agg := deltas{}
	last := map[int64]time.Time{}
	var seeded int
	done := make(chan error, 1)
	go func() { done <- execAll(sqlDB, 3, stmts) }()
	flushAgg := func() {
		// The aggregate (at most a million cells: 11 cities and 190 counties × 60 months × metrics)
		// goes in through the same upsert as Tally's.
		must(t, agg.apply(db.Session(&gorm.Session{})))
		agg = deltas{}
	}
	var recs, tips, meds strings.Builder
	nt, nm := 0, 0
	for i := 0; i < n; i++ {
		id := after + int64(i) + 1
		pass := min(n, 1_000_000)
		// Times to the millisecond, as the columns keep them: the aggregate counted here must be
		// the one a rebuild from the stored rows counts.
		occurred := start.Add(time.Duration((float64(i%pass) + r.Float64()) / float64(pass) * float64(span))).Truncate(time.Millisecond)
		a := ins[r.IntN(len(ins))]
		kind := kinds[pick(r, kindWeights)]
		status := "submitted"
		src := source{Kind: kind, RegionCode: a.region, OccurredAt: occurred}
		switch kind {
		case "visit", "mediation":
			if r.IntN(100) == 0 {
				status = record.StatusWithdrawn
			}
		case "sentiment":
			status = sentStatus[pick(r, sentWeights)]
		case "tip":
			status = tipStatus[pick(r, tipWeights)]
			sub := occurred.Add(time.Duration(r.IntN(120)) * time.Minute).Add(time.Duration(r.IntN(60_000)) * time.Millisecond)
			tp := &record.Tip{Level: levels[pick(r, levelWeights)], SubmittedAt: sub}
			if status != "submitted" && status != record.StatusWithdrawn {
				ack := sub.Add(time.Duration(math.Exp(r.Float64()*7)) * time.Minute)
				tp.AcknowledgedAt = &ack
				if status == "resolved" {
					res := ack.Add(time.Duration(math.Exp(r.Float64()*9)) * time.Minute)
					tp.ResolvedAt = &res
				}
			}
			src.Tip = tp
			if nt > 0 {
				tips.WriteByte(',')
			}
			fmt.Fprintf(&tips, "(%d,'%s','sign',3,'','风险描述',0,%s,%s,%s)", id, tp.Level, sqlTime(sub), nullTime(tp.AcknowledgedAt), nullTime(tp.ResolvedAt))
			nt++
		}
		if kind == "mediation" {
			src.Outcome = outcomes[pick(r, outcomeWeights)]
			if nm > 0 {
				meds.WriteByte(',')
			}
			fmt.Fprintf(&meds, "(%d,'neighborhood','[]','调解过程','%s','')", id, src.Outcome)
			nm++
		}
		src.Status = status
		agg.add(factOf(id, src), 1)
		if status != record.StatusWithdrawn && occurred.After(last[a.id]) {
			last[a.id] = occurred
		}
		if i%benchBatch > 0 {
			recs.WriteByte(',')
		}
		fmt.Fprintf(&recs, "(%d,'%s','%08x-0000-4000-8000-%012x','',%d,%d,'%s','记录%d',%s,%s,'%s',%s)",
			id, kind, a.id, id, a.id, a.unit, a.region, id, sqlTime(occurred), sqlTime(occurred.Add(time.Minute)), status,
			sqlTime(occurred.Add(time.Minute)))
		if i%benchBatch == benchBatch-1 || i == n-1 {
			stmts <- "INSERT INTO records (id, kind, client_id, body_hash, author_id, unit_id, region_code, title, occurred_at, received_at, status, updated_at) VALUES " + recs.String()
			recs.Reset()
			if nt > 0 {
				stmts <- "INSERT INTO record_tips (record_id, level, tip_kind, people_involved, groups_involved, description, ongoing, submitted_at, acknowledged_at, resolved_at) VALUES " + tips.String()
				tips.Reset()
				nt = 0
			}
			if nm > 0 {
				stmts <- "INSERT INTO record_mediations (record_id, dispute_kind, parties, process, outcome, agreement) VALUES " + meds.String()
				meds.Reset()
				nm = 0
			}
			seeded = i + 1
			if seeded%1_000_000 == 0 {
				t.Logf("  %d records", seeded)
			}
			if time.Now().After(deadline) {
				break
			}
		}
	}
	close(stmts)
	must(t, <-done)
	flushAgg()
	// Each instructor's latest record, never moved back (as the tally does), a thousand per statement.
	acts := make([]string, 0, len(last))
	for id, at := range last {
		acts = append(acts, fmt.Sprintf("SELECT %d AS id, %s AS at", id, sqlTime(at)))
	}
	for chunk := range slices.Chunk(acts, benchBatch) {
		must(t, db.Exec("UPDATE instructors AS i JOIN ("+strings.Join(chunk, " UNION ALL ")+") AS v ON v.id = i.id "+
			"SET i.last_record_at = GREATEST(COALESCE(i.last_record_at, v.at), v.at)").Error)
	}
	return seeded
}

func nullTime(t *time.Time) string {
	if t == nil {
		return "NULL"
	}
	return sqlTime(*t)
}

// seedMeetingsTraining gives each county a monthly meeting of all its instructors in office for
// the last year (85% check in), and each city a monthly training session and the province a
// quarterly one, a third (a tenth) of the instructors in office enrolled, 90% attending.
func seedMeetingsTraining(t *testing.T, sqlDB *sql.DB, ins []benchInstructor, now time.Time) {
	r := rand.New(rand.NewPCG(3, 4))
	byCounty, byCity := map[string][]benchInstructor{}, map[string][]benchInstructor{}
	var active []benchInstructor
	for _, i := range ins {
		if i.status == roster.StatusActive {
			byCounty[i.region[:6]+"000000"] = append(byCounty[i.region[:6]+"000000"], i)
			byCity[i.region[:4]+"00000000"] = append(byCity[i.region[:4]+"00000000"], i)
			active = append(active, i)
		}
	}
	stmts := make(chan string, 8)
	go func() {
		defer close(stmts)
		var rows []string
		put := func(head string, force bool) {
			if len(rows) >= benchBatch || (force && len(rows) > 0) {
				stmts <- head + strings.Join(rows, ",")
				rows = rows[:0]
			}
		}
		const invHead = "INSERT INTO meeting_invitees (meeting_id, instructor_id, unit_id, checked_in_at, checkin_method, created_at) VALUES "
		mid := int64(0)
		counties := slices.Sorted(func(yield func(string) bool) {
			for c := range byCounty {
				if !yield(c) {
					return
				}
			}
		})
		for _, county := range counties {
			for m := 1; m <= 12; m++ {
				mid++
				at := now.AddDate(0, -m, 0)
				stmts <- fmt.Sprintf("INSERT INTO meetings (id, region_code, title, place, starts_at, ends_at, audience, status, announced_at, invitee_count, created_at, updated_at) "+
					"VALUES (%d,'%s','月度例会','会议室',%s,%s,'county','scheduled',%s,%d,%s,%s)",
					mid, county, sqlTime(at), sqlTime(at.Add(time.Hour)), sqlTime(at.AddDate(0, 0, -7)), len(byCounty[county]), sqlTime(at), sqlTime(at))
				for _, i := range byCounty[county] {
					checked, method := "NULL", ""
					if r.IntN(100) < 85 {
						checked, method = sqlTime(at.Add(time.Duration(r.IntN(20))*time.Minute)), "qr"
					}
					rows = append(rows, fmt.Sprintf("(%d,%d,%d,%s,'%s',%s)", mid, i.id, i.unit, checked, method, sqlTime(at)))
					put(invHead, false)
				}
			}
		}
		put(invHead, true)
		const enrHead = "INSERT INTO training_enrolments (session_id, instructor_id, unit_id, region_code, status, created_at, updated_at) VALUES "
		sid := int64(0)
		session := func(regionCode string, at time.Time, people []benchInstructor, share int) {
			sid++
			stmts <- fmt.Sprintf("INSERT INTO training_sessions (id, region_code, title, method, mode, starts_at, ends_at, hours_tenths, created_at, updated_at) "+
				"VALUES (%d,'%s','培训','lecture','offline',%s,%s,%d,%s,%s)", sid, regionCode, sqlTime(at), sqlTime(at.Add(3*time.Hour)), 10+r.IntN(60), sqlTime(at), sqlTime(at))
			for _, i := range people {
				if r.IntN(share) != 0 {
					continue
				}
				st := "attended"
				if r.IntN(10) == 0 {
					st = "absent"
				}
				rows = append(rows, fmt.Sprintf("(%d,%d,%d,'%s','%s',%s,%s)", sid, i.id, i.unit, i.region, st, sqlTime(at), sqlTime(at)))
				put(enrHead, false)
			}
		}
		for city, people := range byCity {
			for m := 1; m <= 12; m++ {
				session(city, now.AddDate(0, -m, 3), people, 3)
			}
		}
		for q := 0; q < 4; q++ {
			session(region.ProvinceCode, now.AddDate(0, -3*q-1, 10), active, 10)
		}
		put(enrHead, true)
	}()
	must(t, execAll(sqlDB, 2, stmts))
}

// measure times each route's work (service calls, no HTTP) a few times and prints the plans of
// its queries.
func measure(t *testing.T, db *gorm.DB, ins []benchInstructor, now time.Time) {
	ctx := context.Background()
	var counts struct{ Records, Tips, Mediations, Cells, Invitees, Enrolments int64 }
	must(t, db.Raw(`SELECT (SELECT COUNT(*) FROM records) AS records, (SELECT COUNT(*) FROM record_tips) AS tips,
		(SELECT COUNT(*) FROM record_mediations) AS mediations, (SELECT COUNT(*) FROM stats_monthly) AS cells,
		(SELECT COUNT(*) FROM meeting_invitees) AS invitees, (SELECT COUNT(*) FROM training_enrolments) AS enrolments`).Scan(&counts).Error)
	t.Logf("size: %d records (%d tips, %d mediations), %d instructors, %d aggregate rows, %d meeting invitees, %d training enrolments",
		counts.Records, counts.Tips, counts.Mediations, len(ins), counts.Cells, counts.Invitees, counts.Enrolments)

	s := NewService(db, region.NewStore(db), clock.NewFake(now), nil)
	staff := func(role access.Role, code string) *access.Principal {
		return &access.Principal{AccountID: 1, Role: role, RegionCode: code}
	}
	province := staff(access.RoleProvinceStaff, region.ProvinceCode)
	// The busiest city, county and township of the seed.
	busiest := func(n int) string {
		var code string
		must(t, db.Raw("SELECT CONCAT(SUBSTRING(region_code, 1, ?), REPEAT('0', ?)) AS c FROM instructors GROUP BY c ORDER BY COUNT(*) DESC LIMIT 1", n, 12-n).Scan(&code).Error)
		return code
	}
	city, county, township := busiest(4), busiest(6), busiest(9)
	var village string
	must(t, db.Raw("SELECT region_code FROM instructors WHERE region_code LIKE ? GROUP BY region_code ORDER BY COUNT(*) DESC LIMIT 1", township[:9]+"%").Scan(&village).Error)
	year := monthOf(now)
	lastYear := Query{From: monthString(year - 100 + 1), To: monthString(year)}
	if year%100 == 12 {
		lastYear.From = monthString(year/100*100 + 1)
	}
	timeIt := func(label string, runs int, fn func() error) {
		var ds []time.Duration
		for range runs {
			start := time.Now()
			if err := fn(); err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		t.Logf("%-58s median %7.1f ms  (min %.1f, max %.1f, %d runs)", label, ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)-1]), runs)
	}
	// The first overview counts the meetings that ended (once for all later ones).
	start := time.Now()
	if _, err := s.Overview(ctx, province, lastYear); err != nil {
		t.Fatal(err)
	}
	t.Logf("%-58s %7.1f ms", "first overview, province (counts ended meetings)", ms(time.Since(start)))
	for _, c := range []struct {
		label string
		p     *access.Principal
		code  string
		q     Query
	}{
		{"overview, province, last 12 months", province, region.ProvinceCode, lastYear},
		{"overview, province, all 60 months", province, region.ProvinceCode, Query{From: monthString(monthOf(now.AddDate(0, -benchMonths+1, 0))), To: monthString(year)}},
		{"overview, city " + city + ", last 12 months", province, city, lastYear},
		{"overview, county " + county + ", last 12 months", province, county, lastYear},
		{"overview, township " + township + ", last 12 months", province, township, lastYear},
		{"overview, village " + village + ", last 12 months", province, village, lastYear},
	} {
		q := c.q
		q.RegionCode = c.code
		var ov Overview
		timeIt(c.label, 7, func() (err error) { ov, err = s.Overview(ctx, c.p, q); return err })
		t.Logf("    → %d instructors in office, %d records, %d tips (ack median %.0f min), %d units without, %d inactive",
			ov.Instructors.Active, ov.Records.Total, ov.Tips.Total, deref(ov.Tips.Acknowledge.MedianMinutes), ov.Units.WithoutInstructor, ov.Inactive.Count)
	}
	// The table of child regions the dashboard ranks: the province's cities and a city's counties
	// from the aggregate, a county's townships from the records.
	for _, c := range []struct{ label, code string }{
		{"region table, province's cities, last 12 months", region.ProvinceCode},
		{"region table, city " + city + "'s counties, last 12 months", city},
		{"region table, county " + county + "'s townships, last 12 months", county},
	} {
		q := lastYear
		q.RegionCode = c.code
		var rt RegionTable
		timeIt(c.label, 7, func() (err error) { rt, err = s.Regions(ctx, province, q); return err })
		t.Logf("    → %d rows", len(rt.Items))
	}
	// Each part of the province and of the township overview.
	period, err := s.ParsePeriod(lastYear.From, lastYear.To)
	must(t, err)
	var sc scope
	for _, code := range []string{region.ProvinceCode, township} {
		sc, _, err = s.resolve(ctx, province, code)
		must(t, err)
		var ov Overview
		for _, part := range []struct {
			label string
			fn    func() error
		}{
			{"instructors by status/ethnicity/source", func() error { return s.instructors(db, sc, &ov.Instructors) }},
			{"units by kind + 10 without an instructor", func() error { return s.units(ctx, db, sc, &ov) }},
			{"records, tips, mediations", func() error { return s.records(db, sc, period, &ov) }},
			{"meetings", func() error { return s.meetings(db, sc, period, now, &ov.Meetings) }},
			{"training", func() error { return s.training(db, sc, period, &ov) }},
			{"inactive in 90 days (count + 10)", func() error { return s.inactive(ctx, db, sc, now, &ov.Inactive) }},
		} {
			timeIt("  part ("+region.LevelName(sc.level)+"): "+part.label, 7, part.fn)
		}
	}
	sc, _, err = s.resolve(ctx, province, "")
	must(t, err)
	first := paging.Page{Limit: 20}
	timeIt("units without instructor, province, first page", 7, func() error {
		_, _, err := s.UnitsWithoutInstructor(ctx, province, "", nil, first)
		return err
	})
	timeIt("inactive instructors, province, first page", 7, func() error {
		_, _, err := s.InactiveInstructors(ctx, province, "", first)
		return err
	})
	// The busiest author's card.
	var author int64
	must(t, db.Raw("SELECT author_id FROM records WHERE id > (SELECT MAX(id) - 100000 FROM records) GROUP BY author_id ORDER BY COUNT(*) DESC LIMIT 1").Scan(&author).Error)
	var nrec int64
	must(t, db.Table("records").Where("author_id = ?", author).Count(&nrec).Error)
	timeIt(fmt.Sprintf("performance card, instructor with %d records, term years", nrec), 7, func() error {
		_, err := s.Card(ctx, province, author, 0)
		return err
	})
	timeIt("workbook, province, last 12 months (with full lists)", 3, func() error {
		f, err := s.Workbook(ctx, province, lastYear)
		if err == nil {
			err = f.Write(discard{})
		}
		return err
	})
	timeIt("workbook, county, last 12 months", 3, func() error {
		q := lastYear
		q.RegionCode = county
		f, err := s.Workbook(ctx, province, q)
		if err == nil {
			err = f.Write(discard{})
		}
		return err
	})
	measureWrites(t, db, ins, now)
	explain(t, db, sc, period, county, township, author, now)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func deref(f *float64) float64 {
	if f == nil {
		return -1
	}
	return *f
}

// measureWrites submits records through the record service with and without the hook, to show
// what keeping the aggregate costs a submission at this size.
func measureWrites(t *testing.T, db *gorm.DB, ins []benchInstructor, now time.Time) {
	ctx := context.Background()
	box, _ := secret.NewBox(benchKey)
	regions := region.NewStore(db)
	clk := clock.NewFake(now)
	rs := roster.NewService(db, box, regions, clk, time.Hour)
	log := slog.New(slog.DiscardHandler)
	var authors []benchInstructor
	for _, i := range ins {
		if i.status == roster.StatusActive {
			authors = append(authors, i)
		}
	}
	r := rand.New(rand.NewPCG(uint64(now.UnixNano()), 5))
	for _, withTally := range []bool{false, true, false, true} {
		opt := record.Options{}
		if withTally {
			opt.Tally = Tally{}
		}
		svc := record.NewService(db, rs, regions, nil, clk, log, opt)
		var ds []time.Duration
		for i := 0; i < 300; i++ {
			a := authors[r.IntN(len(authors))]
			p := &access.Principal{AccountID: 1, Role: access.RoleInstructor, InstructorID: a.id}
			kind := []string{"visit", "tip", "mediation"}[i%3]
			body := benchBody(kind, now.Add(-time.Duration(r.IntN(3600))*time.Second), r)
			start := time.Now()
			if _, _, err := svc.Submit(ctx, p, kind, body); err != nil {
				t.Fatalf("submit: %v", err)
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		t.Logf("submit (visit/tip/mediation), tally %-5v: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms (300 sequential submissions)",
			withTally, ms(ds[len(ds)/2]), ms(ds[len(ds)*9/10]), ms(ds[len(ds)*99/100]))
	}
}

func benchBody(kind string, at time.Time, r *rand.Rand) record.Body {
	b := map[string]any{
		"client_id": fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&(1<<48-1)),
		"title":     "测量" + kind, "occurred_at": at.In(clock.Shanghai).Format(time.RFC3339), "place": "村委会",
	}
	switch kind {
	case "visit":
		b[kind] = map[string]any{"visit_kind": "home_visit", "households": 2, "people": 5, "ethnicities": []any{"03"}, "content": "入户走访"}
	case "tip":
		b[kind] = map[string]any{"level": "general", "kind": "sign", "people_involved": 2, "description": "线索描述"}
	case "mediation":
		b[kind] = map[string]any{"dispute_kind": "neighborhood", "parties": []any{map[string]any{"name": "甲", "ethnicity": "01", "role": "applicant"}},
			"process": "调解", "outcome": "settled"}
	}
	out := record.Body{}
	for k, v := range b {
		raw, _ := json.Marshal(v)
		out[k] = raw
	}
	return out
}

// explain prints MariaDB's plan of each query the overview runs.
func explain(t *testing.T, db *gorm.DB, sc scope, period Period, county, township string, author int64, now time.Time) {
	lo, hi := "13", "14"
	cl, ch := county[:6], county[:5]+string(county[5]+1)
	tl, th := township[:9], township[:8]+string(township[8]+1)
	start, end := sqlTime(period.Start()), sqlTime(period.End())
	since := sqlTime(now.AddDate(0, 0, -InactiveDays))
	for _, q := range []struct{ label, sql string }{
		{"instructors (province)", "SELECT status, ethnicity, source_category, COUNT(*) FROM instructors WHERE region_code >= '" + lo + "' AND region_code < '" + hi + "' GROUP BY status, ethnicity, source_category"},
		{"units (province)", "SELECT kind, COUNT(*), SUM(active_instructors), SUM(CASE WHEN active_instructors <= 0 THEN 1 ELSE 0 END) FROM units WHERE region_code >= '" + lo + "' AND region_code < '" + hi + "' GROUP BY kind"},
		{"aggregate (province, city grain)", fmt.Sprintf("SELECT month, metric, SUM(n) FROM stats_monthly WHERE grain = 2 AND month >= %d AND month <= %d AND region_code >= '%s' AND region_code < '%s' GROUP BY month, metric", period.From, period.To, lo, hi)},
		{"aggregate (county)", fmt.Sprintf("SELECT month, metric, SUM(n) FROM stats_monthly WHERE grain = 3 AND month >= %d AND month <= %d AND region_code >= '%s' AND region_code < '%s' AND region_code = '%s' GROUP BY month, metric", period.From, period.To, cl, ch, county)},
		{"records (township, counted directly)", "SELECT id, kind, region_code, occurred_at, status FROM records WHERE region_code >= '" + tl + "' AND region_code < '" + th + "' AND occurred_at >= " + start + " AND occurred_at < " + end + " AND status <> 'withdrawn'"},
		{"meetings (province, ended ones kept)", "SELECT COUNT(*), SUM(m.invitees), SUM(m.checked_in) FROM stats_meetings AS m WHERE m.region_code >= '13' AND m.region_code < '14' AND m.starts_at >= " + start + " AND m.starts_at < " + end + " AND m.ends_at < " + since},
		{"training (province: tallies)", "SELECT COUNT(DISTINCT s.id), SUM(e.attended), SUM(e.tenths + e.whole * s.hours_tenths) FROM training_tallies AS e JOIN training_sessions AS s ON s.id = e.session_id WHERE e.attended > 0 AND e.county_code >= '13' AND e.county_code < '14' AND s.starts_at >= " + start + " AND s.starts_at < " + end},
		{"training (township: enrolments first)", "SELECT COUNT(DISTINCT s.id), COUNT(*), SUM(COALESCE(e.hours_tenths, s.hours_tenths)) FROM training_enrolments AS e STRAIGHT_JOIN training_sessions AS s ON e.session_id = s.id WHERE s.starts_at >= " + start + " AND s.starts_at < " + end + " AND e.status = 'attended' AND e.region_code >= '" + tl + "' AND e.region_code < '" + th + "'"},
		{"inactive (province)", "SELECT COUNT(*) FROM instructors AS i WHERE i.region_code >= '13' AND i.region_code < '14' AND i.status = 'active' AND (i.last_record_at IS NULL OR i.last_record_at < " + since + ")"},
		{"card records", fmt.Sprintf("SELECT r.kind, r.status, r.occurred_at, m.outcome FROM records AS r LEFT JOIN record_mediations AS m ON m.record_id = r.id WHERE r.author_id = %d AND r.status <> 'withdrawn' AND r.occurred_at >= %s AND r.occurred_at < %s", author, start, end)},
	} {
		var rows []map[string]any
		must(t, db.Raw("EXPLAIN "+q.sql).Scan(&rows).Error)
		t.Logf("EXPLAIN %s:", q.label)
		for _, r := range rows {
			t.Logf("    table=%v type=%v key=%v rows=%v extra=%v", r["table"], r["type"], r["key"], r["rows"], r["Extra"])
		}
	}
}
