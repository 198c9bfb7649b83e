package database

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The logger renders a statement's SQL (GORM's fc) only for a line it writes: an error or a slow
// statement, or every statement when asked for Info.
func TestLoggerRendersOnlyTheLinesItWrites(t *testing.T) {
	var out bytes.Buffer
	l := newLogger(slog.New(slog.NewTextHandler(&out, nil)), 100*time.Millisecond)
	ctx := context.Background()
	cases := []struct {
		name  string
		log   logger.Interface
		took  time.Duration
		err   error
		wants bool
	}{
		{"fast", l, time.Millisecond, nil, false},
		{"not found", l, time.Millisecond, gorm.ErrRecordNotFound, false},
		{"duplicate key", l, time.Millisecond, &mysqldrv.MySQLError{Number: 1062, Message: "Duplicate entry '138' for key 'uk'"}, false},
		{"slow", l, time.Second, nil, true},
		{"error", l, time.Millisecond, errors.New("connection refused"), true},
		{"fast at Info", l.LogMode(logger.Info), time.Millisecond, nil, true},
		{"error when silent", l.LogMode(logger.Silent), time.Millisecond, errors.New("connection refused"), false},
	}
	for _, c := range cases {
		out.Reset()
		rendered := 0
		c.log.Trace(ctx, time.Now().Add(-c.took), func() (string, int64) {
			rendered++
			return "SELECT 1 /* " + c.name + " */", 1
		}, c.err)
		if (rendered > 0) != c.wants || strings.Contains(out.String(), c.name) != c.wants {
			t.Errorf("%s: rendered %d times, logged %q", c.name, rendered, out.String())
		}
	}
	// A wrapped logger still drops the arguments.
	if f, ok := l.LogMode(logger.Info).(interface {
		ParamsFilter(context.Context, string, ...any) (string, []any)
	}); !ok {
		t.Error("LogMode lost ParamsFilter")
	} else if _, args := f.ParamsFilter(ctx, "SELECT ?", "13812345678"); args != nil {
		t.Errorf("arguments kept: %v", args)
	}
}
