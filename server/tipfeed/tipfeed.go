// Package tipfeed tells open tip desks (线索台) that tips in their scope changed, within a second,
// on any number of server instances. The outbox rows tips already write in the transaction of
// each change are the feed, in id order; Redis pub/sub only wakes the streams of every instance
// after a commit, so a lost wake-up delays an event but never loses it. Without Redis, streams
// read the outbox every few seconds instead.
//
// An event names a tip and the kind of change, nothing of its content: the console reads tips
// through the scoped, audited list API, so scope is decided in one place.
package tipfeed

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/region"
	"gorm.io/gorm"
)

// Event is one change of a tip as a desk stream sends it. ID is the outbox row's id: the
// stream's cursor, which a reconnecting client sends back (Last-Event-ID or after_id).
type Event struct {
	ID    int64  `json:"id"`
	TipID int64  `json:"tip_id"`
	Kind  string `json:"kind"` // the outbox kind: tip.submitted, tip.acknowledged, tip.escalated…
}

// Options tune the feed; zero values take the defaults.
type Options struct {
	// Channel is the Redis pub/sub channel (the deployment's key prefix + "tips").
	Channel string
	// Poll is how often a stream reads the outbox while Redis is unreachable (default 3s);
	// Safety how often it does anyway while Redis is up (default 30s), in case a wake-up was lost.
	Poll, Safety time.Duration
	// Heartbeat is how often an idle stream sends a comment, so proxies keep it open (default 15s).
	Heartbeat time.Duration
	// MaxAge ends a stream after this long (default 5m): the client reconnects with a fresh access
	// token, so a disabled account's desk stops soon, and its cursor, so nothing is missed.
	MaxAge time.Duration
	// Window is how long a stream keeps looking below its cursor for events whose transaction
	// committed after a later one's (auto-increment ids are taken at insert, not at commit).
	Window time.Duration
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Poll, 3*time.Second)
	def(&o.Safety, 30*time.Second)
	def(&o.Heartbeat, 15*time.Second)
	def(&o.MaxAge, 5*time.Minute)
	def(&o.Window, 5*time.Second)
	if o.Channel == "" {
		o.Channel = "shiliu:tips"
	}
}

// Feed is one instance's side of the feed: it publishes changes and holds one Redis subscription
// for all the streams open on this instance.
type Feed struct {
	db  *gorm.DB
	rdb redis.UniversalClient
	log *slog.Logger
	opt Options

	mu      sync.Mutex
	waiters map[*waiter]struct{}
	started bool
	stop    context.CancelFunc
	done    chan struct{}
	up      atomic.Bool
	// quit ends every open stream: the server is shutting down, and http.Server.Shutdown waits for
	// them otherwise.
	quit     chan struct{}
	quitOnce sync.Once
	// tried is closed once the first subscription attempt is over, so the first stream can say
	// truly whether it is live.
	tried     chan struct{}
	triedOnce sync.Once
}

type waiter struct {
	prefix string // the staff region's prefix: woken for changes in its subtree
	ch     chan struct{}
}

// New builds the feed; rdb may be nil (no wake-ups: streams poll).
func New(db *gorm.DB, rdb redis.UniversalClient, log *slog.Logger, opt Options) *Feed {
	opt.defaults()
	return &Feed{db: db, rdb: rdb, log: log, opt: opt, waiters: map[*waiter]struct{}{}, quit: make(chan struct{}), tried: make(chan struct{})}
}

// Publish wakes the streams watching regionCode on every instance. It is called after the
// change committed and does not wait for Redis: a hung Redis must not hold the request, and
// streams find the change by polling when it is down.
func (f *Feed) Publish(regionCode string) {
	if f == nil || f.rdb == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := f.rdb.Publish(ctx, f.opt.Channel, regionCode).Err(); err != nil {
			f.log.Debug("tip feed: publish failed; desks find the change by polling", "err", err)
		}
	}()
}

// Up reports whether this instance's subscription is live (wake-ups arrive).
func (f *Feed) Up() bool { return f.up.Load() }

// Close ends the open streams and the subscription; the feed takes no new streams after it.
func (f *Feed) Close() {
	f.quitOnce.Do(func() { close(f.quit) })
	f.mu.Lock()
	stop, done := f.stop, f.done
	f.stop = nil
	f.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// watch registers a stream of prefix for wake-ups, starting the subscription on first use.
func (f *Feed) watch(prefix string) *waiter {
	w := &waiter{prefix: prefix, ch: make(chan struct{}, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiters[w] = struct{}{}
	if !f.started && f.rdb != nil {
		f.started = true
		ctx, cancel := context.WithCancel(context.Background())
		f.stop, f.done = cancel, make(chan struct{})
		go func() { defer close(f.done); f.subscribe(ctx) }()
	}
	return w
}

func (f *Feed) unwatch(w *waiter) {
	f.mu.Lock()
	delete(f.waiters, w)
	f.mu.Unlock()
}

// wake signals the streams whose subtree holds code ("" wakes all). A signal already pending is
// enough: the stream reads everything new when it wakes.
func (f *Feed) wake(code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.waiters {
		if code == "" || strings.HasPrefix(code, w.prefix) {
			select {
			case w.ch <- struct{}{}:
			default:
			}
		}
	}
}

// subscribe keeps one subscription open until ctx ends, resubscribing after a failure. While it
// is down, streams poll; when it comes back every stream reads once, for what it missed.
func (f *Feed) subscribe(ctx context.Context) {
	for ctx.Err() == nil {
		ps := f.rdb.Subscribe(ctx, f.opt.Channel)
		// A read in progress does not watch ctx: closing the subscription ends it.
		unhook := context.AfterFunc(ctx, func() { _ = ps.Close() })
		_, err := ps.ReceiveTimeout(ctx, 5*time.Second) // the subscription's confirmation
		if err == nil {
			f.up.Store(true)
			f.triedOnce.Do(func() { close(f.tried) })
			f.wake("")
			err = f.receive(ctx, ps)
		}
		f.up.Store(false)
		f.triedOnce.Do(func() { close(f.tried) })
		unhook()
		_ = ps.Close()
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("tip feed: redis subscription lost; open tip desks poll the database until it is back", "err", err)
		f.wake("") // switch waiting streams to polling now
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (f *Feed) receive(ctx context.Context, ps *redis.PubSub) error {
	for {
		msg, err := ps.ReceiveTimeout(ctx, 10*time.Second)
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			// Quiet for a while: make sure the connection still answers (a hung Redis sends nothing).
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if m, ok := msg.(*redis.Message); ok {
			f.wake(m.Payload)
		}
	}
}

// ---- streams ----

var errStaffOnly = apperr.Forbidden("只有民族工作部门工作人员可以打开线索台")

// Stream is one open desk connection.
type Stream struct {
	f *Feed
	p *access.Principal
	w *waiter
	// Cursor is the last event id the client has; events after it are sent.
	Cursor int64
	low    int64
	sent   map[int64]bool
	marks  []mark
}

type mark struct {
	at     time.Time
	cursor int64
}

// Open starts a stream for staff p. With resume, events after after are sent first (the client's
// last seen id after a drop); without, the stream starts at the newest event.
func (f *Feed) Open(ctx context.Context, p *access.Principal, after int64, resume bool) (*Stream, error) {
	if !p.IsStaff() {
		return nil, errStaffOnly
	}
	if after < 0 {
		return nil, apperr.Field("after_id", "应为非负整数")
	}
	if !resume {
		if err := f.db.WithContext(ctx).Model(&outbox.Event{}).Select("COALESCE(MAX(id), 0)").Scan(&after).Error; err != nil {
			return nil, err
		}
	}
	prefix := region.Prefix(p.RegionCode)
	s := &Stream{f: f, p: p, w: f.watch(prefix), Cursor: after, low: after, sent: map[int64]bool{}}
	if f.rdb != nil {
		select {
		case <-f.tried:
		case <-time.After(3 * time.Second):
		case <-ctx.Done():
		}
	}
	return s, nil
}

// Close releases the stream.
func (s *Stream) Close() { s.f.unwatch(s.w) }

// Sink is where a stream writes: the transport frames events and heartbeats for the wire.
type Sink interface {
	Send(Event) error
	Heartbeat() error
}

// Run sends events until ctx ends or the stream's age runs out (nil), or a write or the database
// fails.
func (s *Stream) Run(ctx context.Context, sink Sink) error {
	o := s.f.opt
	hb := time.NewTicker(o.Heartbeat)
	defer hb.Stop()
	end := time.NewTimer(o.MaxAge)
	defer end.Stop()
	for {
		if err := s.catchUp(ctx, sink); err != nil {
			return err
		}
		poll := o.Safety
		if !s.f.Up() {
			poll = o.Poll
		}
		next := time.NewTimer(poll)
	wait:
		for {
			select {
			case <-ctx.Done():
				next.Stop()
				return nil
			case <-s.f.quit:
				next.Stop()
				return nil
			case <-end.C:
				next.Stop()
				return nil
			case <-hb.C:
				if err := sink.Heartbeat(); err != nil {
					next.Stop()
					return err
				}
			case <-s.w.ch:
				next.Stop()
				break wait
			case <-next.C:
				break wait
			}
		}
	}
}

const batch = 200

// catchUp sends the tip events in scope after the stream's low watermark that were not sent yet.
// The watermark trails the cursor by Window, so an event whose transaction committed late, with
// an id below one already sent, is still found.
func (s *Stream) catchUp(ctx context.Context, sink Sink) error {
	for {
		var rows []outbox.Event
		err := s.f.db.WithContext(ctx).Model(&outbox.Event{}).Select("id", "kind", "subject_id").
			Where("subject_type = ? AND id > ?", "tip", s.low).Scopes(access.InRegion(s.p, "region_code")).
			Order("id").Limit(batch).Find(&rows).Error
		if err != nil {
			return err
		}
		for _, r := range rows {
			if s.sent[r.ID] {
				continue
			}
			if err := sink.Send(Event{ID: r.ID, TipID: r.SubjectID, Kind: r.Kind}); err != nil {
				return err
			}
			s.sent[r.ID] = true
			s.Cursor = max(s.Cursor, r.ID)
		}
		s.advance(time.Now())
		if len(rows) < batch {
			return nil
		}
		// A full batch: the rest is newer than the watermark can lag behind; read on from it.
		s.low = max(s.low, rows[len(rows)-1].ID)
	}
}

// advance moves the low watermark to the cursor as it was Window ago.
func (s *Stream) advance(now time.Time) {
	s.marks = append(s.marks, mark{at: now, cursor: s.Cursor})
	i := 0
	for i < len(s.marks) && now.Sub(s.marks[i].at) >= s.f.opt.Window {
		s.low = max(s.low, s.marks[i].cursor)
		i++
	}
	s.marks = s.marks[i:]
	for id := range s.sent {
		if id <= s.low {
			delete(s.sent, id)
		}
	}
}
