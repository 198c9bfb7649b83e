// Package app wires Shiliu by hand: configuration, database, Redis, WeChat gateway, services and
// router, with Open/Run/Close. main and the end-to-end tests build the same App.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shiliu/shiliu/server/adjustment"
	"github.com/shiliu/shiliu/server/assessment"
	"github.com/shiliu/shiliu/server/audit"
	"github.com/shiliu/shiliu/server/auth"
	"github.com/shiliu/shiliu/server/bulletin"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/console"
	"github.com/shiliu/shiliu/server/filing"
	"github.com/shiliu/shiliu/server/httpapi"
	"github.com/shiliu/shiliu/server/meeting"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/nomination"
	"github.com/shiliu/shiliu/server/notify"
	"github.com/shiliu/shiliu/server/platform/cache"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/health"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/platform/wechat"
	"github.com/shiliu/shiliu/server/record"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/stats"
	"github.com/shiliu/shiliu/server/support"
	"github.com/shiliu/shiliu/server/task"
	"github.com/shiliu/shiliu/server/tipfeed"
	"github.com/shiliu/shiliu/server/training"
	"github.com/shiliu/shiliu/server/upload"
	"gorm.io/gorm"
)

// App is one running Shiliu instance.
type App struct {
	Config config.Config
	Log    *slog.Logger
	Clock  clock.Clock
	DB     *database.DB
	Redis  *cache.Redis
	// Replicas take the reads of lists, exports and statistics when database.replicas is set.
	Replicas *database.Replicas
	WeChat   *wechat.Client
	Regions  *region.Store
	Roster   *roster.Service
	Auth     *auth.Service
	Uploads  *upload.Service
	Audit    *audit.Service
	Records  *record.Service
	// TipFeed wakes the open tip desks of every instance through Redis after a tip changes.
	TipFeed *tipfeed.Feed
	Notify  *notify.Service
	// Meetings and Bulletins write their notices into the events outbox; their sweeps (reminders,
	// scheduled publishing) run inside Run.
	Meetings  *meeting.Service
	Bulletins *bulletin.Service
	// Nominations and Filings administer the roster: selection and filing to the level above.
	Nominations *nomination.Service
	Filings     *filing.Service
	// Training keeps plans, sessions and hours; Tasks assigns work and writes its notices into
	// the events outbox.
	Training *training.Service
	Tasks    *task.Service
	// Stats reads the statistics; record changes keep its aggregate through record.Options.Tally.
	Stats *stats.Service
	// Support keeps the support given to instructors and their suggestions; Assessments the
	// yearly grades; Adjustments the central three-year adjustment, whose reminders are swept
	// inside Run, as training's are.
	Support     *support.Service
	Assessments *assessment.Service
	Adjustments *adjustment.Service
	// Dispatcher delivers notifications: inside Run when notify.dispatch_in_serve, or alone
	// through Dispatch.
	Dispatcher *notify.Dispatcher
	// Ready evaluates readiness for /readyz and the shiliu_dependency_up gauges.
	Ready   *health.Checker
	Handler http.Handler

	listener net.Listener
	// pruned counts the rows the retention sweep deleted, by table.
	pruned *prometheus.CounterVec
}

// Option adjusts Open, for tests.
type Option func(*openOptions)

type openOptions struct {
	clock   clock.Clock
	logger  *slog.Logger
	quiet   bool
	storage func(upload.Storage) upload.Storage
}

// WithClock replaces the wall clock.
func WithClock(c clock.Clock) Option { return func(o *openOptions) { o.clock = c } }

// WithStorage wraps the upload store, for tests that give it the faults of a full or read-only
// disk.
func WithStorage(wrap func(upload.Storage) upload.Storage) Option {
	return func(o *openOptions) { o.storage = wrap }
}

// OpenStorage is the upload store the configuration names, checked writable: the object store of
// uploads.storage_url when set, else the directory uploads.dir.
func OpenStorage(ctx context.Context, cfg config.UploadsConfig) (upload.Storage, error) {
	if cfg.StorageURL != "" {
		s3, err := upload.NewS3(cfg.StorageURL)
		if err != nil {
			return nil, fmt.Errorf("uploads.storage_url (SHILIU_STORAGE_URL): %w", err)
		}
		if err := s3.CheckWritable(ctx); err != nil {
			return nil, fmt.Errorf("%w: check uploads.storage_url (SHILIU_STORAGE_URL), the bucket and its access key", err)
		}
		return s3, nil
	}
	disk, err := upload.NewDisk(cfg.Dir)
	if err == nil {
		err = disk.CheckWritable(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: give the user running shiliu write access to it, or set uploads.dir (SHILIU_UPLOADS_DIR)", err)
	}
	return disk, nil
}

// WithLogger replaces the default logger.
func WithLogger(l *slog.Logger) Option { return func(o *openOptions) { o.logger = l } }

// ForTool opens the app for a one-off command (seed-demo, user create): no "starting shiliu"
// line with a listen address it will never use.
func ForTool() Option { return func(o *openOptions) { o.quiet = true } }

// NewLogger builds the process logger from config; every line carries the request id when there
// is one.
func NewLogger(cfg config.LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if cfg.Format == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	return slog.New(httpapi.LogHandler{Handler: h})
}

// Open connects to everything, brings the schema up to date (or refuses a schema that is behind),
// loads the regions on first start and wires the services.
func Open(ctx context.Context, cfg config.Config, opts ...Option) (_ *App, err error) {
	o := openOptions{clock: clock.Real{}}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = NewLogger(cfg.Log)
	}
	a := &App{Config: cfg, Log: o.logger, Clock: o.clock}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if !o.quiet {
		a.Log.Info("starting shiliu", "config", cfg.Redacted())
		if cfg.Mode == "dev" {
			a.Log.Warn("dev mode is for trials: do not serve real instructors' data with it; set SHILIU_MODE=prod with your own secrets, MySQL and Redis",
				"secrets_file", cfg.Security.SecretsFile, "secrets_generated_now", cfg.Security.SecretsGenerated())
		}
	}

	a.DB, err = OpenDatabase(ctx, cfg.Database, a.Log)
	if err != nil {
		return nil, err
	}
	if err := a.prepareSchema(ctx); err != nil {
		return nil, err
	}

	cache.SetLogger(a.Log)
	a.Redis, err = cache.Open(ctx, cfg.Redis.URL)
	if a.Redis == nil {
		return nil, err
	}
	if err != nil {
		a.Log.Error("redis is not reachable; starting anyway, /readyz reports it", "err", err)
	}
	if a.Redis.Embedded {
		a.Log.Warn("SHILIU_REDIS_URL is empty: using an embedded in-process Redis. It is for trials only: " +
			"it is lost on exit and not shared between instances")
	}

	if len(cfg.Database.Replicas) > 0 {
		a.Replicas, err = database.OpenReplicas(ctx, a.DB, cfg.Database.Replicas, database.ReplicaOptions{
			MaxLag: cfg.Database.ReplicaMaxLag,
			Pool: database.Options{MaxOpenConns: cfg.Database.MaxOpenConns, MaxIdleConns: cfg.Database.MaxIdleConns,
				ConnMaxLife: cfg.Database.ConnMaxLife, SlowQuery: cfg.Database.SlowQuery, Logger: a.Log},
		})
		if err != nil {
			return nil, fmt.Errorf("database.replicas (SHILIU_DATABASE_REPLICAS): %w", err)
		}
		a.Replicas.Marks = cache.WriteMarks{Redis: a.Redis, Prefix: cfg.Redis.Prefix, Window: cfg.Database.ReadYourWrites}
		a.Replicas.Start(ctx)
		a.Log.Info("read replicas", "configured", len(cfg.Database.Replicas), "in_step", a.Replicas.InStep(),
			"max_lag", cfg.Database.ReplicaMaxLag.String(), "read_your_writes", cfg.Database.ReadYourWrites.String())
	}

	a.WeChat, err = wechat.New(wechat.Config{
		AppID: cfg.WeChat.AppID, Secret: cfg.WeChat.Secret, APIBase: cfg.WeChat.APIBase,
		WeComAPIBase: cfg.WeChat.WeComAPIBase, Timeout: cfg.WeChat.Timeout, MiniprogramState: cfg.WeChat.MiniprogramState,
	}, a.Redis, cfg.Redis.Prefix+"wx:")
	if err != nil {
		return nil, err
	}

	box, err := secret.NewBox(cfg.Security.DataKey)
	if err != nil {
		return nil, err
	}
	a.Regions = region.NewStore(a.DB.DB)
	a.Roster = roster.NewService(a.DB.DB, box, a.Regions, a.Clock, cfg.Security.InviteTTL)
	a.Auth = auth.NewService(a.DB.DB, a.Redis, a.Roster, a.Regions, a.WeChat, a.Clock, a.Log, auth.Options{
		TokenSecret: cfg.Security.TokenSecret, AccessTTL: cfg.Security.AccessTokenTTL, RefreshTTL: cfg.Security.RefreshTokenTTL,
		BcryptCost: cfg.Security.BcryptCost, MaxLoginFails: cfg.Security.MaxLoginFails,
		LockoutDuration: cfg.Security.LockoutDuration, LoginPerMinute: cfg.Security.LoginPerMinute,
		RedisPrefix: cfg.Redis.Prefix, RedisReplicas: a.Redis.WaitReplicas,
		Bind: auth.BindLimits{PerTicket: cfg.Security.BindTriesPerTicket, PerOpenID: cfg.Security.BindFailuresPerOpenID,
			PerIP: cfg.Security.BindFailuresPerIP, Window: cfg.Security.BindFailureWindow},
	})
	a.Roster.OnChange(a.Auth.FollowInstructor)

	files, err := OpenStorage(ctx, cfg.Uploads)
	if err != nil {
		return nil, err
	}
	if o.storage != nil {
		files = o.storage(files)
	}
	urlSecret := cfg.Uploads.URLSecret
	if urlSecret == "" {
		urlSecret = cfg.Security.TokenSecret
	}
	a.Uploads = upload.NewService(a.DB.DB, files, upload.SigningKey(urlSecret), a.Clock, cfg.Uploads.URLTTL,
		"/api/v1/files", cfg.Uploads.MaxBytes, upload.Options{
			MaxConcurrent: cfg.Uploads.MaxConcurrent, QueueWait: cfg.Uploads.QueueWait, MaxPerAccount: cfg.Uploads.MaxPerAccount,
			MissingAfter: cfg.Uploads.OrphanAfter, Log: a.Log,
		})
	a.Audit = audit.NewService(a.DB.DB, a.Clock)
	// An instructor's files not yet attached carry their region (see upload.Upload).
	a.Roster.OnChange(func(ctx context.Context, tx *gorm.DB, c roster.Change) error {
		if c.RegionCode == "" {
			return nil
		}
		return a.Uploads.MoveUnattached(ctx, tx, c.InstructorID, c.RegionCode)
	})
	a.TipFeed = tipfeed.New(a.DB.DB, a.Redis, a.Log, tipfeed.Options{Channel: cfg.Redis.Prefix + "tips"})
	a.Records = record.NewService(a.DB.DB, a.Roster, a.Regions, a.Uploads, a.Clock, a.Log,
		record.Options{AckDeadlines: cfg.Records.TipAckDeadlines.ByLevel(), Tally: stats.Tally{},
			Committed: func(kind, regionCode string) {
				if kind == "tip" {
					a.TipFeed.Publish(regionCode)
				}
			}})
	a.Meetings = meeting.NewService(a.DB.DB, a.Regions, a.Clock, a.Log, meeting.Options{
		CheckinKey: meeting.CheckinKey(cfg.Security.TokenSecret), Reminders: cfg.Meetings.Reminders,
		CheckinRadius: float64(cfg.Meetings.CheckinRadiusMeters), CheckinOpensBefore: cfg.Meetings.CheckinOpensBefore,
		SeriesHorizon: cfg.Meetings.SeriesHorizon, Files: a.Uploads,
	})
	a.Bulletins = bulletin.NewService(a.DB.DB, a.Roster, a.Regions, a.Uploads, a.Clock, a.Log)
	a.Nominations = nomination.NewService(a.DB.DB, box, a.Roster, a.Regions, a.Auth, a.Clock)
	a.Filings = filing.NewService(a.DB.DB, a.Roster, a.Regions, a.Clock, a.Log,
		filing.Options{RemindAfter: cfg.Filing.RemindAfter, RemindEvery: cfg.Filing.RemindEvery})
	a.Training = training.NewService(a.DB.DB, a.Regions, a.Clock, a.Log, training.Options{Reminders: cfg.Training.Reminders})
	a.Tasks = task.NewService(a.DB.DB, a.Regions, a.Uploads, a.Clock, a.Log)
	a.Stats = stats.NewService(a.DB.DB, a.Regions, a.Clock, cfg.Records.TipAckDeadlines.ByLevel())
	if err := stats.Prepare(ctx, a.DB.DB, a.Log); err != nil {
		return nil, fmt.Errorf("statistics: %w", err)
	}
	a.Support = support.NewService(a.DB.DB, a.Roster, a.Regions, a.Clock)
	a.Assessments = assessment.NewService(a.DB.DB, a.Stats, a.Clock)
	a.Adjustments = adjustment.NewService(a.DB.DB, a.Roster, a.Assessments, a.Regions, a.Clock, a.Log,
		adjustment.Options{RemindEvery: cfg.Adjustment.RemindEvery})

	reg := prometheus.NewRegistry()
	sqlDB, err := a.DB.DB.DB()
	if err != nil {
		return nil, err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(sqlDB, "shiliu"))
	reg.MustRegister(a.Uploads.Collectors()...)
	a.pruned = newPrunedCounter()
	reg.MustRegister(a.pruned)
	a.Notify, a.Dispatcher = notify.New(cfg.Notify, notify.Deps{
		DB: a.DB.DB, Redis: a.Redis, RedisPrefix: cfg.Redis.Prefix, RedisReplicas: a.Redis.WaitReplicas, Box: box, Regions: a.Regions, WeChat: a.WeChat,
		Clock: a.Clock, Log: a.Log, Metrics: reg, SendTimeout: cfg.WeChat.Timeout + 2*time.Second,
	})
	a.Ready = a.readiness()
	reg.MustRegister(a.Ready)
	a.Handler, err = httpapi.NewRouter(httpapi.Deps{
		Log: a.Log, Auth: a.Auth, Roster: a.Roster, Regions: a.Regions,
		Ready:   a.Ready,
		Metrics: reg, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, TrustedProxies: cfg.HTTP.TrustedProxies,
		Notify: a.Notify, Meetings: a.Meetings, Bulletins: a.Bulletins,
		Nominations: a.Nominations, Filings: a.Filings, Training: a.Training, Tasks: a.Tasks, Stats: a.Stats,
		Support: a.Support, Assessments: a.Assessments, Adjustments: a.Adjustments,
		Uploads: a.Uploads, Audit: a.Audit, Records: a.Records, TipFeed: a.TipFeed, UploadMaxBytes: cfg.Uploads.MaxBytes, TransferTimeout: cfg.Uploads.TransferTimeout,
		StallTimeout: cfg.Uploads.StallTimeout, ImportMaxConcurrent: cfg.Uploads.ImportMaxConcurrent,
		SecureCookies: cfg.Mode == "prod",
		Console:       console.Handler(),
		Replicas:      a.Replicas,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// readiness is what /readyz and shiliu_dependency_up report. Only the database is critical:
// without it nothing works. Without Redis, logins with WeChat and robot pacing stop but records,
// staff work and alerts go on; a stalled dispatcher delays alerts; a full or read-only upload
// store refuses attachments. Taking every instance out of the load balancer for those (they
// usually share Redis and the upload volume) would turn a partial outage into a full one.
func (a *App) readiness() *health.Checker {
	checks := []health.Check{
		{Name: "database", Critical: true, Probe: a.DB.Ping},
		{Name: "redis", Probe: func(ctx context.Context) error { return a.Redis.Ping(ctx).Err() }},
		{Name: "uploads", Probe: a.Uploads.CheckStorage},
	}
	if a.Config.Notify.DispatchInServe {
		checks = append(checks, health.Check{Name: "dispatcher", Probe: a.Dispatcher.Health})
	}
	return health.New(a.Log, checks...)
}

// prepareSchema migrates (when allowed) and refuses to go on with a schema that is behind.
func (a *App) prepareSchema(ctx context.Context) error {
	latest := database.Latest(migrations.All)
	if a.Config.Database.AutoMigrate {
		applied, err := a.DB.Migrate(ctx, migrations.All)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			a.Log.Info("database migrated", "applied", applied)
		}
	}
	v, err := a.DB.Version(ctx)
	if err != nil {
		return err
	}
	if v < latest {
		return fmt.Errorf("database schema is at version %d but this binary needs %d: run `shiliu migrate` first", v, latest)
	}
	if v > latest {
		return fmt.Errorf("database schema version %d is newer than this binary (%d): deploy the newer binary", v, latest)
	}
	if a.Config.Database.LoadRegions {
		start := time.Now()
		n, err := region.Load(ctx, a.DB.DB)
		if err != nil {
			return fmt.Errorf("load regions: %w", err)
		}
		if n > 0 {
			a.Log.Info("regions loaded", "rows", n, "ms", time.Since(start).Milliseconds())
		}
	}
	return nil
}

// OpenDatabase connects to cfg.DSN. A database server that does not answer is tried again every
// two seconds, with a log line each time, for up to cfg.ConnectWait: one started beside the
// server (a compose file, a host rebooting) takes a while to accept connections. Errors name
// the setting.
func OpenDatabase(ctx context.Context, cfg config.DatabaseConfig, log *slog.Logger) (*database.DB, error) {
	giveUp := time.Now().Add(cfg.ConnectWait)
	for try := 1; ; try++ {
		db, err := database.Open(ctx, cfg.DSN, database.Options{
			MaxOpenConns: cfg.MaxOpenConns, MaxIdleConns: cfg.MaxIdleConns, ConnMaxLife: cfg.ConnMaxLife, SlowQuery: cfg.SlowQuery, Logger: log,
		})
		if err == nil {
			return db, nil
		}
		err = fmt.Errorf("database %s (database.dsn, SHILIU_DATABASE_DSN): %w", config.RedactDSN(cfg.DSN), err)
		left := time.Until(giveUp)
		if !errors.Is(err, database.ErrUnreachable) || left <= 0 {
			return nil, err
		}
		log.Warn("database not reachable yet; trying again", "try", try, "gives_up_in", left.Round(time.Second).String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (stopped while waiting for the database)", ctx.Err())
		case <-time.After(min(2*time.Second, left)):
		}
	}
}

// Listen binds the configured address (":0" picks a free port, for tests).
func (a *App) Listen() (net.Addr, error) {
	l, err := net.Listen("tcp", a.Config.HTTP.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use by another program (%w): stop it, or listen elsewhere with http.addr (SHILIU_HTTP_ADDR), e.g. SHILIU_HTTP_ADDR=:8081", a.Config.HTTP.Addr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s (http.addr, SHILIU_HTTP_ADDR): %w", a.Config.HTTP.Addr, err)
	}
	a.listener = l
	return l.Addr(), nil
}

// Run serves until ctx is cancelled, then stops taking connections and drains in-flight requests
// for up to the shutdown timeout.
func (a *App) Run(ctx context.Context) error {
	if a.listener == nil {
		if _, err := a.Listen(); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.Config.HTTP.ReadTimeout,
		WriteTimeout:      a.Config.HTTP.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	// The tip escalation sweep ends with Run, which waits for it so Close never pulls the database
	// from under it.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { defer close(swept); a.Records.Sweep(sweepCtx, a.Config.Records.SweepInterval) }()
	defer func() { stopSweep(); <-swept }()
	// The roster's name index is written by its own writer (Mroonga, after commit), on the
	// records' sweep interval: the interval only matters after a crash or another instance's
	// missed kick.
	named := make(chan struct{})
	go func() { defer close(named); a.Roster.RunNameIndex(sweepCtx, a.Config.Records.SweepInterval, a.Log) }()
	defer func() { stopSweep(); <-named }()
	// Meeting reminders, scheduled bulletins and orphan uploads are swept the same way.
	reminded, published, orphaned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() { defer close(reminded); a.Meetings.Sweep(sweepCtx, a.Config.Meetings.SweepInterval) }()
	go func() { defer close(published); a.Bulletins.Sweep(sweepCtx, a.Config.Bulletins.SweepInterval) }()
	go func() {
		defer close(orphaned)
		a.Uploads.Sweep(sweepCtx, a.Config.Uploads.SweepInterval, a.Config.Uploads.OrphanAfter)
	}()
	defer func() { stopSweep(); <-reminded; <-published; <-orphaned }()
	// So are training reminders and the adjustment's reminders of terms that ran out undecided.
	trained, adjusted := make(chan struct{}), make(chan struct{})
	go func() { defer close(trained); a.Training.Sweep(sweepCtx, a.Config.Training.SweepInterval) }()
	go func() { defer close(adjusted); a.Adjustments.Sweep(sweepCtx, a.Config.Adjustment.SweepInterval) }()
	defer func() { stopSweep(); <-trained; <-adjusted }()
	// And the reminder of rosters changed after their last accepted filing.
	filed := make(chan struct{})
	go func() { defer close(filed); a.Filings.Sweep(sweepCtx, a.Config.Filing.SweepInterval) }()
	defer func() { stopSweep(); <-filed }()
	// So is retention: consumed events, final notifications and old audit entries go in batches.
	retained := make(chan struct{})
	go func() { defer close(retained); a.sweepRetention(sweepCtx) }()
	defer func() { stopSweep(); <-retained }()
	// So does the notification dispatcher: it finishes the send in flight and records it.
	if a.Config.Notify.DispatchInServe {
		dispatchCtx, stopDispatch := context.WithCancel(ctx)
		dispatched := make(chan struct{})
		go func() { defer close(dispatched); a.Dispatcher.Run(dispatchCtx) }()
		defer func() { stopDispatch(); <-dispatched }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	a.Log.Info("listening", "addr", a.listener.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: draining in-flight requests")
	// Open tip desk streams end now (their clients reconnect to another instance); Shutdown would
	// wait for them.
	a.TipFeed.Close()
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Dispatch runs only the notification dispatcher until ctx ends (`shiliu dispatch`).
func (a *App) Dispatch(ctx context.Context) error {
	a.Dispatcher.Run(ctx)
	return nil
}

// Close releases connections.
func (a *App) Close() {
	if a.TipFeed != nil {
		a.TipFeed.Close()
	}
	if a.WeChat != nil {
		a.WeChat.Close()
	}
	if a.Redis != nil {
		a.Redis.Close()
	}
	if a.Replicas != nil {
		a.Replicas.Close()
	}
	if a.DB != nil {
		a.DB.Close()
	}
}
