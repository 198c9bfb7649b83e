package database

import (
	"context"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// Turn waits, in the order callers arrive, until fewer calls hold a turn on db's pool than it
// has connections, and returns the function that gives the turn back. database/sql hands a
// freed connection to one of its waiters chosen at random: with more concurrent requests than
// connections (64 phones, a pool of 20) a request may lose that draw many times in a row, and
// a submission draws twice (the author's placement, then its transaction). The average wait is
// the same either way; queued in order, the slowest requests wait about as long as the others
// instead of several times as long.
//
// On SQLite, whose writes go through one connection in groups (Grouped), and on a pool without
// a limit, it returns at once.
func Turn(ctx context.Context, db *gorm.DB) (release func(), err error) {
	if db.Dialector.Name() == "sqlite" || turnsOff.Load() {
		return func() {}, nil
	}
	pool, err := db.DB()
	if err != nil {
		return nil, err
	}
	n := pool.Stats().MaxOpenConnections
	if n <= 0 {
		return func() {}, nil
	}
	v, _ := turns.LoadOrStore(pool, make(chan struct{}, n))
	sem := v.(chan struct{})
	// A channel's blocked senders go in the order they came.
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-sem }) }, nil
}

var turns sync.Map // *sql.DB → chan struct{} of its connections

var turnsOff atomic.Bool

// SetTurns turns Turn on or off until the returned function restores it: the write-path
// benchmark measures submissions with and without turns in one run.
func SetTurns(on bool) (restore func()) {
	old := turnsOff.Swap(!on)
	return func() { turnsOff.Store(old) }
}
