package database

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// IsUnavailable reports an error that says the database cannot be used right now rather than
// that the statement was wrong: the connection was lost or refused (a restart, a failover), the
// pool is closed, the server is shutting down or full of connections, or, on SQLite, the file is
// locked past the busy timeout, on a full disk or read-only. Trying again later can succeed, so
// the API answers 503 with Retry-After instead of 500.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldrv.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, // too many connections
			1053,                   // server shutdown in progress
			1290,                   // running with --read-only (a replica during failover)
			1836,                   // read-only mode
			1927,                   // connection was killed
			2002, 2003, 2006, 2013: // cannot connect, server has gone away, lost connection
			return true
		}
		return false
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	var se interface{ Code() int }
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code of an extended one
		case 5, 6, 8, 10, 13, 14: // SQLITE_BUSY, _LOCKED, _READONLY, _IOERR, _FULL, _CANTOPEN
			return true
		}
	}
	// database/sql says this without an exported error value.
	return strings.Contains(err.Error(), "sql: database is closed")
}
