package stats

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/record"
)

// times gathers the histograms of the time to acknowledge and to resolve from the aggregate's
// duration metrics, by tip level. The key "" holds metrics written without a level (before
// migration 32): they count in the totals and in no level.
type times struct {
	ack, res map[string]map[int64]int64
}

func newTimes() *times {
	return &times{ack: map[string]map[int64]int64{}, res: map[string]map[int64]int64{}}
}

// add takes a duration metric ("a:<level>:<bucket>", "z:<level>:<bucket>", or the older
// "a:<bucket>") and reports whether it was one.
func (t *times) add(metric string, n int64) bool {
	var h map[string]map[int64]int64
	switch {
	case strings.HasPrefix(metric, metricAck):
		h, metric = t.ack, strings.TrimPrefix(metric, metricAck)
	case strings.HasPrefix(metric, metricResolve):
		h, metric = t.res, strings.TrimPrefix(metric, metricResolve)
	default:
		return false
	}
	level, bucket, ok := strings.Cut(metric, ":")
	if !ok {
		level, bucket = "", metric
	}
	b, err := strconv.ParseInt(bucket, 10, 64)
	if err != nil {
		return true // not a number: not a metric this version wrote; nothing to count
	}
	if h[level] == nil {
		h[level] = map[int64]int64{}
	}
	h[level][b] += n
	return true
}

func (s *Service) ackDeadline(level string) time.Duration {
	return record.AckDeadline(s.ackDeadlines, level)
}

// acknowledge is the time to acknowledge the tips of one level against its deadline.
func (t *times) acknowledge(level string, deadline time.Duration) Deadline {
	h := t.ack[level]
	minutes := deadline.Minutes()
	d := Deadline{Count: total(h), MedianMinutes: median(h), DeadlineMinutes: &minutes}
	d.WithinDeadline, d.OverDeadline = splitAt(h, minutes)
	return d
}

func (t *times) resolve(level string) Duration {
	return Duration{Count: total(t.res[level]), MedianMinutes: median(t.res[level])}
}

// totals are the times over all levels: the median of all the tips, and the within and over
// counts summed over the levels, each against its own deadline (tips counted without a level
// are in neither).
func (t *times) totals(deadline func(level string) time.Duration) (Deadline, Duration) {
	all, res := map[int64]int64{}, map[int64]int64{}
	var ack Deadline
	for level, h := range t.ack {
		for b, n := range h {
			all[b] += n
		}
		if level != "" {
			in, over := splitAt(h, deadline(level).Minutes())
			ack.WithinDeadline += in
			ack.OverDeadline += over
		}
	}
	for _, h := range t.res {
		for b, n := range h {
			res[b] += n
		}
	}
	ack.Count, ack.MedianMinutes = total(all), median(all)
	return ack, Duration{Count: total(res), MedianMinutes: median(res)}
}

func total(h map[int64]int64) int64 {
	var n int64
	for _, c := range h {
		n += c
	}
	return n
}

// splitAt divides a histogram of durations (whole minutes, bucket lower bound → count) at a
// deadline: a bucket that ends by the deadline is within it, one that begins at or after it is
// over. The deadlines are bucket bounds by default (15 and 30 minutes, 2 and 24 hours), so the
// split is exact; a deadline configured inside a bucket splits that bucket in proportion.
func splitAt(h map[int64]int64, deadline float64) (within, over int64) {
	for b, n := range h {
		lo, hi := float64(b), float64(b+bucketWidth(b))
		switch {
		case hi <= deadline:
			within += n
		case lo >= deadline:
			over += n
		default:
			in := int64(math.Round(float64(n) * (deadline - lo) / (hi - lo)))
			within += in
			over += n - in
		}
	}
	return within, over
}
