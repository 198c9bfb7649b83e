package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// Replicas sends the reads of a context marked with ReadFromReplica (lists, exports and
// statistics, by the HTTP layer) to a MySQL/MariaDB replica that is in step, one after the other;
// every other statement, every statement inside a transaction, and every read when no replica
// is in step goes to the primary. A checker reads each replica's replication status every
// second and leaves out one that stopped replicating, is more than MaxLag behind, or does not
// answer, until it is back in step.
//
// A small equivalent of gorm.io/plugin/dbresolver (not among the modules that resolve here),
// with the health check dbresolver does not have.
type Replicas struct {
	base   gorm.ConnPool
	nodes  []*replica
	next   atomic.Uint64
	maxLag time.Duration
	every  time.Duration
	log    *slog.Logger
	stop   chan struct{}
	done   sync.WaitGroup
	// Marks remember which accounts wrote recently (read-your-writes); nil: none do.
	Marks WriteMarks
}

// WriteMarks remember, across instances, which accounts wrote within the read-your-writes
// window (cache.WriteMarks keeps them in Redis).
type WriteMarks interface {
	Mark(ctx context.Context, accountID int64) error
	Recent(ctx context.Context, accountID int64) (bool, error)
}

type replica struct {
	name   string // redacted address, for logs
	dsn    string
	opt    Options
	db     *DB
	inStep atomic.Bool
	why    atomic.Value // string: why it is left out
}

// ReplicaOptions tune the checker.
type ReplicaOptions struct {
	MaxLag time.Duration
	// Every is how often each replica's status is read (default 1 s).
	Every time.Duration
	Pool  Options
}

type replicaKey struct{}

// ReadFromReplica marks ctx: its reads may go to a replica in step.
func ReadFromReplica(ctx context.Context) context.Context {
	return context.WithValue(ctx, replicaKey{}, true)
}

// OpenReplicas connects to each replica DSN and routes primary's marked reads to them. The
// replicas start left out; Start's first check (run before it returns) takes them in.
func OpenReplicas(ctx context.Context, primary *DB, dsns []string, opt ReplicaOptions) (*Replicas, error) {
	if primary.Dialect != MySQL {
		return nil, errors.New("read replicas need MySQL/MariaDB")
	}
	if opt.Every <= 0 {
		opt.Every = time.Second
	}
	log := opt.Pool.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &Replicas{base: primary.ConnPool, maxLag: opt.MaxLag, every: opt.Every, log: log, stop: make(chan struct{})}
	for i, dsn := range dsns {
		db, err := Open(ctx, dsn, opt.Pool)
		n := &replica{name: fmt.Sprintf("replica %d (%s)", i+1, redactedAddr(dsn)), dsn: dsn, opt: opt.Pool}
		n.why.Store("not checked yet")
		if err != nil {
			db = nil
			// A replica that is down at start is checked again like one that went down later.
			log.Warn("read replica not reachable at start; reads stay on the primary until it is", "replica", n.name, "err", err)
		}
		n.db = db
		r.nodes = append(r.nodes, n)
	}
	if err := primary.Callback().Query().Before("gorm:query").Register("shiliu:replica", r.route); err != nil {
		return nil, err
	}
	if err := primary.Callback().Row().Before("gorm:row").Register("shiliu:replica", r.route); err != nil {
		return nil, err
	}
	return r, nil
}

func redactedAddr(dsn string) string {
	_, form, err := Parse(dsn)
	if err != nil {
		return "?"
	}
	cfg, err := mysqldrv.ParseDSN(form)
	if err != nil {
		return "?"
	}
	return cfg.Addr + "/" + cfg.DBName
}

// route runs before each query: a marked read outside a transaction goes to a replica in step.
func (r *Replicas) route(db *gorm.DB) {
	st := db.Statement
	if st.Context == nil || st.Context.Value(replicaKey{}) == nil || st.ConnPool != r.base {
		return // not marked, or in a transaction (ConnPool is the *sql.Tx), or a pinned conn
	}
	if _, locking := st.Clauses["FOR"]; locking {
		return // SELECT … FOR UPDATE is a write's read
	}
	if n := r.pick(); n != nil {
		st.ConnPool = n.db.ConnPool
	}
}

func (r *Replicas) pick() *replica {
	k := len(r.nodes)
	start := r.next.Add(1)
	for i := 0; i < k; i++ {
		n := r.nodes[(int(start)+i)%k]
		if n.inStep.Load() {
			return n
		}
	}
	return nil
}

// InStep names the replicas reads go to now.
func (r *Replicas) InStep() []string {
	var out []string
	for _, n := range r.nodes {
		if n.inStep.Load() {
			out = append(out, n.name)
		}
	}
	return out
}

// Start checks every replica once, then every Every until Close.
func (r *Replicas) Start(ctx context.Context) {
	r.check(ctx)
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		t := time.NewTicker(r.every)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				r.check(context.Background())
			}
		}
	}()
}

// Close stops the checker and closes the replicas' connections.
func (r *Replicas) Close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	r.done.Wait()
	for _, n := range r.nodes {
		if n.db != nil {
			n.db.Close()
		}
	}
}

func (r *Replicas) check(ctx context.Context) {
	for _, n := range r.nodes {
		why := r.status(ctx, n)
		was := n.inStep.Load()
		n.inStep.Store(why == "")
		switch {
		case why != "" && (was || n.why.Load() != why):
			r.log.Warn("read replica left out: reads go to the primary or other replicas", "replica", n.name, "why", why)
		case why == "" && !was:
			r.log.Info("read replica in step: reads go to it again", "replica", n.name)
		}
		n.why.Store(why)
	}
}

// status is why the replica must be left out, or "" when it is in step.
func (r *Replicas) status(ctx context.Context, n *replica) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if n.db == nil {
		db, err := Open(ctx, n.dsn, n.opt)
		if err != nil {
			return "not connected: " + err.Error()
		}
		n.db = db
	}
	sqlDB, err := n.db.DB.DB()
	if err != nil {
		return err.Error()
	}
	// MariaDB 10.5+ and MySQL 8.0.22+ both know SHOW REPLICA STATUS; MariaDB keeps the Slave_*
	// column names, MySQL says Replica_* and Seconds_Behind_Source.
	st, err := statusRow(ctx, sqlDB)
	if err != nil {
		return "status: " + err.Error()
	}
	if st == nil {
		return "not a replica (SHOW REPLICA STATUS is empty)"
	}
	io := first(st, "Slave_IO_Running", "Replica_IO_Running")
	sqlRun := first(st, "Slave_SQL_Running", "Replica_SQL_Running")
	if sqlRun.String != "Yes" || io.String != "Yes" {
		return fmt.Sprintf("not replicating (IO %s, SQL %s)", io.String, sqlRun.String)
	}
	lag := first(st, "Seconds_Behind_Master", "Seconds_Behind_Source")
	if !lag.Valid {
		return "lag unknown (Seconds_Behind_Master is NULL)"
	}
	secs, err := strconv.Atoi(lag.String)
	if err != nil {
		return "lag unreadable: " + lag.String
	}
	if behind := time.Duration(secs) * time.Second; behind > r.maxLag {
		return fmt.Sprintf("%v behind, more than %v", behind, r.maxLag)
	}
	return ""
}

func first(m map[string]sql.NullString, names ...string) sql.NullString {
	for _, n := range names {
		if v, ok := m[n]; ok {
			return v
		}
	}
	return sql.NullString{}
}

func statusRow(ctx context.Context, db *sql.DB) (map[string]sql.NullString, error) {
	rows, err := db.QueryContext(ctx, "SHOW REPLICA STATUS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := make(map[string]sql.NullString, len(cols))
	for i, c := range cols {
		out[c] = vals[i]
	}
	return out, nil
}
