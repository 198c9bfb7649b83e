// Package cache connects to Redis, or, when no URL is configured, starts an embedded in-process
// Redis (miniredis) so a trial server needs nothing installed. The embedded one is not shared
// between instances and loses everything on exit: it is for trials and tests only.
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Redis is a client and whether it is the embedded trial server.
type Redis struct {
	redis.UniversalClient
	Embedded bool
	mini     *miniredis.Miniredis
}

// Open connects to url ("redis://[:pass@]host:port/db") or starts the embedded server when url is
// empty.
func Open(ctx context.Context, url string) (*Redis, error) {
	if url == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		c := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
		return &Redis{UniversalClient: c, Embedded: true, mini: m}, nil
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		// url.Error repeats the URL, password included: keep only what is wrong with it.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis.url (SHILIU_REDIS_URL) is not a Redis URL (%w): use redis://[USER:PASSWORD@]HOST:6379/DB "+
			"(rediss:// for TLS), e.g. redis://127.0.0.1:6379/0, or leave it empty for the embedded Redis (trials only)", err)
	}
	opt.DialTimeout = 3 * time.Second
	opt.ReadTimeout = 2 * time.Second
	opt.WriteTimeout = 2 * time.Second
	// A caller's deadline (the short one of the per-request token check) must bound the call;
	// without this go-redis waits for ReadTimeout whatever the context says.
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		// Not fatal: the server starts, /readyz reports Redis down and features that need it
		// answer 503 until it is back (go-redis reconnects by itself).
		return &Redis{UniversalClient: c}, fmt.Errorf("redis ping: %w", err)
	}
	return &Redis{UniversalClient: c}, nil
}

// Close closes the client and stops an embedded server.
func (r *Redis) Close() error {
	err := r.UniversalClient.Close()
	if r.mini != nil {
		r.mini.Close()
	}
	return err
}

// Mini exposes the embedded server to tests (to simulate an outage); nil for a real Redis.
func (r *Redis) Mini() *miniredis.Miniredis { return r.mini }

// SetLogger routes go-redis's own messages (reconnect attempts during an outage) into slog
// instead of the standard logger. go-redis has one process-wide logger.
func SetLogger(l *slog.Logger) { redis.SetLogger(redisLog{l}) }

type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
