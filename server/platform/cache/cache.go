// Package cache connects to Redis (one server, a Sentinel-watched master, or a Cluster), or, when no URL is configured, starts an embedded in-process
// Redis (miniredis) so a trial server needs nothing installed. The embedded one is not shared
// between instances and loses everything on exit: it is for trials and tests only.
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Redis is a client and what it is connected to.
type Redis struct {
	redis.UniversalClient
	Embedded bool
	// Kind is "embedded", "single", "sentinel" or "cluster".
	Kind string
	// WaitReplicas is how many replicas a write that must survive a failover (a revocation, a
	// robot's send) waits for (WAIT): 1 behind Sentinel and in a cluster with replicas, else 0.
	WaitReplicas int
	mini         *miniredis.Miniredis
}

// The forms of SHILIU_REDIS_URL, for messages.
const urlForms = "use redis://[USER:PASSWORD@]HOST:6379/DB (rediss:// for TLS), " +
	"redis-sentinel://[USER:PASSWORD@]HOST1:26379,HOST2:26379,HOST3:26379/MASTER_NAME[/DB][?sentinel_password=…], " +
	"or redis-cluster://[USER:PASSWORD@]HOST1:6379,HOST2:6379,HOST3:6379, " +
	"e.g. redis://127.0.0.1:6379/0, or leave it empty for the embedded Redis (trials only)"

// Open connects to url or starts the embedded server when url is empty. Three forms:
//
//	redis://[USER:PASSWORD@]HOST:PORT/DB        one server (rediss:// for TLS)
//	redis-sentinel://[USER:PASSWORD@]HOST:PORT,HOST:PORT,…/MASTER_NAME[/DB][?sentinel_password=P]
//	                                            the master a Sentinel set names; after a failover
//	                                            the client follows the new master by itself
//	redis-cluster://[USER:PASSWORD@]HOST:PORT,HOST:PORT,…
//	                                            a Redis Cluster (any reachable nodes; DB is 0)
//
// The password (and user) of the sentinel and cluster forms is the data nodes' one; the sentinels'
// own password, if they have one, goes in sentinel_password.
func Open(ctx context.Context, url string) (*Redis, error) {
	if url == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		c := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
		return &Redis{UniversalClient: c, Embedded: true, Kind: "embedded", mini: m}, nil
	}
	r, err := newClient(url)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.Ping(pctx).Err(); err != nil {
		// Not fatal: the server starts, /readyz reports Redis down and features that need it
		// answer 503 until it is back (go-redis reconnects by itself).
		return r, fmt.Errorf("redis ping: %w", err)
	}
	if cc, ok := r.UniversalClient.(*redis.ClusterClient); ok && clusterHasReplicas(pctx, cc) {
		r.WaitReplicas = 1
	}
	return r, nil
}

const (
	dialTimeout  = 3 * time.Second
	readTimeout  = 2 * time.Second
	writeTimeout = 2 * time.Second
)

func newClient(url string) (*Redis, error) {
	scheme, _, _ := strings.Cut(url, "://")
	switch scheme {
	case "redis-sentinel", "redis-cluster":
		return newMultiClient(scheme, url)
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		// url.Error repeats the URL, password included: keep only what is wrong with it.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis.url (SHILIU_REDIS_URL) is not a Redis URL (%w): %s", err, urlForms)
	}
	opt.DialTimeout = dialTimeout
	opt.ReadTimeout = readTimeout
	opt.WriteTimeout = writeTimeout
	// A caller's deadline (the short one of the per-request token check) must bound the call;
	// without this go-redis waits for ReadTimeout whatever the context says.
	opt.ContextTimeoutEnabled = true
	return &Redis{UniversalClient: redis.NewClient(opt), Kind: "single"}, nil
}

// multiURL is a parsed sentinel or cluster URL.
type multiURL struct {
	user, password   string
	addrs            []string
	master           string
	db               int
	sentinelPassword string
}

func parseMultiURL(scheme, url string) (multiURL, error) {
	var u multiURL
	bad := func(what string) error {
		return fmt.Errorf("redis.url (SHILIU_REDIS_URL) is not a %s URL (%s): %s", scheme, what, urlForms)
	}
	rest := strings.TrimPrefix(url, scheme+"://")
	rest, query, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo := authority[:at]
		authority = authority[at+1:]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		if !hasPass {
			// redis://PASSWORD@host is not what go-redis means either: a lone word is the user.
			return u, bad("the password goes after a colon: USER:PASSWORD@ or :PASSWORD@")
		}
		var err error
		if u.user, err = neturl.PathUnescape(user); err != nil {
			return u, bad("the user is not URL-encoded")
		}
		if u.password, err = neturl.PathUnescape(pass); err != nil {
			return u, bad("the password is not URL-encoded")
		}
	}
	for _, a := range strings.Split(authority, ",") {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return u, bad(fmt.Sprintf("%q is not HOST:PORT", a))
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return u, bad(fmt.Sprintf("%q has no valid port", a))
		}
		u.addrs = append(u.addrs, a)
	}
	segs := []string{}
	if path != "" {
		segs = strings.Split(strings.TrimSuffix(path, "/"), "/")
	}
	switch scheme {
	case "redis-sentinel":
		if len(segs) == 0 || segs[0] == "" || len(segs) > 2 {
			return u, bad("the master name the sentinels know goes after the addresses: /MASTER_NAME or /MASTER_NAME/DB")
		}
		u.master = segs[0]
		if len(segs) == 2 {
			n, err := strconv.Atoi(segs[1])
			if err != nil || n < 0 {
				return u, bad("the database after the master name is a number")
			}
			u.db = n
		}
	case "redis-cluster":
		if len(segs) > 0 && segs[0] != "0" {
			return u, bad("a cluster has only database 0: no path after the addresses")
		}
	}
	q, err := neturl.ParseQuery(query)
	if err != nil {
		return u, bad("the query is not URL-encoded")
	}
	for k := range q {
		if k != "sentinel_password" || scheme != "redis-sentinel" {
			return u, bad(fmt.Sprintf("unknown option %q", k))
		}
	}
	u.sentinelPassword = q.Get("sentinel_password")
	return u, nil
}

func newMultiClient(scheme, url string) (*Redis, error) {
	u, err := parseMultiURL(scheme, url)
	if err != nil {
		return nil, err
	}
	if scheme == "redis-sentinel" {
		c := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:            u.master,
			SentinelAddrs:         u.addrs,
			SentinelPassword:      u.sentinelPassword,
			Username:              u.user,
			Password:              u.password,
			DB:                    u.db,
			DialTimeout:           dialTimeout,
			ReadTimeout:           readTimeout,
			WriteTimeout:          writeTimeout,
			ContextTimeoutEnabled: true,
		})
		return &Redis{UniversalClient: c, Kind: "sentinel", WaitReplicas: 1}, nil
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 u.addrs,
		Username:              u.user,
		Password:              u.password,
		DialTimeout:           dialTimeout,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		ContextTimeoutEnabled: true,
	})
	return &Redis{UniversalClient: c, Kind: "cluster"}, nil
}

// clusterHasReplicas reports whether every slot range has a replica to WAIT for.
func clusterHasReplicas(ctx context.Context, cc *redis.ClusterClient) bool {
	slots, err := cc.ClusterSlots(ctx).Result()
	if err != nil || len(slots) == 0 {
		return false
	}
	for _, s := range slots {
		if len(s.Nodes) < 2 {
			return false
		}
	}
	return true
}

// ErrNotReplicated says a write reached the master but no replica acknowledged it in time: a
// failover now would lose it.
var ErrNotReplicated = errors.New("redis: write not acknowledged by a replica")

// ReplicaWait is how long a frequent write (a robot's send reservation) waits for its replica. A
// replica on the same network acknowledges in well under a millisecond; one that is down costs
// every such write this much. A rare write that must survive (a revocation) waits longer: on a
// loaded machine a replica was seen to take more than 100 ms, and the revocation was lost with
// the master.
const ReplicaWait = 100 * time.Millisecond

// Replicated runs fn on one connection to the master that holds key, then, when replicas > 0,
// waits (WAIT, at most wait) until that many replicas have fn's writes: what it wrote then survives the master's
// loss. Every key fn writes must live in key's slot (the same hash tag). A write that no replica
// acknowledged in time is still on the master: the error says so (ErrNotReplicated) and the
// caller decides whether that matters.
func Replicated(ctx context.Context, rdb redis.UniversalClient, replicas int, wait time.Duration, key string, fn func(c *redis.Conn) error) error {
	var conn *redis.Conn
	switch c := rdb.(type) {
	case *Redis:
		return Replicated(ctx, c.UniversalClient, replicas, wait, key, fn)
	case *redis.Client:
		conn = c.Conn()
	case *redis.ClusterClient:
		m, err := c.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		conn = m.Conn()
	default:
		return fmt.Errorf("redis: unsupported client %T", rdb)
	}
	defer conn.Close()
	if err := fn(conn); err != nil {
		return err
	}
	if replicas <= 0 {
		return nil
	}
	n, err := conn.Wait(ctx, replicas, wait).Result()
	if err != nil {
		return err
	}
	if n < int64(replicas) {
		return ErrNotReplicated
	}
	return nil
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

// WriteMarks remember in Redis which accounts wrote within Window, for the read-your-writes rule
// of read replicas (database.Replicas): every instance sees the mark, so the instance serving
// the next list need not be the one that took the write.
type WriteMarks struct {
	Redis  redis.UniversalClient
	Prefix string
	Window time.Duration
}

func (m WriteMarks) key(accountID int64) string {
	return m.Prefix + "rw:" + strconv.FormatInt(accountID, 10)
}

// Mark records that the account just wrote.
func (m WriteMarks) Mark(ctx context.Context, accountID int64) error {
	return m.Redis.Set(ctx, m.key(accountID), "1", m.Window).Err()
}

// Recent reports whether the account wrote within the window.
func (m WriteMarks) Recent(ctx context.Context, accountID int64) (bool, error) {
	n, err := m.Redis.Exists(ctx, m.key(accountID)).Result()
	return n > 0, err
}
