package cache

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestParseMultiURL(t *testing.T) {
	u, err := parseMultiURL("redis-sentinel", "redis-sentinel://:p%40ss@10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster/2?sentinel_password=s")
	if err != nil {
		t.Fatal(err)
	}
	if u.password != "p@ss" || u.user != "" || len(u.addrs) != 3 || u.master != "mymaster" || u.db != 2 || u.sentinelPassword != "s" {
		t.Fatalf("%+v", u)
	}
	u, err = parseMultiURL("redis-cluster", "redis-cluster://app:pw@h1:6379,h2:6379")
	if err != nil || u.user != "app" || u.password != "pw" || len(u.addrs) != 2 {
		t.Fatalf("%+v %v", u, err)
	}
	for _, bad := range []string{
		"redis-sentinel://h1:26379,h2:26379",          // no master name
		"redis-sentinel://h1:26379/m/x",               // db not a number
		"redis-sentinel://h1/m",                       // no port
		"redis-sentinel://secret@h1:26379/m",          // password without colon
		"redis-sentinel://h1:26379/m?read_only=1",     // unknown option
		"redis-cluster://h1:6379,h2:6379/3",           // a cluster has db 0 only
		"redis-cluster://h1:6379,:6379",               // empty host
		"redis-cluster://:hunter2@h1:6379,h2:notport", // bad port, password must not leak
	} {
		scheme, _, _ := strings.Cut(bad, "://")
		_, err := parseMultiURL(scheme, bad)
		if err == nil {
			t.Errorf("%s: accepted", bad)
		} else if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "secret@") {
			t.Errorf("%s: the error repeats the password: %v", bad, err)
		}
	}
}

// TestOpenKinds opens each form against real servers when they are there (.ci/redis-ha.sh).
func TestOpenKinds(t *testing.T) {
	ctx := context.Background()
	for kind, env := range map[string]string{"sentinel": "SHILIU_TEST_SENTINEL_URL", "cluster": "SHILIU_TEST_CLUSTER_URL"} {
		url := os.Getenv(env)
		if url == "" {
			t.Logf("%s not set: %s form not opened", env, kind)
			continue
		}
		r, err := Open(ctx, url)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if r.Kind != kind {
			t.Errorf("%s: kind %q", url, r.Kind)
		}
		// A write waited for on its master: behind Sentinel a replica acknowledges it.
		key := "cache_test:{" + kind + "}"
		err = Replicated(ctx, r, r.WaitReplicas, ReplicaWait, key, func(c *redis.Conn) error {
			return c.Set(ctx, key, "1", time.Minute).Err()
		})
		if err != nil {
			t.Errorf("%s: replicated write: %v", kind, err)
		}
		r.Close()
	}
}
