package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/wechat"
	"github.com/shiliu/shiliu/server/region"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Options tune a Dispatcher.
type Options struct {
	PollInterval time.Duration
	// Lease is how long a claimed notification belongs to this dispatcher. A send starts only
	// with at least SendTimeout+leaseMargin of its lease left.
	Lease       time.Duration
	SendTimeout time.Duration
	BatchSize   int
	Concurrency int
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration
}

const leaseMargin = 5 * time.Second

// Dispatcher fans events out into notifications and delivers due notifications. Any number of
// dispatchers may run on one database: events and notifications are claimed with conditional
// updates, so each is handled by one of them at a time.
type Dispatcher struct {
	db      *gorm.DB
	regions *region.Store
	senders map[string]Sender
	clock   clock.Clock
	log     *slog.Logger
	opt     Options
	metrics *Metrics
	owner   string
	seq     atomic.Int64
	// wakeFanOut and wakeDeliver cut a loop's wait short.
	wakeFanOut  chan struct{}
	wakeDeliver chan struct{}
	// failing is how many polls in a row have failed in each running loop, by loop name: what
	// Health reports.
	failing sync.Map // string → *atomic.Int64

	// afterSend, in tests, runs between a send and its bookkeeping; returning true abandons the
	// notification there, as a process killed at that moment would.
	afterSend func(n *Notification, err error) bool
	// beforeSend, in tests, runs after a notification is claimed and before it is sent;
	// returning true abandons it there, as a process killed at that moment would.
	beforeSend func(n *Notification) bool
}

// NewDispatcher wires a dispatcher. metrics may be nil.
func NewDispatcher(db *gorm.DB, regions *region.Store, senders []Sender, clk clock.Clock, log *slog.Logger, opt Options, metrics *Metrics) *Dispatcher {
	m := map[string]Sender{}
	for _, s := range senders {
		m[s.Channel()] = s
	}
	host, _ := os.Hostname()
	if len(host) > 32 {
		host = host[:32]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Dispatcher{db: db, regions: regions, senders: m, clock: clk, log: log, opt: opt, metrics: metrics,
		owner:      fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)),
		wakeFanOut: make(chan struct{}, 1), wakeDeliver: make(chan struct{}, 1)}
}

// Wake makes a waiting dispatcher poll now (after a retry, for instance).
func (d *Dispatcher) Wake() {
	poke(d.wakeFanOut)
	poke(d.wakeDeliver)
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run polls until ctx ends, fan-out and delivery in loops of their own so that neither waits
// for the other: a fan-out that inserted notifications wakes the delivery loop at once. A send in
// flight when ctx ends is finished and recorded; claimed notifications not yet started are
// handed back at once.
func (d *Dispatcher) Run(ctx context.Context) {
	d.log.Info("notification dispatcher started", "owner", d.owner)
	var wg sync.WaitGroup
	wg.Go(func() {
		d.loop(ctx, "fan-out", d.wakeFanOut, func(ctx context.Context) (int, error) {
			n, err := d.FanOut(ctx)
			if n > 0 {
				poke(d.wakeDeliver)
			}
			return n, err
		})
	})
	wg.Go(func() { d.loop(ctx, "delivery", d.wakeDeliver, d.Deliver) })
	wg.Wait()
	d.log.Info("notification dispatcher stopped", "owner", d.owner)
}

func (d *Dispatcher) loop(ctx context.Context, name string, wake <-chan struct{}, step func(context.Context) (int, error)) {
	t := time.NewTimer(0)
	defer t.Stop()
	failures := 0
	failing := &atomic.Int64{}
	d.failing.Store(name, failing)
	defer d.failing.Delete(name)
	for {
		start := time.Now()
		n, err := step(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := d.opt.PollInterval
		switch {
		case err != nil:
			// The database is probably away: back off up to 30 s rather than log twice a second.
			failures++
			d.log.Error("notification "+name+" failed", "err", err, "consecutive_failures", failures)
			for i := 1; i < failures && wait < 30*time.Second; i++ {
				wait *= 2
			}
			wait = min(wait, 30*time.Second)
		case n >= d.opt.BatchSize:
			failures, wait = 0, 0 // a full batch: more may be waiting
		default:
			failures = 0
			if n > 0 {
				d.log.Debug("notification "+name, "rows", n, "ms", time.Since(start).Milliseconds())
			}
		}
		failing.Store(int64(failures))
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// unhealthyAfter is how many failed polls in a row make the dispatcher unhealthy: one failure
// (a deadlock victim, a connection recycled) is not worth reporting.
const unhealthyAfter = 3

// Health answers an error while a running loop has failed its last polls (the database is away,
// or an event cannot be fanned out): notifications are then not going out from this instance.
func (d *Dispatcher) Health(context.Context) error {
	var err error
	d.failing.Range(func(name, v any) bool {
		if n := v.(*atomic.Int64).Load(); n >= unhealthyAfter {
			err = fmt.Errorf("notification %s failed %d polls in a row", name, n)
			return false
		}
		return true
	})
	return err
}

// RunOnce fans out one batch of events and delivers one batch of due notifications. busy
// reports a full batch (more may be waiting).
func (d *Dispatcher) RunOnce(ctx context.Context) (busy bool) {
	n, err := d.FanOut(ctx)
	if err != nil && ctx.Err() == nil {
		d.log.Error("notification fan-out failed", "err", err)
	}
	busy = n >= d.opt.BatchSize
	if ctx.Err() != nil {
		return busy
	}
	m, err := d.Deliver(ctx)
	if err != nil && ctx.Err() == nil {
		d.log.Error("notification delivery failed", "err", err)
	}
	return busy || m >= d.opt.BatchSize
}

// ---- fan-out ----

// FanOut turns up to a batch of unconsumed events into notifications. Each event is claimed by
// marking it consumed, in the same transaction as its notifications are inserted: an event is
// fanned out once, and a crash leaves it unconsumed with nothing inserted. The unique key
// (event_id, channel, target) would absorb a second fan-out anyway.
func (d *Dispatcher) FanOut(ctx context.Context) (int, error) {
	var evs []Event
	if err := d.db.WithContext(ctx).Where("consumed_at IS NULL").Order("id").
		Limit(d.opt.BatchSize).Find(&evs).Error; err != nil {
		return 0, err
	}
	// Most events (visits, edits…) notify nobody: they are consumed together in one statement.
	var quiet []int64
	for _, ev := range evs {
		if _, ok := kinds[ev.Kind]; !ok {
			quiet = append(quiet, ev.ID)
		}
	}
	if len(quiet) > 0 {
		if err := d.db.WithContext(ctx).Model(&Event{}).Where("id IN ? AND consumed_at IS NULL", quiet).
			Update("consumed_at", d.clock.Now()).Error; err != nil {
			return 0, err
		}
	}
	done := len(quiet)
	var errs []error
	for _, ev := range evs {
		if _, ok := kinds[ev.Kind]; !ok {
			continue
		}
		if ctx.Err() != nil {
			return done, nil
		}
		// One event that cannot be fanned out must not hold up the others behind it.
		if err := d.fanOutOne(ctx, ev); err != nil {
			errs = append(errs, fmt.Errorf("event %d: %w", ev.ID, err))
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}

func (d *Dispatcher) fanOutOne(ctx context.Context, ev Event) error {
	var err error
	// The message is rendered before the transaction: rendering reads the region names through
	// their own cache and connection, which must not wait on the transaction's (SQLite has one).
	k, p, ok := d.kindOf(ev)
	var content []byte
	var msg Message
	if ok {
		msg = k.Render(ctx, &Resolver{tx: d.db, regions: d.regions}, ev, p)
		if content, err = json.Marshal(msg); err != nil {
			return err
		}
	}
	now := d.clock.Now()
	return database.Transact(ctx, d.db, func(tx *gorm.DB) error {
		res := tx.Model(&Event{}).Where("id = ? AND consumed_at IS NULL", ev.ID).Update("consumed_at", now)
		if res.Error != nil || res.RowsAffected == 0 || !ok {
			return res.Error // consumed, by another dispatcher or now without notifications
		}
		recipients, err := k.Recipients(ctx, &Resolver{tx: tx, regions: d.regions}, ev, p)
		if err != nil || len(recipients) == 0 {
			return err
		}
		seen := map[Recipient]bool{}
		var rows []Notification
		for _, rc := range recipients {
			if seen[rc] {
				continue
			}
			seen[rc] = true
			rows = append(rows, Notification{
				EventID: ev.ID, Channel: rc.Channel, Target: rc.Target, TargetKind: rc.TargetKind, EventKind: ev.Kind,
				SubjectType: ev.SubjectType, SubjectID: ev.SubjectID, RegionCode: ev.RegionCode,
				Title: cutRunes(msg.Title, 200, true), Content: string(content),
				Status: StatusPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
			})
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 100).Error
	})
}

// kindOf is how an event notifies; false for events that notify nobody, and for a payload that
// cannot be read as its kind's type (logged; retrying would not make it readable).
func (d *Dispatcher) kindOf(ev Event) (Kind, outbox.Payload, bool) {
	k, ok := kinds[ev.Kind]
	if !ok {
		return Kind{}, nil, false
	}
	p, err := outbox.Decode(ev)
	if err == nil && !k.accepts(p) {
		err = fmt.Errorf("notify reads %s as another type than %T", ev.Kind, p)
	}
	if err != nil {
		d.log.Error("event payload cannot be read: consumed without notifications", "event_id", ev.ID, "kind", ev.Kind, "err", err)
		return Kind{}, nil, false
	}
	return k, p, true
}

// ---- delivery ----

// Deliver claims up to a batch of due notifications and sends them, Concurrency at a time. A
// notification is due when pending and its next attempt has come, or when it is "sending" but
// the lease of whoever claimed it has run out (that dispatcher died). The claim is one
// conditional UPDATE: of several dispatchers selecting the same rows, each row goes to the one
// whose update matched it first.
func (d *Dispatcher) Deliver(ctx context.Context) (int, error) {
	now := d.clock.Now()
	var due []Notification
	if err := d.db.WithContext(ctx).Model(&Notification{}).Select("id", "channel", "target_kind", "target", "event_kind").
		Where("status IN ? AND next_attempt_at <= ?", []string{StatusPending, StatusSending}, now).
		Order("next_attempt_at, id").Limit(d.opt.BatchSize).Find(&due).Error; err != nil {
		return 0, err
	}
	if len(due) == 0 {
		return 0, nil
	}
	ids := d.claimable(due)
	token := fmt.Sprintf("%s#%d", d.owner, d.seq.Add(1))
	until := now.Add(d.opt.Lease)
	// The claim and its read-back must not be cut by a shutdown in between: a claim that commits
	// and is then not read back would hold its rows for a whole lease. After this point a
	// cancelled ctx hands unstarted rows back (release).
	claimCtx := context.WithoutCancel(ctx)
	// next_attempt_at follows the lease, so one index finds both pending rows that are due and
	// rows whose lease has run out.
	if err := d.db.WithContext(claimCtx).Model(&Notification{}).
		Where("id IN ? AND status IN ? AND next_attempt_at <= ?", ids, []string{StatusPending, StatusSending}, now).
		Updates(map[string]any{"status": StatusSending, "lease_owner": token, "lease_until": until,
			"next_attempt_at": until, "attempts": gorm.Expr("attempts + 1"), "updated_at": now}).Error; err != nil {
		return 0, err
	}
	var rows []Notification
	if err := d.db.WithContext(claimCtx).Where("id IN ? AND lease_owner = ? AND status = ?", ids, token, StatusSending).
		Order("id").Find(&rows).Error; err != nil {
		return 0, err
	}
	sem := make(chan struct{}, d.opt.Concurrency)
	var wg sync.WaitGroup
	for i := range rows {
		n := &rows[i]
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			d.release(n)
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.process(ctx, n)
		}()
	}
	wg.Wait()
	return len(ids), nil
}

// claimable picks the rows of a batch to claim. When the robot joins tip alerts, a batch takes
// one tip alert per robot group: the rest stay pending, where the one that gets the robot's slot
// takes them along (join.go). Claimed by the batch they could not be joined, and each would wait
// for a slot of its own.
func (d *Dispatcher) claimable(due []Notification) []int64 {
	rs, ok := d.senders[ChannelRobot].(*RobotSender)
	joins := ok && rs.joinLease > 0
	ids := make([]int64, 0, len(due))
	taken := map[string]bool{}
	for _, n := range due {
		if joins && n.Channel == ChannelRobot && n.TargetKind == TargetGroup && slices.Contains(joinKinds, n.EventKind) {
			if taken[n.Target] {
				continue
			}
			taken[n.Target] = true
		}
		ids = append(ids, n.ID)
	}
	return ids
}

// process sends one claimed notification and records the outcome. Once the send has started it
// runs to its end even if ctx ends: its result must be recorded, or it would be sent again.
func (d *Dispatcher) process(ctx context.Context, n *Notification) {
	if ctx.Err() != nil {
		d.release(n)
		return
	}
	if !d.holdLease(ctx, n) {
		return
	}
	if d.beforeSend != nil && d.beforeSend(n) {
		return
	}
	bg := context.WithoutCancel(ctx)
	var msg Message
	var err error
	if jerr := json.Unmarshal([]byte(n.Content), &msg); jerr != nil {
		err = &PermanentError{Reason: "消息内容无法读取"}
	} else if s, ok := d.senders[n.Channel]; !ok {
		err = &PermanentError{Reason: "未知的发送渠道 " + n.Channel}
	} else {
		sctx, cancel := context.WithTimeout(bg, d.opt.SendTimeout)
		start := time.Now()
		err = s.Send(sctx, n, msg)
		cancel()
		d.metrics.observeSend(n.Channel, time.Since(start), err)
	}
	if d.afterSend != nil && d.afterSend(n, err) {
		return
	}
	d.finish(bg, n, err)
}

// holdLease makes sure the lease outlasts the send that is about to start, extending it when
// a long batch has eaten into it. false: the notification is no longer ours.
func (d *Dispatcher) holdLease(ctx context.Context, n *Notification) bool {
	now := d.clock.Now()
	if n.LeaseUntil != nil && now.Add(d.opt.SendTimeout+leaseMargin).Before(*n.LeaseUntil) {
		return true
	}
	until := now.Add(d.opt.Lease)
	res := d.db.WithContext(ctx).Model(&Notification{}).
		Where("id = ? AND lease_owner = ? AND status = ?", n.ID, n.LeaseOwner, StatusSending).
		Updates(map[string]any{"lease_until": until, "next_attempt_at": until, "updated_at": now})
	if res.Error != nil || res.RowsAffected == 0 {
		return false
	}
	n.LeaseUntil = &until
	return true
}

// release hands a claimed notification back untouched.
func (d *Dispatcher) release(n *Notification) {
	now := d.clock.Now()
	err := d.db.Model(&Notification{}).
		Where("id = ? AND lease_owner = ? AND status = ?", n.ID, n.LeaseOwner, StatusSending).
		Updates(map[string]any{"status": StatusPending, "lease_owner": "", "lease_until": nil,
			"next_attempt_at": now, "attempts": gorm.Expr("attempts - 1"), "updated_at": now}).Error
	if err != nil {
		d.log.Warn("could not hand back a notification; it is retried when its lease ends", "notification_id", n.ID, "err", err)
	}
}

// finish records the outcome of a send, only if the notification is still ours.
func (d *Dispatcher) finish(ctx context.Context, n *Notification, err error) {
	now := d.clock.Now()
	upd := map[string]any{"lease_owner": "", "lease_until": nil, "updated_at": now}
	var (
		skip *SkipError
		def  *DeferError
		perm *PermanentError
	)
	outcome := ""
	switch {
	case err == nil:
		outcome = StatusSent
		upd["status"], upd["sent_at"], upd["last_error"], upd["error_code"] = StatusSent, now, "", 0
	case errors.As(err, &skip):
		outcome = StatusSkipped
		upd["status"], upd["last_error"] = StatusSkipped, skip.Reason
	case errors.As(err, &def):
		outcome = "deferred"
		upd["status"], upd["next_attempt_at"], upd["attempts"] = StatusPending, def.Until, gorm.Expr("attempts - 1")
		if def.Code != 0 {
			upd["last_error"], upd["error_code"] = FitBytes(def.Reason, 480, "", false), def.Code
		}
	case errors.As(err, &perm) || permanent(err):
		outcome = StatusFailed
		upd["status"], upd["last_error"], upd["error_code"] = StatusFailed, reason(err), errorCode(err)
	case n.Attempts >= d.opt.MaxAttempts && answered(err):
		outcome = StatusFailed
		upd["status"], upd["error_code"] = StatusFailed, errorCode(err)
		upd["last_error"] = FitBytes(fmt.Sprintf("重试%d次后仍失败:%s", n.Attempts, reason(err)), 480, "", false)
	default:
		outcome = "retry"
		upd["status"], upd["last_error"], upd["error_code"] = StatusPending, reason(err), errorCode(err)
		if !answered(err) {
			upd["last_error"] = FitBytes("暂时无法送达(微信或本系统的服务暂不可用),恢复后自动重发:"+reason(err), 480, "", false)
		}
		upd["next_attempt_at"] = now.Add(d.backoff(n.Attempts))
	}
	// A deadlock here (MariaDB chose this update as its victim while other dispatchers claimed
	// rows beside it) is retried at once: left to the lease's end, a notification WeCom has
	// accepted would be sent again.
	var res *gorm.DB
	database.Retried(func() error {
		res = d.db.WithContext(ctx).Model(&Notification{}).
			Where("id = ? AND lease_owner = ? AND status = ?", n.ID, n.LeaseOwner, StatusSending).Updates(upd)
		return res.Error
	})
	switch {
	case res.Error != nil:
		d.log.Error("could not record a notification's outcome; it is retried when its lease ends",
			"notification_id", n.ID, "outcome", outcome, "err", res.Error)
	case res.RowsAffected == 0:
		d.log.Warn("notification was taken over by another dispatcher while being sent (lease ran out)",
			"notification_id", n.ID, "outcome", outcome)
	}
	d.metrics.countOutcome(n.Channel, outcome, err)
	if outcome == StatusFailed || outcome == "retry" {
		d.log.Warn("notification not delivered", "notification_id", n.ID, "channel", n.Channel,
			"attempt", n.Attempts, "outcome", outcome, "err", err)
	}
}

// permanent: WeChat errcodes that retrying cannot fix. Errcodes not known to be transient are
// treated as permanent too (an invalid template, content too long…); errors that are not
// WeChat's (a database hiccup) are retried.
func permanent(err error) bool {
	if wechat.IsPermanent(err) || errors.Is(err, wechat.ErrNotConfigured) {
		return true
	}
	if _, ok := errors.AsType[*wechat.APIError](err); ok {
		return !wechat.IsTransient(err)
	}
	return false
}

// answered reports a failure WeChat or WeCom answered themselves: an errcode, or an HTTP status
// other than a gateway's 502/503/504. Only those use up attempts: when nothing answered (the
// network or the gateway to WeChat is down, a timeout, or our own database or Redis failed), the
// outage, not the message, is at fault, and the row keeps being retried every retry_max at most
// until the outage ends, however many attempts that takes.
func answered(err error) bool {
	if _, ok := errors.AsType[*wechat.APIError](err); ok {
		return true
	}
	if se, ok := errors.AsType[*wechat.HTTPStatusError](err); ok {
		switch se.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return false
		}
		return true
	}
	return false
}

// backoff is the wait after the given attempt failed: RetryBase·2^(attempt-1), at most
// RetryMax, with jitter in its upper half, so that dispatchers retrying together spread out.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	wait := d.opt.RetryBase
	for i := 1; i < attempt && wait < d.opt.RetryMax; i++ {
		wait *= 2
	}
	wait = min(wait, d.opt.RetryMax)
	half := wait / 2
	if half <= 0 {
		return wait
	}
	j, err := rand.Int(rand.Reader, big.NewInt(int64(half)+1))
	if err != nil {
		return wait
	}
	return half + time.Duration(j.Int64())
}
