package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// Pacer limits sends per robot to N in any sliding minute, across every instance sharing the
// Redis: each robot has a sorted set of its send times. WeCom counts a sliding minute too, so a
// fixed window would let 2N through around a window boundary. Times come from the injected clock
// so that tests can step through minutes.
type Pacer struct {
	rdb    redis.UniversalClient
	prefix string
	limit  int
	// span is the window plus PaceMargin: how long a send holds its slot.
	span  time.Duration
	clock clock.Clock
}

// PaceMargin is how much longer than WeCom's window a send holds its slot. WeCom counts by
// arrival and the pacer by departure: when the first send of a minute took longer on the way than
// the 21st, a slot freed exactly a window later lets the 21st arrive inside WeCom's minute
// (45009, and the robot is blocked for a minute). Two seconds cover ordinary latency differences
// and instance clocks kept by NTP, for 3% of a robot's throughput.
const PaceMargin = 2 * time.Second

// NewPacer allows limit sends per window (plus PaceMargin) per robot.
func NewPacer(rdb redis.UniversalClient, prefix string, limit int, window time.Duration, clk clock.Clock) *Pacer {
	return &Pacer{rdb: rdb, prefix: prefix, limit: limit, span: window + PaceMargin, clock: clk}
}

// take drops send times older than the window; under the limit it records this send and
// answers -1, otherwise the time (ms) at which the oldest send leaves the window.
var takeScript = redis.NewScript(`
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return -1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window
`)

func (p *Pacer) key(robot string) string { return p.prefix + "notify:robot:" + robot }

// Take reserves one send for robot (its webhook key hash). When the robot is at its limit it
// answers false and when to try again.
func (p *Pacer) Take(ctx context.Context, robot string) (bool, time.Time, error) {
	now := p.clock.Now()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	member := hex.EncodeToString(b)
	v, err := takeScript.Run(ctx, p.rdb, []string{p.key(robot)},
		now.UnixMilli(), p.span.Milliseconds(), p.limit, member).Int64()
	if err != nil {
		return false, time.Time{}, err
	}
	if v < 0 {
		return true, time.Time{}, nil
	}
	at := time.UnixMilli(v).UTC()
	if !at.After(now) {
		at = now.Add(time.Millisecond)
	}
	return false, at, nil
}

// Fill marks the robot as at its limit for a whole window from now: WeCom said 45009. It answers
// when the robot is free again, which holds even when Redis could not record it.
func (p *Pacer) Fill(ctx context.Context, robot string) (time.Time, error) {
	at := p.clock.Now()
	now := at.UnixMilli()
	pipe := p.rdb.TxPipeline()
	k := p.key(robot)
	for i := 0; i < p.limit; i++ {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		pipe.ZAdd(ctx, k, redis.Z{Score: float64(now), Member: hex.EncodeToString(b)})
	}
	pipe.PExpire(ctx, k, 2*p.span)
	_, err := pipe.Exec(ctx)
	return at.Add(p.span), err
}
