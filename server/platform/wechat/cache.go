package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if err != nil {
		return nil
	}
	return v
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

// memoryCache is the fallback when New gets no Redis client: one process
// only, but race-free (the SDK's own memory cache is not).
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
