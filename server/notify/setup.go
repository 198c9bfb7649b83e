package notify

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/region"
	"gorm.io/gorm"
)

// Deps are what the notification service and its dispatcher run on.
type Deps struct {
	DB          *gorm.DB
	Redis       redis.UniversalClient
	RedisPrefix string
	// RedisReplicas is how many Redis replicas a robot's send reservation waits for.
	RedisReplicas int
	Box           *secret.Box
	Regions       *region.Store
	WeChat        WeChat
	Clock         clock.Clock
	Log           *slog.Logger
	// Metrics registers the dispatcher's series when set.
	Metrics prometheus.Registerer
	// SendTimeout bounds one send (the WeChat client's own timeout plus a little).
	SendTimeout time.Duration
}

// Templates converts the configured templates.
func Templates(cfg config.NotifyConfig) map[string]Template {
	out := make(map[string]Template, len(cfg.Templates))
	for name, t := range cfg.Templates {
		out[name] = Template{ID: t.ID, LongTerm: t.LongTerm, Page: t.Page, Data: t.Data}
	}
	return out
}

// New builds the service and its dispatcher from configuration.
func New(cfg config.NotifyConfig, d Deps) (*Service, *Dispatcher) {
	templates := Templates(cfg)
	var metrics *Metrics
	if d.Metrics != nil {
		metrics = NewMetrics(d.Metrics, d.DB)
	}
	pacer := NewPacer(d.Redis, d.RedisPrefix, cfg.RobotPerMinute, cfg.RobotBurst, time.Minute, d.Clock)
	pacer.WaitReplicas, pacer.log = d.RedisReplicas, d.Log
	robot := &RobotSender{db: d.DB, box: d.Box, wx: d.WeChat, baseURL: cfg.PublicBaseURL, clock: d.Clock, log: d.Log,
		pacer: pacer, joinLease: cfg.Lease}
	senders := []Sender{
		robot,
		&SubscribeSender{db: d.DB, wx: d.WeChat, templates: templates, clock: d.Clock, log: d.Log},
	}
	disp := NewDispatcher(d.DB, d.Regions, senders, d.Clock, d.Log, Options{
		PollInterval: cfg.PollInterval, Lease: cfg.Lease, SendTimeout: d.SendTimeout, BatchSize: cfg.BatchSize,
		Concurrency: cfg.Concurrency, MaxAttempts: cfg.MaxAttempts, RetryBase: cfg.RetryBase, RetryMax: cfg.RetryMax,
	}, metrics)
	svc := NewService(d.DB, d.Box, d.Regions, d.Clock, templates, disp.Wake)
	svc.robot, svc.sendTimeout, svc.robotPerMinute = robot, d.SendTimeout, cfg.RobotPerMinute
	if svc.sendTimeout <= 0 {
		svc.sendTimeout = 10 * time.Second
	}
	return svc, disp
}
