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
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shiliu/shiliu/server/auth"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/httpapi"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/platform/cache"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/platform/wechat"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
)

// App is one running Shiliu instance.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	Clock   clock.Clock
	DB      *database.DB
	Redis   *cache.Redis
	WeChat  *wechat.Client
	Regions *region.Store
	Roster  *roster.Service
	Auth    *auth.Service
	Handler http.Handler

	listener net.Listener
}

// Option adjusts Open, for tests.
type Option func(*openOptions)

type openOptions struct {
	clock  clock.Clock
	logger *slog.Logger
}

// WithClock replaces the wall clock.
func WithClock(c clock.Clock) Option { return func(o *openOptions) { o.clock = c } }

// WithLogger replaces the default logger.
func WithLogger(l *slog.Logger) Option { return func(o *openOptions) { o.logger = l } }

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
	a.Log.Info("starting shiliu", "config", cfg.Redacted())

	a.DB, err = database.Open(ctx, cfg.Database.DSN, database.Options{
		MaxOpenConns: cfg.Database.MaxOpenConns, MaxIdleConns: cfg.Database.MaxIdleConns,
		ConnMaxLife: cfg.Database.ConnMaxLife, Logger: a.Log,
	})
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
		RedisPrefix: cfg.Redis.Prefix,
	})

	reg := prometheus.NewRegistry()
	sqlDB, err := a.DB.DB.DB()
	if err != nil {
		return nil, err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(sqlDB, "shiliu"))
	a.Handler, err = httpapi.NewRouter(httpapi.Deps{
		Log: a.Log, Auth: a.Auth, Roster: a.Roster, Regions: a.Regions,
		Ready:   map[string]httpapi.Pinger{"database": a.DB, "redis": redisPinger{a.Redis}},
		Metrics: reg, MaxBodyBytes: cfg.HTTP.MaxBodyBytes, TrustedProxies: cfg.HTTP.TrustedProxies,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

type redisPinger struct{ r *cache.Redis }

func (p redisPinger) Ping(ctx context.Context) error { return p.r.Ping(ctx).Err() }

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

// Listen binds the configured address (":0" picks a free port, for tests).
func (a *App) Listen() (net.Addr, error) {
	l, err := net.Listen("tcp", a.Config.HTTP.Addr)
	if err != nil {
		return nil, err
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
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	a.Log.Info("listening", "addr", a.listener.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: draining in-flight requests")
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

// Close releases connections.
func (a *App) Close() {
	if a.Redis != nil {
		a.Redis.Close()
	}
	if a.DB != nil {
		a.DB.Close()
	}
}
