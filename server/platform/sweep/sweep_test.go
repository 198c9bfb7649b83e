package sweep

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestEveryRunsUntilCancelledAndZeroDisables(t *testing.T) {
	done := make(chan struct{})
	go func() {
		Every(context.Background(), 0, func(context.Context) { t.Error("a disabled job ran") })
		close(done)
	}()
	<-done

	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	Every(ctx, time.Millisecond, func(context.Context) {
		if runs++; runs == 3 {
			cancel()
		}
	})
	if runs != 3 {
		t.Fatalf("%d runs after cancelling at the third", runs)
	}
}

func TestCountingLogsWorkAndFailures(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	ctx, cancel := context.WithCancel(context.Background())
	results := []struct {
		n   int
		err error
	}{{0, nil}, {4, nil}, {1, errors.New("database is locked")}, {2, context.Canceled}}
	i := 0
	Counting(ctx, log, time.Millisecond, "tips escalated", func(context.Context) (int, error) {
		r := results[i]
		if i++; i == len(results) {
			cancel()
		}
		return r.n, r.err
	})
	out := buf.String()
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, `level=INFO msg="sweep done" sweep="tips escalated" count=4`) ||
		!strings.Contains(out, `level=ERROR msg="sweep failed" sweep="tips escalated" count=1 err="database is locked"`) {
		t.Errorf("log:\n%s", out)
	}
}
