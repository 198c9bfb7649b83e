// Command shiliu-bench measures field records at scale: it seeds a province of
// records straight into the tables, then drives the real HTTP server with real tokens and reports
// submission throughput and list latency, with the query plans of the lists.
//
//	SHILIU_BENCH_DSN=mysql://root@127.0.0.1:3306/shiliu_records_bench go run ./server/cmd/shiliu-bench
//
// The database must exist and is seeded once (1,000,000 records by default); later runs reuse
// it. Drop the database to seed again. See docs/performance.md for the figures.
//
// With -writepath it measures submissions instead, against the same rows written by bare
// handlers on the same database (writepath.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/fulltext"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/platform/wxfake"
)

type options struct {
	dsn, redis    string
	records       int
	instructors   int
	clients       int
	duration      time.Duration
	samples       int
	maxPerQuery   time.Duration
	seedOnly      bool
	skipSubmit    bool
	skipLists     bool
	skipExplain   bool
	maxOpenConns  int
	verboseServer bool
	only          string
	cpuProfile    string
	writePath     bool
	conns         []int
	rounds        int
	roundDuration time.Duration
	skew          int
	busy          int
	bulk          bool
	fillOnly      bool
	seedConns     int
	concurrency   int
}

func main() {
	var o options
	flag.StringVar(&o.dsn, "dsn", os.Getenv("SHILIU_BENCH_DSN"), "database to seed and serve (SHILIU_BENCH_DSN): mysql://user@host:port/db or a SQLite file")
	flag.StringVar(&o.redis, "redis", os.Getenv("SHILIU_BENCH_REDIS_URL"), "Redis URL (SHILIU_BENCH_REDIS_URL); empty: embedded")
	flag.IntVar(&o.records, "records", 1_000_000, "records to seed into an empty database")
	flag.IntVar(&o.instructors, "instructors", 20_000, "instructors to seed, spread over every county of Hebei")
	flag.IntVar(&o.clients, "clients", 50, "concurrent submitting instructors")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long the submission phase runs")
	flag.IntVar(&o.samples, "samples", 100, "requests per list query")
	flag.DurationVar(&o.maxPerQuery, "max-per-query", 30*time.Second, "stop sampling a list query after this long (at least 5 samples)")
	flag.BoolVar(&o.seedOnly, "seed-only", false, "seed and exit")
	flag.BoolVar(&o.skipSubmit, "skip-submit", false, "skip the submission phase")
	flag.BoolVar(&o.skipLists, "skip-lists", false, "skip the list phase")
	flag.BoolVar(&o.skipExplain, "skip-explain", false, "do not print the query plans of the lists")
	flag.IntVar(&o.maxOpenConns, "max-open-conns", 0, "database pool size of the server (0: the config default)")
	flag.BoolVar(&o.verboseServer, "v", false, "show the server's log (warnings and errors are always shown)")
	flag.StringVar(&o.only, "only", "", "measure only the lists and exports whose name contains this; with -skew a name starts with its county's label (\"tips old: county: tip inbox (50)\"), so \"tip\" matches every list of both counties")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measuring phases (server and clients) to this file")
	flag.BoolVar(&o.writePath, "writepath", false, "measure submissions against the same rows written bare (no lists, no -submit phase)")
	conns := flag.String("conns", "16,64", "-writepath: concurrent phones, a comma-separated list")
	flag.IntVar(&o.rounds, "rounds", 3, "-writepath: rounds; each runs every handler once per scenario and connection count")
	flag.DurationVar(&o.roundDuration, "round-duration", 5*time.Second, "-writepath: how long each handler runs in a round")
	flag.IntVar(&o.skew, "skew", 0, "seed two busy counties of this many records each over five years, their kinds in blocks of time "+
		"(one with its tips older than all its newest visits, one the reverse), -records more over the other counties; "+
		"then measure the lists of those two counties")
	flag.IntVar(&o.busy, "busy", 0, "seed one busy county (the one with the most villages) of this many records over five years, "+
		"kinds in the usual mix, and -records more over the other counties; the lists measured are the usual ones")
	flag.BoolVar(&o.bulk, "bulk", false, "MySQL/MariaDB: seed with the records' secondary indexes dropped and rebuilt afterwards, "+
		"on -seed-conns connections, and fill the Mroonga full-text index with its indexes built afterwards (tens of millions of records)")
	flag.BoolVar(&o.fillOnly, "fill-offline", false, "fill the empty Mroonga full-text index of a seeded database as -bulk does, and exit")
	flag.IntVar(&o.seedConns, "seed-conns", 3, "-bulk: connections writing the records")
	flag.IntVar(&o.concurrency, "c", 1, "concurrent callers of each list")
	flag.Parse()
	for _, c := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "shiliu-bench: -conns is a comma-separated list of positive numbers")
			os.Exit(2)
		}
		o.conns = append(o.conns, n)
	}
	if o.dsn == "" {
		fmt.Fprintln(os.Stderr, "shiliu-bench: set -dsn or SHILIU_BENCH_DSN (e.g. mysql://root@127.0.0.1:3306/shiliu_records_bench)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "shiliu-bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options) error {
	wx := wxfake.New()
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(wl, wx)

	uploads, err := os.MkdirTemp("", "shiliu-bench-uploads-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(uploads)
	cfg := config.Default()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Database.DSN = o.dsn
	if o.maxOpenConns > 0 {
		cfg.Database.MaxOpenConns, cfg.Database.MaxIdleConns = o.maxOpenConns, o.maxOpenConns
	}
	cfg.Redis.URL = o.redis
	cfg.Redis.Prefix = fmt.Sprintf("shiliu_bench_%d:", time.Now().UnixNano()%1e6)
	cfg.Uploads.Dir = uploads
	// Accounts are created for the run; their password cost and the login limit are not measured.
	cfg.Security.BcryptCost = 4
	cfg.Security.TokenSecret, cfg.Security.DataKey = config.NewSecrets()
	cfg.Security.LoginPerMinute = 100000
	cfg.Security.AccessTokenTTL = 6 * time.Hour
	cfg.WeChat.AppID, cfg.WeChat.Secret = "wx-bench-appid", "wx-bench-secret"
	cfg.WeChat.APIBase = "http://" + wl.Addr().String()
	cfg.WeChat.WeComAPIBase = cfg.WeChat.APIBase
	if o.writePath {
		// The write path alone: the dispatcher would deliver the events of two of the three
		// handlers and weigh on them only.
		cfg.Notify.DispatchInServe = false
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	level := slog.LevelWarn
	if o.verboseServer {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	began := time.Now()
	a, err := app.Open(ctx, cfg, app.WithLogger(log))
	if err != nil {
		return err
	}
	defer a.Close()
	logf("opened %s (%s), schema migrated, regions loaded in %s", a.DB.Dialect, redact(o.dsn), time.Since(began).Round(time.Millisecond))
	sqlDB, err := a.DB.DB.DB()
	if err != nil {
		return err
	}

	if o.fillOnly {
		// For a -bulk seed whose own fill did not run (or runs later: it then finds the index
		// filled and stops).
		began := time.Now()
		if err := fillOffline(ctx, sqlDB, 200_000); err != nil {
			return err
		}
		logf("full-text index filled in %s", time.Since(began).Round(time.Second))
		return nil
	}
	var have int64
	if err := sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM records").Scan(&have); err != nil {
		return err
	}
	if have == 0 {
		box, err := secret.NewBox(cfg.Security.DataKey)
		if err != nil {
			return err
		}
		s := newSeeder(sqlDB, a.DB.Dialect, box, time.Now().UTC(), logf)
		var rebuild func(context.Context) error
		if o.bulk {
			if a.DB.Dialect != database.MySQL {
				return fmt.Errorf("-bulk is for MySQL/MariaDB")
			}
			if rebuild, err = database.DropSecondaryIndexes(ctx, sqlDB, seededTables...); err != nil {
				return err
			}
			s.conns = o.seedConns
		}
		began := time.Now()
		counties, err := s.counties(ctx)
		if err != nil {
			return err
		}
		ins, err := s.roster(ctx, counties, o.instructors)
		if err != nil {
			return err
		}
		total := o.records
		switch {
		case o.skew > 0:
			s.waiting = 0.002
			if _, err := s.skewed(ctx, counties, ins, o.records, o.skew, skewCounties); err != nil {
				return err
			}
			total += len(skewCounties) * o.skew
		case o.busy > 0:
			if _, err := s.skewed(ctx, counties, ins, o.records, o.busy, busyCounty); err != nil {
				return err
			}
			total += len(busyCounty) * o.busy
		default:
			if err := s.records(ctx, ins, o.records); err != nil {
				return err
			}
		}
		seeded := time.Since(began)
		if rebuild != nil {
			rebuilt := time.Now()
			if err := rebuild(ctx); err != nil {
				return err
			}
			logf("records seeded in %s, their secondary indexes rebuilt in %s", seeded.Round(time.Second), time.Since(rebuilt).Round(time.Second))
		}
		// Seeded straight into the tables after migrations 44 and 45: the full-text indexes are
		// filled as the migrations fill them on a database that already had rows.
		indexed := time.Now()
		if e, err := fulltext.Detect(a.DB.DB.WithContext(ctx)); err != nil {
			return err
		} else if o.bulk && e == fulltext.Mroonga {
			if err := fillOffline(ctx, sqlDB, 200_000); err != nil {
				return err
			}
		} else if err := fulltext.Fill(ctx, a.DB.DB, func(last, max int64) {
			if last%100_000 < fulltext.FillBatch || last == max {
				logf("full-text index: %d of %d record ids", last, max)
			}
		}); err != nil {
			return err
		}
		for _, src := range []*fulltext.Source{fulltext.Units, fulltext.Instructors} {
			if err := src.Fill(ctx, a.DB.DB, nil); err != nil {
				return err
			}
		}
		logf("full-text index filled in %s (records, then units and instructors as migration 45)", time.Since(indexed).Round(time.Second))
		analyzed := time.Now()
		if err := analyze(ctx, a); err != nil {
			return err
		}
		logf("seed done: %d records in %s, statistics updated in %s", total, seeded.Round(time.Second), time.Since(analyzed).Round(time.Millisecond))
	} else {
		logf("the database already holds %d records: not seeding (drop it to seed again)", have)
	}
	if o.seedOnly {
		return nil
	}

	addr, err := a.Listen()
	if err != nil {
		return err
	}
	srvCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- a.Run(srvCtx) }()
	defer func() { stopServer(); <-served }()

	if o.writePath {
		return runWritePath(ctx, a, addr.String(), o)
	}
	b, err := newBench(ctx, a, addr.String(), o)
	if err != nil {
		return err
	}
	stopProfile, err := startProfile(o)
	if err != nil {
		return err
	}
	defer stopProfile()
	if !o.skipLists {
		lists := b.lists
		if o.skew > 0 {
			lists = b.skewLists
		}
		if err := lists(ctx); err != nil {
			return err
		}
	}
	if !o.skipSubmit {
		if err := b.submissions(ctx); err != nil {
			return err
		}
	}
	b.report(os.Stdout)
	return nil
}

// startProfile starts the CPU profile of -cpuprofile, if asked for, and returns what stops it.
func startProfile(o options) (func(), error) {
	if o.cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(o.cpuProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// analyze refreshes the optimizer's statistics after the bulk load, as a production database
// has them.
func analyze(ctx context.Context, a *app.App) error {
	if a.DB.Dialect == "mysql" {
		return a.DB.WithContext(ctx).Exec("ANALYZE TABLE records, record_visits, record_sentiments, record_tips, record_mediations, units, instructors").Error
	}
	return a.DB.WithContext(ctx).Exec("ANALYZE").Error
}

func redact(dsn string) string {
	if len(dsn) > 80 {
		return dsn[:80] + "…"
	}
	return dsn
}
