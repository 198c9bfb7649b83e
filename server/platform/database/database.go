// Package database opens Shiliu's relational store: MySQL/MariaDB in production, a SQLite file
// (pure Go, no cgo) for trials and tests, behind the same GORM handle.
package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the backend in use.
type Dialect string

const (
	MySQL  Dialect = "mysql"
	SQLite Dialect = "sqlite"
)

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int
	MaxIdleConns int
	ConnMaxLife  time.Duration
	// SlowQuery is the run time from which a statement is logged as slow; 0 turns that off.
	SlowQuery time.Duration
	Logger    *slog.Logger
}

// DB is the GORM handle and what it talks to.
type DB struct {
	*gorm.DB
	Dialect Dialect
	// checkpointer copies a SQLite file's WAL into the file beside the writers (checkpoint.go).
	checkpointer *checkpointer
}

// AcceptedDSNForms lists what Parse accepts, for error messages.
const AcceptedDSNForms = `  mysql://USER:PASSWORD@HOST:3306/DATABASE     MySQL 8 / MariaDB 10.11
  USER:PASSWORD@tcp(HOST:3306)/DATABASE        the same, as a go-sql-driver/mysql DSN
  sqlite:PATH                                  a SQLite file for trials and tests, e.g. sqlite:data/shiliu.db`

// Parse decides the backend from a DSN: "mysql://user:pass@host:port/db?…" or a go-sql-driver DSN
// ("user:pass@tcp(host:port)/db") select MySQL, "sqlite:PATH" (PATH a file path or file: URI) a
// SQLite file. Anything else is refused: a mistyped MySQL DSN must not quietly become a SQLite
// file named after it.
func Parse(dsn string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(dsn, "mysql://"):
		u, err := url.Parse(dsn)
		if err != nil || u.Host == "" {
			return "", "", dsnError("the mysql:// URL does not parse", err)
		}
		cfg := mysqldrv.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" {
			cfg.Addr = u.Host + ":3306"
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		// The URL's query is the driver's options, as in the go-sql-driver form: parsed by the
		// driver, so interpolateParams or timeout configure it instead of being sent to the
		// server as session variables.
		form := cfg.FormatDSN()
		if u.RawQuery != "" {
			form += "?" + u.RawQuery
		}
		parsed, err := mysqldrv.ParseDSN(form)
		if err != nil {
			return "", "", dsnError("the mysql:// URL's options do not parse", err)
		}
		return MySQL, mysqlDefaults(parsed, u.Query().Has("interpolateParams")).FormatDSN(), nil
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" {
			return "", "", dsnError("sqlite: needs a file path", nil)
		}
		return SQLite, path, nil
	case strings.Contains(dsn, "tcp(") || strings.Contains(dsn, "unix("):
		cfg, err := mysqldrv.ParseDSN(dsn)
		if err != nil {
			return "", "", dsnError("the go-sql-driver DSN does not parse", err)
		}
		return MySQL, mysqlDefaults(cfg, strings.Contains(dsn, "interpolateParams=")).FormatDSN(), nil
	case dsn == "":
		return "", "", dsnError("it is empty", nil)
	default:
		return "", "", dsnError("it is none of them", nil)
	}
}

// dsnError never repeats the DSN: it may hold a password.
func dsnError(why string, err error) error {
	msg := "not an accepted database DSN: " + why + "; the accepted forms are\n" + AcceptedDSNForms
	if err != nil {
		return fmt.Errorf("%s\n(%w)", msg, err)
	}
	return errors.New(msg)
}

// mysqlDefaults pins what the schema relies on: UTC times, utf8mb4 for Chinese text and emoji.
// Unless the DSN says otherwise (interpolateSet), arguments are interpolated by the driver: a
// statement is then one round trip instead of prepare, execute and close (three), which made
// submissions about half as fast again; it is safe with utf8mb4, and the driver checks the
// server's NO_BACKSLASH_ESCAPES mode when it quotes.
func mysqlDefaults(cfg *mysqldrv.Config, interpolateSet bool) *mysqldrv.Config {
	if !interpolateSet {
		cfg.InterpolateParams = true
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	delete(cfg.Params, "parseTime")
	delete(cfg.Params, "loc")
	if _, ok := cfg.Params["charset"]; !ok {
		cfg.Params["charset"] = "utf8mb4"
	}
	if _, ok := cfg.Params["time_zone"]; !ok {
		cfg.Params["time_zone"] = "'+00:00'"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	return cfg
}

// ErrUnreachable marks an Open that got no answer from the database server, which may be
// starting still; a refusal by the server (a wrong password, an unknown database) is not it.
var ErrUnreachable = errors.New("the database server does not answer")

// Open connects and checks the connection.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	dialect, driverDSN, err := Parse(dsn)
	if err != nil {
		return nil, err
	}
	gcfg := &gorm.Config{
		NowFunc:                func() time.Time { return time.Now().UTC() },
		Logger:                 newLogger(opt.Logger, opt.SlowQuery),
		TranslateError:         false,
		SkipDefaultTransaction: true,
		// No PrepareStmt for every statement on SQLite, although the pure-Go driver compiles every
		// statement run unprepared anew (10-20 % of a list page's CPU): with it on,
		// TestSweepRacesAttach failed with SQLITE_BUSY on BEGIN IMMEDIATE, at once instead of
		// waiting. The grouped writes, where most of the time of a submission is, keep their
		// statements (group.go), and so do the reads of a list's rows (Find).
		// Find's statements are kept in an LRU of this size: a list's shapes (its filters, the
		// length of an IN list of a page's ids) are a few hundred.
		PrepareStmtMaxSize: 512,
	}
	var dial gorm.Dialector
	switch dialect {
	case MySQL:
		// An insert's id comes back in the OK packet (LastInsertId): MariaDB's INSERT …
		// RETURNING, which the dialector would otherwise use from 10.5, answers with a result set
		// to parse on both ends for the same number.
		dial = mysql.New(mysql.Config{DSN: driverDSN, DefaultStringSize: 191, DisableWithReturning: true})
	case SQLite:
		path, uri := sqliteURI(driverDSN)
		if path != "" {
			if err := sqliteDirWritable(path); err != nil {
				return nil, err
			}
		}
		dial = sqlite.Open(uri)
	}
	gdb, err := gorm.Open(dial, gcfg)
	if err != nil {
		return nil, connectError(dialect, err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	if dialect == SQLite {
		// SQLite has one writer at a time: writers queue on the lock (immediate transactions,
		// busy_timeout) while WAL lets reads go on beside them. A few connections keep a read that
		// runs beside an open transaction from waiting on it. The embedded default is for trials.
		sqlDB.SetMaxOpenConns(4)
		// All four stay open. With database/sql's default of two idle ones, every burst of
		// more than two requests closed connections and opened new ones, and a new connection
		// runs its pragmas, parses the whole schema at its first statement and prepares its
		// statements again: 10 % of the process's CPU on a busy county's 100-row pages.
		sqlDB.SetMaxIdleConns(4)
	} else {
		if opt.MaxOpenConns > 0 {
			sqlDB.SetMaxOpenConns(opt.MaxOpenConns)
		}
		if opt.MaxIdleConns > 0 {
			sqlDB.SetMaxIdleConns(opt.MaxIdleConns)
		}
		if opt.ConnMaxLife > 0 {
			sqlDB.SetConnMaxLifetime(opt.ConnMaxLife)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, connectError(dialect, err)
	}
	d := &DB{DB: gdb, Dialect: dialect}
	if dialect == MySQL {
		if err := registerBatchPool(sqlDB, driverDSN, opt); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	if dialect == SQLite {
		d.checkpointer = startCheckpointer(sqlDB, opt.Logger)
	}
	return d, nil
}

// connectError marks a MySQL server that gave no answer at all (refused, timed out, unknown
// host) as ErrUnreachable, unlike one that answered with a refusal (a MySQLError).
func connectError(dialect Dialect, err error) error {
	var me *mysqldrv.MySQLError
	if dialect == MySQL && !errors.As(err, &me) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("connect %s: %w: %w", dialect, ErrUnreachable, err)
	}
	return fmt.Errorf("connect %s: %w", dialect, err)
}

// sqliteDirWritable checks, before SQLite does, that the file's directory can be written: SQLite
// creates its file, journal and WAL there, and an unwritable one only shows as "out of memory
// (14)" (SQLITE_CANTOPEN).
func sqliteDirWritable(path string) error {
	dir := filepath.Dir(path)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	hint := "give the user running shiliu write access to it, or set database.dsn (SHILIU_DATABASE_DSN) to sqlite:PATH in a writable directory"
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("the database directory %s cannot be created (%w): %s", dir, err, hint)
	}
	f, err := os.CreateTemp(dir, ".shiliu-write-check-*")
	if err != nil {
		return fmt.Errorf("the database directory %s is not writable (%w): %s", dir, err, hint)
	}
	f.Close()
	os.Remove(f.Name())
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the database file %s cannot be opened for writing (%w): %s", path, err, hint)
	}
	return nil
}

// sqliteURI turns a path or file: URI into a URI with the pragmas we rely on. Transactions take
// the write lock when they begin (_txlock=immediate): a deferred one that reads then writes fails
// at once with SQLITE_BUSY when another connection writes, while an immediate one waits out
// busy_timeout like any other writer. busy_timeout comes first: the pragmas run in order at
// connect, and switching to WAL must wait for a lock held by another process starting up.
// temp_store(MEMORY) keeps statement journals and sort files off the disk: written to files
// they cost about an eighth of a submission's CPU. wal_autocheckpoint leaves the WAL's copying
// to the checkpointer (checkpoint.go) up to a backstop.
func sqliteURI(dsn string) (path, uri string) {
	path = strings.TrimPrefix(dsn, "file:")
	if i := strings.Index(path, "?"); i >= 0 {
		path = path[:i]
	}
	if path == ":memory:" || path == "" {
		path = ""
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	uri = dsn
	if !strings.HasPrefix(uri, "file:") {
		uri = "file:" + uri
	}
	uri += sep + "_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(" + strconv.Itoa(walBackstop) + ")"
	return path, uri
}

// Close closes the pool.
func (d *DB) Close() error {
	if d.checkpointer != nil {
		d.checkpointer.close()
	}
	sqlDB, err := d.DB.DB()
	if err != nil {
		return err
	}
	closeBatchPool(sqlDB)
	return sqlDB.Close()
}

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error {
	sqlDB, err := d.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Transact runs fn in a transaction, and again (three times in all) when MySQL chose it as a
// deadlock victim (1213) or its lock wait timed out (1205): both roll the whole transaction back,
// so running fn again is what the server expects of the client. fn must not have effects
// outside the transaction.
func Transact(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return Retried(func() error { return db.WithContext(ctx).Transaction(fn) })
}

// Retried runs a transaction, or one statement outside any (its own transaction), again (three
// times in all) while MySQL rolls it back as a deadlock victim or for a lock wait timeout, as
// Transact does. run must not have effects outside the database.
func Retried(run func() error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = run()
		var me *mysqldrv.MySQLError
		if !errors.As(err, &me) || (me.Number != 1213 && me.Number != 1205) {
			return err
		}
	}
	return err
}

// IsUniqueViolation reports a duplicate key from either backend (MySQL 1062, SQLite UNIQUE
// constraint), so stores can turn it into a conflict.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: UNIQUE")
}

// newLogger sends GORM's slow-query and error lines through slog, never the SQL arguments (they
// may carry personal data: tip descriptions, names, phone numbers, search text).
func newLogger(l *slog.Logger, slow time.Duration) logger.Interface {
	if l == nil {
		l = slog.Default()
	}
	return quietLogger{Interface: logger.NewSlogLogger(l, logger.Config{
		SlowThreshold:             slow,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	}), level: logger.Warn, slow: slow}
}

// quietLogger keeps GORM's lines free of personal data and of expected failures, and costs
// nothing for a statement it does not log. GORM asks the logger itself (db.Logger) whether to
// filter parameters, so a wrapper must answer that too: an embedded interface would hide the inner
// logger's ParamsFilter and every line would carry the arguments spelled into the SQL.
type quietLogger struct {
	logger.Interface
	level logger.LogLevel
	slow  time.Duration
}

func (q quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	return quietLogger{Interface: q.Interface.LogMode(level), level: level, slow: q.slow}
}

// ParamsFilter drops every argument, whatever the inner logger is configured to do.
func (quietLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// Trace drops the error line of a duplicate key: stores turn it into a conflict on purpose (an
// idempotent retry, a taken phone number), so it is an answer, not a failure, and a retry storm
// from weak networks would otherwise flood the error log. Other errors are logged without the
// values a driver quotes in its message.
//
// GORM calls Trace after every statement with fc, which renders the statement's SQL; GORM's own
// loggers call fc before deciding whether to write a line. Here fc runs only for a line that is
// written (an error, a slow statement, or every statement at Info), so the statements of a
// submission that nobody logs render no SQL.
func (q quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if IsUniqueViolation(err) || errors.Is(err, gorm.ErrRecordNotFound) {
		err = nil
	}
	switch {
	case q.level <= logger.Silent:
		return
	case err != nil, q.level >= logger.Info, q.slow > 0 && time.Since(begin) > q.slow:
		q.Interface.Trace(ctx, begin, fc, RedactError(err))
	}
}

// quotedValue is a literal a driver quotes in an error message: MySQL's "Incorrect string value:
// '\xF0...' for column", "Data truncated ... '…'", "Duplicate entry '138…' for key".
var quotedValue = regexp.MustCompile(`'(?:[^'\\]|\\.)*'`)

// RedactError returns err with the values quoted in a MySQL error message replaced by '?', so it
// can be logged; column and key names stay (they are backquoted or follow the value), which is
// what an operator needs. Other errors are returned as they are.
func RedactError(err error) error {
	var me *mysqldrv.MySQLError
	if err == nil || !errors.As(err, &me) {
		return err
	}
	return redacted{err: err, msg: quotedValue.ReplaceAllString(err.Error(), "'?'")}
}

type redacted struct {
	err error
	msg string
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }
