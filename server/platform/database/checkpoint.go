package database

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// checkpointEvery is how often the checkpointer copies what the WAL holds into the database
// file. Under load a group of submissions commits every few tens of milliseconds.
const checkpointEvery = 50 * time.Millisecond

// walBackstop is the size of the WAL, in pages, from which a committing connection checkpoints
// itself (wal_autocheckpoint; SQLite's default is 1,000). Below it only the checkpointer does.
// The WAL starts again from its beginning only when a write begins with every frame copied, which
// the checkpointer, copying beside a busy writer, seldom sees: past the backstop the writer copies
// the little the checkpointer left, and the WAL starts again (at most about 40 MB of 4 KB pages).
const walBackstop = 10_000

// checkpointer copies the WAL into the database file from a connection of its own, every
// checkpointEvery, without waiting for or holding up a writer (PASSIVE). Left to SQLite, the
// copy runs in the commit of whichever connection passes 1,000 pages of WAL: under load the
// submissions' group writer, whose commit every grouped submission waits for (a seventh of its
// time in a profile at 64 phones, with the fsync of the database file). Here it runs on the
// other core.
type checkpointer struct {
	stop     chan struct{}
	stopOnce sync.Once
	done     sync.WaitGroup
}

func startCheckpointer(pool *sql.DB, log *slog.Logger) *checkpointer {
	if log == nil {
		log = slog.Default()
	}
	c := &checkpointer{stop: make(chan struct{})}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		var lastWarned time.Time
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := pool.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			cancel()
			switch {
			case err == nil:
			case errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "database is closed"):
				return
			case time.Since(lastWarned) >= time.Minute:
				// The next tick tries again (a failing disk is not worth 20 lines a second);
				// meanwhile the writers' backstop keeps the WAL bounded.
				lastWarned = time.Now()
				log.Warn("sqlite checkpoint failed", "err", err)
			}
		}
	}()
	return c
}

// close stops the checkpointer (a DB may be closed more than once); SQLite checkpoints once
// more when the last connection closes.
func (c *checkpointer) close() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.done.Wait()
}
