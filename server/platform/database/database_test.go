package database

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
)

func TestParseDSN(t *testing.T) {
	cases := []struct {
		in      string
		dialect Dialect
		has     []string
	}{
		{"mysql://shiliu:p%40ss@db.internal:3307/shiliu?timeout=3s", MySQL, []string{"shiliu:p@ss@tcp(db.internal:3307)/shiliu", "parseTime=true", "charset=utf8mb4"}},
		{"mysql://root@127.0.0.1/test", MySQL, []string{"root@tcp(127.0.0.1:3306)/test"}},
		{"root@tcp(127.0.0.1:3306)/test", MySQL, []string{"parseTime=true", "time_zone="}},
		{"sqlite:data/shiliu.db", SQLite, []string{"data/shiliu.db"}},
		{"sqlite:/var/lib/shiliu/shiliu.db", SQLite, []string{"/var/lib/shiliu/shiliu.db"}},
		{"sqlite:///var/lib/shiliu/shiliu.db", SQLite, []string{"/var/lib/shiliu/shiliu.db"}},
		{"sqlite:file:data/shiliu.db?cache=shared", SQLite, []string{"file:data/shiliu.db?cache=shared"}},
	}
	for _, c := range cases {
		if c.dialect == MySQL {
			c.has = append(c.has, "interpolateParams=true")
		}
		d, dsn, err := Parse(c.in)
		if err != nil || d != c.dialect {
			t.Errorf("Parse(%s) = %s, %v", c.in, d, err)
			continue
		}
		for _, h := range c.has {
			if !strings.Contains(dsn, h) {
				t.Errorf("Parse(%s) = %s, missing %s", c.in, dsn, h)
			}
		}
	}
}

// A mysql:// URL's query holds driver options, as the go-sql-driver form's does: they configure
// the driver and are not sent to the server as session variables; arguments are interpolated
// (one round trip per statement) unless the DSN says otherwise.
func TestMySQLURLOptionsAreDriverOptions(t *testing.T) {
	for _, in := range []string{"mysql://u:p@db/shiliu?timeout=3s&readTimeout=7s", "u:p@tcp(db:3306)/shiliu?timeout=3s&readTimeout=7s"} {
		_, dsn, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := mysqldrv.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Timeout != 3*time.Second || cfg.ReadTimeout != 7*time.Second || !cfg.InterpolateParams {
			t.Errorf("%s: timeout %s, read timeout %s, interpolate %v", in, cfg.Timeout, cfg.ReadTimeout, cfg.InterpolateParams)
		}
		for k := range cfg.Params {
			if k != "charset" && k != "time_zone" {
				t.Errorf("%s: %q would be sent to the server as a session variable", in, k)
			}
		}
	}
	for _, in := range []string{"mysql://u:p@db/shiliu?interpolateParams=false", "u:p@tcp(db:3306)/shiliu?interpolateParams=false"} {
		_, dsn, _ := Parse(in)
		if cfg, err := mysqldrv.ParseDSN(dsn); err != nil || cfg.InterpolateParams {
			t.Errorf("%s: interpolation not turned off: %v", in, err)
		}
	}
}

// A mistyped MySQL DSN, another database's URL or a bare path is refused with the accepted
// forms, and the refusal never repeats the DSN (it may carry a password).
func TestParseRefusesOtherForms(t *testing.T) {
	for _, in := range []string{
		"root:hunter2@127.0.0.1:3306/shiliu", // tcp( forgotten
		"postgres://shiliu:hunter2@db/shiliu",
		"data/shiliu.db",
		"file:data/shiliu.db",
		"mysql://",
		"sqlite:",
		"",
	} {
		_, _, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) accepted", in)
			continue
		}
		msg := err.Error()
		for _, form := range []string{"mysql://USER:PASSWORD@HOST:3306/DATABASE", "USER:PASSWORD@tcp(HOST:3306)/DATABASE", "sqlite:PATH"} {
			if !strings.Contains(msg, form) {
				t.Errorf("Parse(%q): %q does not show %s", in, msg, form)
			}
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("Parse(%q) repeats the password: %s", in, msg)
		}
	}
}

// An unwritable directory for the SQLite file is named with the permission problem, not
// SQLite's "out of memory (14)".
func TestOpenNamesAnUnwritableDirectory(t *testing.T) {
	dir := unwritableDir(t)
	_, err := Open(context.Background(), "sqlite:"+filepath.Join(dir, "shiliu.db"), Options{})
	if err == nil {
		t.Fatal("opened a database in an unwritable directory")
	}
	for _, want := range []string{dir, "not writable", "permission denied", "SHILIU_DATABASE_DSN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// unwritableDir is a directory the test process cannot create files in: a read-only directory,
// or /sys for root (whom file permissions do not stop).
func unwritableDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return dir
	}
	if f, err := os.CreateTemp("/sys", "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("no unwritable directory for root here")
	} else if !os.IsPermission(err) {
		t.Skipf("no unwritable directory for root here: %v", err)
	}
	return "/sys"
}
