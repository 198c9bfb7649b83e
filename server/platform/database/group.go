package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// Grouped runs fn in a transaction like Transact. On SQLite, transactions that arrive while
// another is being written are run together, one after the other, in the next transaction, as if
// each were inside a savepoint of its own: a failing fn leaves nothing and gets its error, the
// others commit together, and each caller returns once the commit that holds its work is done (or
// failed, which fails them all). (The group is written without savepoints first, and again with
// one per call when a call fails: see write.) SQLite writes one transaction at a time, and most of a
// small transaction's cost is its commit (the WAL frames of every page it touched, many of them
// the same pages the next one touches: the end of the table and of each index) and the pages a
// connection reads again when another connection wrote last; a group pays them once.
//
// fn sees the writes of the calls grouped before it, as it would had they committed before it
// began. It may run twice, as a Transact retried after a deadlock does, so it must not have
// effects outside the transaction. It must not start another transaction of its own on the pool
// (it would wait for the group it is part of). Its context is the caller's, without cancellation once it runs: a client
// gone mid-statement would interrupt the whole group's transaction.
//
// On MySQL, where transactions of different rows do not wait for each other, it is Transact
// with the statements run through Later sent together (batch.go).
func Grouped(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	if db.Dialector.Name() != "sqlite" {
		return transactBatched(ctx, db, fn)
	}
	pool, err := db.DB()
	if err != nil {
		return err
	}
	v, _ := groups.LoadOrStore(pool, &group{pool: pool})
	return v.(*group).do(ctx, db, fn)
}

// maxGroup bounds a group: a commit waits for every call in it.
const maxGroup = 64

var groups sync.Map // *sql.DB → *group

// group is the calls of one pool waiting to be written. One caller at a time leads: it writes the
// waiting calls (its own among them) in one transaction, then hands the lead to the first caller
// that arrived meanwhile.
type group struct {
	pool    *sql.DB
	mu      sync.Mutex
	waiting []*groupCall
	leading bool
	// conn writes the groups while calls keep coming: a connection whose last transaction was
	// another's finds its page cache stale and reads the pages again. Only the leader uses it;
	// it goes back to the pool when no call waits.
	conn *sql.Conn
	// stmts are the statements the groups ran on conn, kept compiled while conn is held.
	stmts *keptStmts
	// transactions and calls written, for tests
	transactions, calls atomic.Int64
}

type groupCall struct {
	ctx      context.Context
	fn       func(tx *gorm.DB) error
	err      error
	panicked any
	done     chan struct{} // closed once the call's transaction has committed or failed
	lead     chan struct{} // closed to make this call's caller the leader
}

func (g *group) do(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	c := &groupCall{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{})}
	g.mu.Lock()
	g.waiting = append(g.waiting, c)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		select {
		case <-c.done:
		case <-c.lead:
			lead = true
		}
	}
	if lead {
		g.write(db)
		<-c.done
	}
	if c.panicked != nil {
		panic(c.panicked)
	}
	return c.err
}

// write runs the waiting calls (at most maxGroup, the leader's first) in one transaction, then
// hands the lead on.
func (g *group) write(db *gorm.DB) {
	g.mu.Lock()
	n := min(len(g.waiting), maxGroup)
	calls := g.waiting[:n:n]
	g.waiting = g.waiting[n:]
	g.mu.Unlock()
	g.transactions.Add(1)
	g.calls.Add(int64(n))

	var err error
	if g.conn == nil {
		g.conn, err = g.pool.Conn(context.Background())
		if err != nil {
			// Without a deadline this fails only once the pool is closed: let it go.
			groups.Delete(g.pool)
		} else {
			g.stmts = &keptStmts{conn: g.conn, stmts: map[string]*sql.Stmt{}}
		}
	}
	if err == nil {
		wdb := db.Session(&gorm.Session{NewDB: true, Context: context.Background()})
		wdb.Statement.ConnPool = g.stmts
		// Most groups have no failing call: they are written without a savepoint per call (two
		// statements of a dozen in a submission). A failing call rolls that whole transaction
		// back, and the group is written again with a savepoint per call.
		err = g.stmts.transaction(func() error { return runCalls(wdb, calls, false) })
		if errors.Is(err, errCallFailed) {
			for _, c := range calls {
				c.err, c.panicked = nil, nil
			}
			err = g.stmts.transaction(func() error { return runCalls(wdb, calls, true) })
		}
	}
	for _, c := range calls {
		if err != nil && c.err == nil && c.panicked == nil {
			c.err = err
		}
	}

	g.mu.Lock()
	if len(g.waiting) > 0 && err == nil {
		close(g.waiting[0].lead)
	} else {
		// Idle (or failed: the next leader takes a connection afresh).
		if g.conn != nil {
			g.stmts.close()
			g.conn.Close()
			g.conn, g.stmts = nil, nil
		}
		if len(g.waiting) > 0 {
			close(g.waiting[0].lead)
		} else {
			g.leading = false
		}
	}
	g.mu.Unlock()
	for _, c := range calls {
		close(c.done)
	}
}

// errCallFailed ends a group's transaction written without savepoints when a call failed.
var errCallFailed = errors.New("database: a grouped call failed")

// runCalls runs the group's calls in order, each inside a savepoint of its own or, without
// savepoints, until the first that fails (errCallFailed).
func runCalls(tx *gorm.DB, calls []*groupCall, savepoints bool) error {
	for i, c := range calls {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			continue
		}
		if !savepoints {
			if runBare(tx, c) {
				continue
			}
			return errCallFailed
		}
		if err := runCall(tx, c); err != nil {
			// The transaction cannot go on (its savepoint could not be rolled back to):
			// none of the group commits.
			for _, rest := range calls[i+1:] {
				rest.err = err
			}
			return err
		}
	}
	return nil
}

// runBare runs one call (without a savepoint of its own), and reports whether it succeeded.
func runBare(tx *gorm.DB, c *groupCall) bool {
	defer func() {
		if r := recover(); r != nil {
			c.panicked = r
		}
	}()
	c.err = c.fn(tx.WithContext(context.WithoutCancel(c.ctx)))
	return c.err == nil
}

// runCall runs one call inside its own savepoint. Its error (or panic) is the call's; the error
// returned is the transaction's, when rolling back to the savepoint failed.
func runCall(tx *gorm.DB, c *groupCall) (txErr error) {
	ctx := context.WithoutCancel(c.ctx)
	if err := tx.WithContext(ctx).Exec("SAVEPOINT grouped_call").Error; err != nil {
		c.err = err
		return err
	}
	if !runBare(tx, c) {
		if err := tx.WithContext(ctx).Exec("ROLLBACK TO grouped_call").Error; err != nil {
			return fmt.Errorf("roll back a grouped transaction's failed call: %w", err)
		}
	}
	if err := tx.WithContext(ctx).Exec("RELEASE grouped_call").Error; err != nil {
		if c.err == nil {
			c.err = err
		}
		return err
	}
	return nil
}

// maxKeptStmts bounds the statements a group's connection keeps: a statement with a list of
// values in it (IN (?, ?, …)) is another statement for each length of the list.
const maxKeptStmts = 256

// keptStmts is the group's connection as GORM's connection pool, in a transaction of its own
// making: each statement is prepared once on the connection and run again from there. The
// pure-Go SQLite driver keeps a prepared statement compiled, but compiles a statement run without
// one at every run: a quarter of a submission's time in the writing goroutine. It is a
// TxCommitter so that GORM runs a transaction nested in a call as a savepoint; the group commits.
type keptStmts struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

var errGroupCommits = errors.New("database: a grouped call's transaction is committed by its group")

func (k *keptStmts) transaction(fn func() error) error {
	ctx := context.Background()
	// IMMEDIATE as the pool's own transactions (_txlock=immediate): the write lock is taken at
	// BEGIN, waiting out busy_timeout, not at the first write, where SQLite fails at once.
	if _, err := k.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := k.conn.ExecContext(ctx, "ROLLBACK"); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if _, err := k.conn.ExecContext(ctx, "COMMIT"); err != nil {
		// A COMMIT that failed (SQLITE_BUSY, I/O) leaves the transaction open.
		_, rerr := k.conn.ExecContext(ctx, "ROLLBACK")
		return errors.Join(err, rerr)
	}
	return nil
}

func (k *keptStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := k.stmts[query]; ok {
		return s, nil
	}
	if len(k.stmts) >= maxKeptStmts {
		k.close()
	}
	s, err := k.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	k.stmts[query] = s
	return s, nil
}

func (k *keptStmts) close() {
	for q, s := range k.stmts {
		s.Close()
		delete(k.stmts, q)
	}
}

func (k *keptStmts) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return k.conn.PrepareContext(ctx, query)
}

func (k *keptStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := k.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (k *keptStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := k.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (k *keptStmts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := k.stmt(ctx, query)
	if err != nil {
		// The same statement run unprepared carries the same error in its row.
		return k.conn.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

func (k *keptStmts) Commit() error   { return errGroupCommits }
func (k *keptStmts) Rollback() error { return errGroupCommits }
