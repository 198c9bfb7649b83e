// Package dbtest gives tests a fresh, empty database of their own on the backend the environment
// chooses: a SQLite file by default, or a new database on the MariaDB/MySQL server of
// SHILIU_TEST_DATABASE_DSN (which CI sets for its second run). One helper, so that every package's
// tests run on both backends the same way.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/shiliu/shiliu/server/platform/database"
)

// EnvDSN names the variable that points the tests at a MariaDB/MySQL server.
const EnvDSN = "SHILIU_TEST_DATABASE_DSN"

// MySQL reports whether the tests run on MariaDB/MySQL.
func MySQL() bool { return os.Getenv(EnvDSN) != "" }

// New creates an empty database and returns its DSN and the function that drops it. prefix names
// it (shiliu_PREFIX_RANDOM on MySQL), so that a database a crashed run left behind says whose it
// was.
func New(prefix string) (dsn string, drop func(), err error) {
	base := os.Getenv(EnvDSN)
	if base == "" {
		dir, err := os.MkdirTemp("", "shiliu-"+prefix+"-")
		if err != nil {
			return "", nil, err
		}
		return "sqlite:" + filepath.Join(dir, prefix+".db"), func() { os.RemoveAll(dir) }, nil
	}
	_, driverDSN, err := database.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", EnvDSN, err)
	}
	cfg, err := mysqldrv.ParseDSN(driverDSN)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", EnvDSN, err)
	}
	admin, err := database.Open(context.Background(), base, database.Options{})
	if err != nil {
		return "", nil, fmt.Errorf("connect to the test MySQL server: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "shiliu_" + prefix + "_" + hex.EncodeToString(b)
	if err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci").Error; err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	cfg.DBName = name
	return cfg.FormatDSN(), func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	}, nil
}

// DSN is New for one test: the database is dropped when the test ends.
func DSN(t testing.TB, prefix string) string {
	t.Helper()
	dsn, drop, err := New(prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return dsn
}
