// Package s3test points tests at the real S3 server that .ci/run starts (SeaweedFS): each test
// gets a prefix of its own in the test bucket, emptied when it ends.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/shiliu/shiliu/server/upload"
)

// Env is the variable holding the test store's URL,
// s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false&lookup=path.
const Env = "SHILIU_TEST_S3_URL"

// Base is the configured URL, or "" (the test is skipped; under CI it fails: CI must test the
// object store).
func Base(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: .ci/run starts SeaweedFS and sets it", Env)
		}
		t.Skipf("%s not set: no S3 server to test against (.ci/run starts one)", Env)
	}
	return u
}

// URL is a storage URL for this test: the test bucket (made if missing) under a fresh prefix,
// whose objects are deleted when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := Base(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	u.Path = "/" + strings.Trim(u.Path, "/") + "/t" + hex.EncodeToString(b)
	raw := u.String()
	s, err := upload.NewS3(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		_ = s.Walk(ctx, func(key string, _ int64) error {
			keys = append(keys, key)
			return nil
		})
		for _, k := range keys {
			_ = s.Delete(ctx, k)
		}
	})
	return raw
}

// Store is an S3 store on URL(t).
func Store(t testing.TB) *upload.S3 {
	t.Helper()
	s, err := upload.NewS3(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
