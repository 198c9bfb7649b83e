package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
)

// tokenStore is the SDK cache plus a compare-and-delete, so that of several
// callers that saw 40001 for the same token only the first drops it.
type tokenStore interface {
	cache.ContextCache
	deleteIfEqual(ctx context.Context, key, val string) error
}

// RedisCache implements the SDK's cache.Cache and cache.ContextCache on
// go-redis, so that all server instances share one access_token. Values are
// stored as strings (non-strings as JSON) and Get returns a string, which is
// what the SDK's token code type-asserts.
type RedisCache struct {
	rdb    redis.UniversalClient
	prefix string
}

var (
	_ cache.ContextCache = (*RedisCache)(nil)
	_ tokenStore         = (*RedisCache)(nil)
	_ tokenStore         = (*memoryCache)(nil)
)

// NewRedisCache returns a cache whose keys start with prefix.
func NewRedisCache(rdb redis.UniversalClient, prefix string) *RedisCache {
	return &RedisCache{rdb: rdb, prefix: prefix}
}

// Get returns the string stored at key, or nil when absent or on error (the
// SDK then fetches a token; the stable-token API returns the same one).
func (c *RedisCache) Get(key string) interface{} { return c.GetContext(context.Background(), key) }

// Set stores val for timeout (no expiry when timeout <= 0).
func (c *RedisCache) Set(key string, val interface{}, timeout time.Duration) error {
	return c.SetContext(context.Background(), key, val, timeout)
}

// IsExist reports whether key is present.
func (c *RedisCache) IsExist(key string) bool { return c.IsExistContext(context.Background(), key) }

// Delete removes key.
func (c *RedisCache) Delete(key string) error { return c.DeleteContext(context.Background(), key) }

// GetContext is Get with a context.
func (c *RedisCache) GetContext(ctx context.Context, key string) interface{} {
	v, err := c.get(ctx, key)
	if err != nil || v == "" {
		return nil
	}
	return v
}

// get answers "" and nil when key is absent, and Redis's error when it could not be asked.
func (c *RedisCache) get(ctx context.Context, key string) (string, error) {
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return v, err
}

// SetContext is Set with a context.
func (c *RedisCache) SetContext(ctx context.Context, key string, val interface{}, timeout time.Duration) error {
	s, err := cacheString(val)
	if err != nil {
		return err
	}
	if timeout < 0 {
		timeout = 0
	}
	if err := c.rdb.Set(ctx, c.prefix+key, s, timeout).Err(); err != nil {
		return fmt.Errorf("wechat token cache: %w", err)
	}
	return nil
}

// IsExistContext is IsExist with a context.
func (c *RedisCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.rdb.Exists(ctx, c.prefix+key).Result()
	return err == nil && n > 0
}

// DeleteContext is Delete with a context.
func (c *RedisCache) DeleteContext(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+key).Err(); err != nil {
		return fmt.Errorf("wechat token cache: %w", err)
	}
	return nil
}

var delIfEqual = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (c *RedisCache) deleteIfEqual(ctx context.Context, key, val string) error {
	err := delIfEqual.Run(ctx, c.rdb, []string{c.prefix + key}, val).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("wechat token cache: %w", err)
	}
	return nil
}

func cacheString(val interface{}) (string, error) {
	switch v := val.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	}
	b, err := json.Marshal(val)
	if err != nil {
		return "", fmt.Errorf("wechat token cache: %w", err)
	}
	return string(b), nil
}

// memoryCache is the cache when New gets no Redis client, and the copy that
// serves while Redis fails: one process only, but race-free (the SDK's own
// memory cache is not).
type memoryCache struct {
	mu sync.Mutex
	m  map[string]memoryEntry
}

type memoryEntry struct {
	val     string
	expires time.Time // zero: never
}

func newMemoryCache() *memoryCache { return &memoryCache{m: map[string]memoryEntry{}} }

func (c *memoryCache) Get(key string) interface{} { return c.GetContext(context.Background(), key) }
func (c *memoryCache) Set(key string, val interface{}, timeout time.Duration) error {
	return c.SetContext(context.Background(), key, val, timeout)
}
func (c *memoryCache) IsExist(key string) bool { return c.IsExistContext(context.Background(), key) }
func (c *memoryCache) Delete(key string) error { return c.DeleteContext(context.Background(), key) }

func (c *memoryCache) GetContext(_ context.Context, key string) interface{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil
	}
	if !e.expires.IsZero() && time.Now().After(e.expires) {
		delete(c.m, key)
		return nil
	}
	return e.val
}

func (c *memoryCache) SetContext(_ context.Context, key string, val interface{}, timeout time.Duration) error {
	s, err := cacheString(val)
	if err != nil {
		return err
	}
	e := memoryEntry{val: s}
	if timeout > 0 {
		e.expires = time.Now().Add(timeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = e
	return nil
}

func (c *memoryCache) IsExistContext(ctx context.Context, key string) bool {
	return c.GetContext(ctx, key) != nil
}

func (c *memoryCache) DeleteContext(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}

func (c *memoryCache) deleteIfEqual(_ context.Context, key, val string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && e.val == val {
		delete(c.m, key)
	}
	return nil
}

// sharedCache keeps the token in Redis, shared by every instance, and a copy
// in this process that serves while Redis fails. Without it a Redis outage
// stopped subscribe messages: the token was fetched, writing it to Redis
// failed, and the SDK failed the send with it. After a Redis failure, Redis is
// left alone for redisPause so that a Redis that hangs does not add its
// timeout to every send.
type sharedCache struct {
	redis *RedisCache
	local *memoryCache
	// pausedUntil (UnixNano) is when Redis is asked again after a failure.
	pausedUntil atomic.Int64
	pause       time.Duration // redisPause; shorter in tests that wait for it to pass
}

const redisPause = 5 * time.Second

var _ tokenStore = (*sharedCache)(nil)

func newSharedCache(rdb redis.UniversalClient, prefix string) *sharedCache {
	return &sharedCache{redis: NewRedisCache(rdb, prefix), local: newMemoryCache(), pause: redisPause}
}

func (c *sharedCache) usable() bool { return time.Now().UnixNano() >= c.pausedUntil.Load() }

// failed notes a Redis error and answers whether there was one.
func (c *sharedCache) failed(err error) bool {
	if err == nil {
		return false
	}
	c.pausedUntil.Store(time.Now().Add(c.pause).UnixNano())
	return true
}

func (c *sharedCache) Get(key string) interface{} { return c.GetContext(context.Background(), key) }
func (c *sharedCache) Set(key string, val interface{}, timeout time.Duration) error {
	return c.SetContext(context.Background(), key, val, timeout)
}
func (c *sharedCache) IsExist(key string) bool { return c.IsExistContext(context.Background(), key) }
func (c *sharedCache) Delete(key string) error { return c.DeleteContext(context.Background(), key) }

// GetContext reads Redis, where another instance may have put a newer token;
// while Redis fails, this process's copy.
func (c *sharedCache) GetContext(ctx context.Context, key string) interface{} {
	if c.usable() {
		v, err := c.redis.get(ctx, key)
		if !c.failed(err) {
			if v == "" {
				return nil
			}
			return v
		}
	}
	return c.local.GetContext(ctx, key)
}

// SetContext keeps val here and, when it can, in Redis. It does not fail for
// Redis: the token is good either way.
func (c *sharedCache) SetContext(ctx context.Context, key string, val interface{}, timeout time.Duration) error {
	if err := c.local.SetContext(ctx, key, val, timeout); err != nil {
		return err
	}
	if c.usable() {
		c.failed(c.redis.SetContext(ctx, key, val, timeout))
	}
	return nil
}

func (c *sharedCache) IsExistContext(ctx context.Context, key string) bool {
	return c.GetContext(ctx, key) != nil
}

func (c *sharedCache) DeleteContext(ctx context.Context, key string) error {
	_ = c.local.DeleteContext(ctx, key)
	if c.usable() {
		c.failed(c.redis.DeleteContext(ctx, key))
	}
	return nil
}

// deleteIfEqual drops a token WeChat refused, here and in Redis. A Redis that
// fails keeps its copy; the next instance to be refused drops it.
func (c *sharedCache) deleteIfEqual(ctx context.Context, key, val string) error {
	_ = c.local.deleteIfEqual(ctx, key, val)
	if c.usable() {
		c.failed(c.redis.deleteIfEqual(ctx, key, val))
	}
	return nil
}
