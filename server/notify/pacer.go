package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/platform/cache"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// Pacer limits sends per robot to N in any sliding minute, across every instance sharing the
// Redis: each robot has a sorted set of its send times. WeCom counts a sliding minute too, so a
// fixed window would let 2N through around a window boundary. Times come from the injected clock
// so that tests can step through minutes.
//
// A burst may use only part of the minute: once burst sends are in the window, the next one waits
// until spacing has passed since the last (span / (limit - burst)), so the rest of the window's
// slots last until the burst's leave it. A robot then never stands still for most of a minute
// in a flood: the alerts waiting for it go out, joined into one message, every spacing
// (RobotSender.join). Spacing applies while the robot is in a flood (Take); burst == limit
// turns it off.
type Pacer struct {
	rdb    redis.UniversalClient
	prefix string
	limit  int
	burst  int
	// span is the window plus PaceMargin: how long a send holds its slot.
	span    time.Duration
	spacing time.Duration
	clock   clock.Clock
	// WaitReplicas is how many Redis replicas must hold a reservation before the send goes
	// (cache.Redis.WaitReplicas): a master lost right after would otherwise forget the send and
	// let the robot past its limit.
	WaitReplicas int
	log          *slog.Logger
}

// PaceMargin is how much longer than WeCom's window a send holds its slot. WeCom counts by
// arrival and the pacer by departure: when the first send of a minute took longer on the way than
// the 21st, a slot freed exactly a window later lets the 21st arrive inside WeCom's minute
// (45009, and the robot is blocked for a minute). Two seconds cover ordinary latency differences
// and instance clocks kept by NTP, for 3% of a robot's throughput.
const PaceMargin = 2 * time.Second

// NewPacer allows limit sends per window (plus PaceMargin) per robot, burst of them at once.
func NewPacer(rdb redis.UniversalClient, prefix string, limit, burst int, window time.Duration, clk clock.Clock) *Pacer {
	p := &Pacer{rdb: rdb, prefix: prefix, limit: limit, burst: min(max(burst, 1), limit), span: window + PaceMargin, clock: clk}
	if p.burst < limit {
		p.spacing = p.span / time.Duration(limit-p.burst)
	}
	return p
}

// Spacing is how often a robot past its burst may send.
func (p *Pacer) Spacing() time.Duration { return p.spacing }

// take drops send times older than the window; under the limit (and, past the burst, spacing
// after the last send) it records this send and answers -1, otherwise the time (ms) at which
// the robot may send again.
var takeScript = redis.NewScript(`
local now, window, limit, burst, spacing = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5]), tonumber(ARGV[6])
local flood = tonumber(ARGV[7]) == 1
if spacing > 0 then
  if flood then
    redis.call('SET', KEYS[2], now + window, 'PX', window * 2)
  else
    local untilMs = tonumber(redis.call('GET', KEYS[2]) or '0')
    flood = untilMs > now
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window
end
if flood and n >= burst then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local at = tonumber(last[2]) + spacing
  if at > now then
    return at
  end
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window * 2)
return -1
`)

// key is the robot's send times; floodKey marks a flood. The hash tag keeps both in one slot of a
// Redis Cluster, as the script that reads them needs.
func (p *Pacer) key(robot string) string { return p.prefix + "notify:robot:{" + robot + "}" }

func (p *Pacer) floodKey(robot string) string { return p.key(robot) + ":flood" }

// Take reserves one send for robot (its webhook key hash). When the robot is at its limit (or,
// in a flood, past its burst and too soon after its last send) it answers false and when to try
// again. flood says a flood of alerts waits behind this send (RobotSender.flooded); the robot
// then stays in flood for a window, every send of it spaced, so that the slots a flood needs are
// not used up by sends that happened to find nothing waiting. Outside a flood sends go while the
// window has room, so that a busy but not flooded county is not slowed.
func (p *Pacer) Take(ctx context.Context, robot string, flood bool) (bool, time.Time, error) {
	now := p.clock.Now()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	member := hex.EncodeToString(b)
	f := 0
	if flood {
		f = 1
	}
	var v int64
	err := cache.Replicated(ctx, p.rdb, p.WaitReplicas, cache.ReplicaWait, p.key(robot), func(c *redis.Conn) error {
		var err error
		v, err = takeScript.Run(ctx, c, []string{p.key(robot), p.floodKey(robot)},
			now.UnixMilli(), p.span.Milliseconds(), p.limit, member, p.burst, p.spacing.Milliseconds(), f).Int64()
		return err
	})
	if errors.Is(err, cache.ErrNotReplicated) {
		// The master has it; only a failover within the moment would lose it. Stopping every
		// robot while a replica is down would be worse.
		p.logger().WarnContext(ctx, "robot send reserved on the Redis master only", "err", err)
		err = nil
	}
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
	k := p.key(robot)
	err := cache.Replicated(ctx, p.rdb, p.WaitReplicas, cache.ReplicaWait, k, func(c *redis.Conn) error {
		_, err := c.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			for i := 0; i < p.limit; i++ {
				b := make([]byte, 6)
				_, _ = rand.Read(b)
				pipe.ZAdd(ctx, k, redis.Z{Score: float64(now), Member: hex.EncodeToString(b)})
			}
			pipe.PExpire(ctx, k, 2*p.span)
			return nil
		})
		return err
	})
	if errors.Is(err, cache.ErrNotReplicated) {
		err = nil
	}
	return at.Add(p.span), err
}

func (p *Pacer) logger() *slog.Logger {
	if p.log != nil {
		return p.log
	}
	return slog.Default()
}
