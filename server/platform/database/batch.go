package database

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// On MySQL a grouped transaction (Grouped) sends the statements whose results its caller does not
// read (Later) together with the next statement that needs an answer, or with the COMMIT, as one
// multi-statement query: a submission's transaction (BEGIN, ten statements, COMMIT) goes in three
// round trips instead of twelve. Each round trip costs both ends a system call, a packet and a
// wake-up; in the write-path bench the same rows written in two round trips instead of eleven
// took a fifth less CPU (docs/performance.md).
//
// Multi-statement queries need the connection's CLIENT_MULTI_STATEMENTS flag. Only the grouped
// transactions' connections have it, in a pool of their own: a query that should be one statement
// never runs where a second one, smuggled in, would be run too.

// Later marks the statements run through tx as ones whose caller reads no result of them (no
// insert id, no rows affected): in a grouped transaction on MySQL they are sent with the next
// statement that needs an answer (an insert whose id is read, a query) or with the COMMIT, and an
// error of theirs is the transaction's, at that point. Elsewhere it changes nothing.
func Later(tx *gorm.DB) *gorm.DB {
	return tx.WithContext(context.WithValue(tx.Statement.Context, laterKey{}, true))
}

type laterKey struct{}

func isLater(ctx context.Context) bool {
	later, _ := ctx.Value(laterKey{}).(bool)
	return later
}

// batchPool is the pool of a MySQL pool's grouped transactions, opened at their first use with
// the same DSN and limits, and multiStatements.
type batchPool struct {
	cfg  *mysqldrv.Config
	opt  Options
	once sync.Once
	db   *sql.DB
	err  error
}

var batchPools sync.Map // *sql.DB → *batchPool

// batchRoundTrips counts the queries grouped transactions sent, for tests.
var batchRoundTrips atomic.Int64

// registerBatchPool notes the DSN of pool's grouped transactions (Open, MySQL).
func registerBatchPool(pool *sql.DB, driverDSN string, opt Options) error {
	cfg, err := mysqldrv.ParseDSN(driverDSN)
	if err != nil {
		return err
	}
	cfg.MultiStatements = true
	// The statements of a batch go as one text: their arguments must be written into it.
	cfg.InterpolateParams = true
	batchPools.Store(pool, &batchPool{cfg: cfg, opt: opt})
	return nil
}

// closeBatchPool closes pool's batch pool, if it was opened (DB.Close).
func closeBatchPool(pool *sql.DB) {
	if v, ok := batchPools.LoadAndDelete(pool); ok {
		bp := v.(*batchPool)
		bp.once.Do(func() { bp.err = errors.New("database: closed") })
		if bp.db != nil {
			bp.db.Close()
		}
	}
}

func (bp *batchPool) open() (*sql.DB, error) {
	bp.once.Do(func() {
		c, err := mysqldrv.NewConnector(bp.cfg)
		if err != nil {
			bp.err = err
			return
		}
		bp.db = sql.OpenDB(c)
		if bp.opt.MaxOpenConns > 0 {
			bp.db.SetMaxOpenConns(bp.opt.MaxOpenConns)
		}
		if bp.opt.MaxIdleConns > 0 {
			bp.db.SetMaxIdleConns(bp.opt.MaxIdleConns)
		}
		if bp.opt.ConnMaxLife > 0 {
			bp.db.SetConnMaxLifetime(bp.opt.ConnMaxLife)
		}
	})
	return bp.db, bp.err
}

// transactBatched is Transact through a batchTx on a connection of the batch pool of db's pool,
// or Transact when db's pool has none (a pool not opened by Open).
func transactBatched(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	pool, err := db.DB()
	if err != nil {
		return err
	}
	v, ok := batchPools.Load(pool)
	if !ok {
		return Transact(ctx, db, fn)
	}
	bdb, err := v.(*batchPool).open()
	if err != nil {
		return err
	}
	return Retried(func() error { return runBatched(ctx, db, bdb, fn) })
}

// runBatched runs fn once in a transaction on a connection of bdb, and commits it or rolls it
// back.
func runBatched(ctx context.Context, db *gorm.DB, bdb *sql.DB, fn func(tx *gorm.DB) error) error {
	conn, err := bdb.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	b := &batchTx{conn: conn}
	b.queue("START TRANSACTION", nil, false) // sent with the first statement
	committed := false
	defer func() {
		if !committed && b.begun {
			// A connection the driver found broken (a context ended mid-statement) is
			// discarded by the pool, and the server rolls its transaction back.
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	tx := db.Session(&gorm.Session{NewDB: true, Context: ctx})
	tx.Statement.ConnPool = b
	if err := fn(tx); err != nil {
		return err
	}
	if b.failed != nil {
		return b.failed // fn went on after a failed statement
	}
	b.queue("COMMIT", nil, true)
	if _, err := b.send(ctx); err != nil {
		return err
	}
	committed = true
	return nil
}

// batchTx is a transaction on one connection as GORM's connection pool: statements run through
// Later wait in a queue, and the next statement that needs an answer takes them with it. It is a
// TxCommitter so that GORM runs a transaction nested in fn as a savepoint; runBatched commits.
type batchTx struct {
	conn   *sql.Conn
	queued strings.Builder
	args   []any
	n      int
	later  int   // statements queued whose callers did not wait for them (Later, COMMIT)
	begun  bool  // a statement was sent: there is a transaction to roll back
	failed error // a statement of a caller that did not wait failed, or may not have run: nothing commits
}

// queue adds a statement to the next query; later: its caller does not wait for its answer.
func (b *batchTx) queue(query string, args []any, later bool) {
	if later {
		b.later++
	}
	if b.n > 0 {
		b.queued.WriteString(";\n")
	}
	b.queued.WriteString(query)
	b.args = append(b.args, args...)
	b.n++
}

// send sends the queued statements as one query. The result is the last statement's (the
// driver's), as the answer to it alone would be.
func (b *batchTx) send(ctx context.Context) (sql.Result, error) {
	if b.n == 0 {
		return nil, nil
	}
	query, args, later := b.queued.String(), b.args, b.later
	b.queued.Reset()
	b.args, b.n, b.later, b.begun = nil, 0, 0, true
	batchRoundTrips.Add(1)
	res, err := b.conn.ExecContext(ctx, query, args...)
	if err != nil && later > 0 && b.failed == nil {
		// The server stops at a failing statement: which of them failed is not told, and
		// the ones after it did not run. (A statement sent alone, or with START
		// TRANSACTION, fails as it would in any transaction: its caller sees the error.)
		b.failed = err
	}
	return res, err
}

func (b *batchTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	later := isLater(ctx)
	b.queue(query, args, later)
	if later {
		return laterResult{}, nil
	}
	return b.send(ctx)
}

func (b *batchTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if _, err := b.send(ctx); err != nil {
		return nil, err
	}
	batchRoundTrips.Add(1)
	return b.conn.QueryContext(ctx, query, args...)
}

func (b *batchTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if _, err := b.send(ctx); err != nil {
		// A Row carries an error only from its query: this one ends at once, on a context
		// ended before it; the queued statements' error is the transaction's (runBatched).
		done, cancel := context.WithCancel(ctx)
		cancel()
		return b.conn.QueryRowContext(done, query, args...)
	}
	batchRoundTrips.Add(1)
	return b.conn.QueryRowContext(ctx, query, args...)
}

func (b *batchTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if _, err := b.send(ctx); err != nil {
		return nil, err
	}
	return b.conn.PrepareContext(ctx, query)
}

func (b *batchTx) Commit() error   { return errGroupCommits }
func (b *batchTx) Rollback() error { return errGroupCommits }

// laterResult is the result of a statement sent later: nothing is known of it yet.
type laterResult struct{}

func (laterResult) LastInsertId() (int64, error) { return 0, errLater }
func (laterResult) RowsAffected() (int64, error) { return 0, nil }

var errLater = errors.New("database: the statement is sent later (database.Later): no insert id")
