package upload_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/upload/s3test"
)

// TestS3Throughput measures the object store through upload.S3: files of photo and voice-note
// sizes stored and read back by 8 workers at once, as 8 uploads per instance are (the default
// uploads.max_concurrent). It runs only with SHILIU_MEASURE_S3=1:
//
//	SHILIU_MEASURE_S3=1 SHILIU_TEST_S3_URL=… go test -v -count=1 -run TestS3Throughput ./server/upload/
func TestS3Throughput(t *testing.T) {
	if os.Getenv("SHILIU_MEASURE_S3") == "" {
		t.Skip("set SHILIU_MEASURE_S3=1 to measure")
	}
	s := s3test.Store(t)
	ctx := context.Background()
	for _, c := range []struct {
		size, files int
	}{{200 << 10, 400}, {2 << 20, 100}, {8 << 20, 24}} {
		data := make([]byte, c.size)
		for i := range data {
			data[i] = byte(i * 31)
		}
		keys := make([]string, c.files)
		for i := range keys {
			keys[i] = fmt.Sprintf("2026/06/%02d/%x", c.size>>20, i+1)
		}
		run := func(op func(key string) error) (time.Duration, []time.Duration) {
			jobs := make(chan string)
			var mu sync.Mutex
			var lat []time.Duration
			var wg sync.WaitGroup
			start := time.Now()
			for range 8 {
				wg.Go(func() {
					for k := range jobs {
						t0 := time.Now()
						if err := op(k); err != nil {
							t.Error(err)
						}
						mu.Lock()
						lat = append(lat, time.Since(t0))
						mu.Unlock()
					}
				})
			}
			for _, k := range keys {
				jobs <- k
			}
			close(jobs)
			wg.Wait()
			return time.Since(start), lat
		}
		put, putLat := run(func(k string) error { return s.Put(ctx, k, bytes.NewReader(data)) })
		get, getLat := run(func(k string) error {
			b, err := s.Open(ctx, k)
			if err != nil {
				return err
			}
			defer b.Close()
			n, err := io.Copy(io.Discard, b)
			if err == nil && n != int64(len(data)) {
				err = fmt.Errorf("%s: %d bytes", k, n)
			}
			return err
		})
		mb := float64(c.size*c.files) / (1 << 20)
		t.Logf("%5d KiB × %3d, 8 at once: put %6.1f MiB/s (%5.0f files/s, p50 %v), get %6.1f MiB/s (%5.0f files/s, p50 %v)",
			c.size>>10, c.files, mb/put.Seconds(), float64(c.files)/put.Seconds(), median(putLat),
			mb/get.Seconds(), float64(c.files)/get.Seconds(), median(getLat))
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("load average: %s", bytes.TrimSpace(load))
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2].Round(time.Millisecond)
}
