package stats

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/record"
)

func TestBuckets(t *testing.T) {
	if !slices.IsSorted(bucketBounds) || bucketBounds[0] != 0 {
		t.Fatalf("bounds not sorted from 0: %v", bucketBounds)
	}
	for i := 1; i < len(bucketBounds); i++ {
		lo, hi := bucketBounds[i-1], bucketBounds[i]
		if lo >= 10 && float64(hi-lo) > 0.25*float64(lo)+0.5 {
			t.Errorf("bucket [%d, %d) is wider than a quarter of its lower bound", lo, hi)
		}
	}
	for _, c := range []struct {
		d    time.Duration
		want int64
	}{
		{-time.Minute, 0}, {0, 0}, {59 * time.Second, 0}, {3 * time.Minute, 3}, {9*time.Minute + 59*time.Second, 9},
		{11 * time.Minute, 10}, {12 * time.Minute, 12}, {59 * time.Minute, 50}, {61 * time.Minute, 60},
		{25 * time.Hour, 1440}, {400 * 24 * time.Hour, 365 * 1440},
	} {
		if got := bucketOf(c.d); got != c.want {
			t.Errorf("bucketOf(%s) = %d, want %d", c.d, got, c.want)
		}
	}
	if bucketWidth(3) != 1 || bucketWidth(10) != 2 || bucketWidth(60) != 15 || bucketWidth(365*1440) != 65*1440 {
		t.Errorf("widths: %d %d %d %d", bucketWidth(3), bucketWidth(10), bucketWidth(60), bucketWidth(365*1440))
	}
}

func TestMedian(t *testing.T) {
	if median(nil) != nil || median(map[int64]int64{5: 0}) != nil {
		t.Fatal("median of nothing")
	}
	for _, c := range []struct {
		h      map[int64]int64
		lo, hi float64
	}{
		{map[int64]int64{7: 1}, 7, 8},                 // one tip, 7 minutes
		{map[int64]int64{3: 1, 5: 1, 10: 1}, 5, 6},    // the middle of three
		{map[int64]int64{1: 10, 600: 1}, 1, 2},        // the outlier does not pull it
		{map[int64]int64{60: 2, 120: 2}, 60, 120.001}, // between the two middle values
		{map[int64]int64{1440: 5}, 1440, 1800},        // a day, within its bucket
	} {
		m := median(c.h)
		if m == nil || *m < c.lo || *m >= c.hi {
			t.Errorf("median(%v) = %v, want in [%v, %v)", c.h, m, c.lo, c.hi)
		}
	}
}

func TestSplitAtDeadline(t *testing.T) {
	// Acknowledged after 3, 12, 14 minutes (buckets 3, 12, 12), 15 and 40: the 15-minute deadline
	// is a bucket bound, so the split is exact.
	h := map[int64]int64{3: 1, 12: 2, 15: 1, 40: 1}
	if in, over := splitAt(h, 15); in != 3 || over != 2 {
		t.Errorf("at 15 minutes: %d within, %d over", in, over)
	}
	// A deadline inside the 12–15 bucket (13.5 minutes) splits that bucket in half.
	if in, over := splitAt(h, 13.5); in != 2 || over != 3 {
		t.Errorf("at 13.5 minutes: %d within, %d over", in, over)
	}
	if in, over := splitAt(nil, 15); in != 0 || over != 0 {
		t.Errorf("nothing: %d %d", in, over)
	}
	// Keys with and without a level: the older ones count in the totals only.
	tm := newTimes()
	for m, n := range map[string]int64{"a:critical:12": 2, "a:critical:20": 1, "a:general:1440": 1, "a:5": 4, "z:major:180": 1, "z:7": 1, "r:tip": 9} {
		if tm.add(m, n) != (m != "r:tip") {
			t.Errorf("add(%q)", m)
		}
	}
	deadline := func(level string) time.Duration {
		return record.AckDeadline(map[string]time.Duration{"critical": 15 * time.Minute}, level)
	}
	ack, res := tm.totals(deadline)
	if ack.Count != 8 || ack.WithinDeadline != 2 || ack.OverDeadline != 2 || ack.DeadlineMinutes != nil || res.Count != 2 {
		t.Errorf("totals: %+v %+v", ack, res)
	}
	if c := tm.acknowledge("critical", 15*time.Minute); c.Count != 3 || c.WithinDeadline != 2 || c.OverDeadline != 1 || *c.DeadlineMinutes != 15 {
		t.Errorf("critical: %+v", c)
	}
	if g := tm.acknowledge("general", 24*time.Hour); g.Count != 1 || g.WithinDeadline != 0 || g.OverDeadline != 1 {
		t.Errorf("general, acknowledged after a day: %+v", g)
	}
}

func TestGrains(t *testing.T) {
	const village = "130302001001"
	if grainCode(village, GrainCity) != "130300000000" || grainCode(village, GrainCounty) != "130302000000" {
		t.Fatal("grain codes")
	}
	for level, want := range map[int]int{1: GrainCity, 2: GrainCity, 3: GrainCounty} {
		if grainFor(level) != want {
			t.Errorf("grainFor(%d) = %d, want %d", level, grainFor(level), want)
		}
	}
}

func TestFacts(t *testing.T) {
	// 2025-01-31 20:00 UTC is 2025-02-01 04:00 in Beijing: a February record.
	at := time.Date(2025, 1, 31, 20, 0, 0, 0, time.UTC)
	sub := at.Add(time.Hour)
	ack := sub.Add(42 * time.Minute)
	res := sub.Add(3 * time.Hour)
	tip := &record.Tip{Level: "serious", SubmittedAt: sub, AcknowledgedAt: &ack, ResolvedAt: &res}
	f := factOf(1, source{Kind: "tip", RegionCode: "130302001001", Status: "resolved", OccurredAt: at, Tip: tip})
	if f.Month != 202502 || !f.Counted || f.Metrics != "a:serious:40 r:tip t:serious:resolved z:serious:180" {
		t.Fatalf("tip fact: %+v", f)
	}
	dup := int64(9)
	tip.DuplicateOf = &dup
	if f := factOf(1, source{Kind: "tip", RegionCode: "130302001001", Status: "resolved", OccurredAt: at, Tip: tip}); f.Metrics != "r:tip t:dup" {
		t.Errorf("duplicate: %+v", f)
	}
	if f := factOf(2, source{Kind: "mediation", RegionCode: "130302001001", Status: record.StatusWithdrawn, OccurredAt: at, Outcome: "settled"}); f.Counted || f.Metrics != "" {
		t.Errorf("withdrawn: %+v", f)
	}
	m := factOf(3, source{Kind: "mediation", RegionCode: "130302001001", Status: "submitted", OccurredAt: at, Outcome: "failed"})
	if m.Metrics != "m:failed r:mediation" {
		t.Errorf("mediation: %+v", m)
	}

	// Changing the outcome moves one count at every grain, nothing else.
	d := deltas{}
	d.add(m, -1)
	m2 := m
	m2.Metrics = "m:settled r:mediation"
	d.add(m2, 1)
	var moved []string
	for c, n := range d {
		if n != 0 {
			moved = append(moved, c.metric)
			if c.month != 202502 {
				t.Errorf("month %d", c.month)
			}
		}
	}
	slices.Sort(moved)
	if strings.Join(moved, ",") != "m:failed,m:failed,m:settled,m:settled" {
		t.Errorf("deltas: %v", d)
	}
}

func TestPeriod(t *testing.T) {
	s := &Service{clock: clock.NewFake(time.Date(2025, 12, 31, 17, 0, 0, 0, time.UTC))} // 2026-01-01 01:00 in Beijing
	p, err := s.ParsePeriod("", "")
	if err != nil || p.From != 202601 || p.To != 202601 {
		t.Fatalf("default period: %+v %v", p, err)
	}
	p, err = s.ParsePeriod("2024-11", "2025-02")
	if err != nil || !slices.Equal(p.Months(), []int{202411, 202412, 202501, 202502}) {
		t.Fatalf("months: %v %v", p.Months(), err)
	}
	if !p.Start().Equal(time.Date(2024, 10, 31, 16, 0, 0, 0, time.UTC)) || !p.End().Equal(time.Date(2025, 2, 28, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("bounds: %s %s", p.Start(), p.End())
	}
	for _, c := range []struct{ from, to, field string }{
		{"2025-1", "", "from"}, {"", "2025-00", "to"}, {"2025-03", "2025-02", "to"}, {"2001-01", "2011-01", "to"}, {"1999-12", "", "from"},
	} {
		_, err := s.ParsePeriod(c.from, c.to)
		e, ok := apperr.As(err)
		if !ok || e.Status != 400 || len(e.Details) == 0 || e.Details[0].Field != c.field {
			t.Errorf("ParsePeriod(%q, %q): %v, want a 400 on %s", c.from, c.to, err, c.field)
		}
	}
	if _, err := ParseYear("2100"); err != nil {
		t.Error(err)
	}
	if _, err := ParseYear("21x"); err == nil {
		t.Error("bad year accepted")
	}
}

func TestCardPeriods(t *testing.T) {
	now := time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC)
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) // a stored date
	ps := cardPeriods(&start, 0, now)
	if len(ps) != 2 || ps[0].From != "2024-05-01" || ps[0].To != "2025-04-30" || ps[1].Label != "任期第2年" || ps[1].To != "2026-04-30" {
		t.Fatalf("term years: %+v", ps)
	}
	if ps := cardPeriods(nil, 0, now); len(ps) != 1 || ps[0].Label != "2026年" || ps[0].From != "2026-01-01" || ps[0].To != "2026-12-31" {
		t.Fatalf("no term: %+v", ps)
	}
	future := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if ps := cardPeriods(&future, 0, now); len(ps) != 1 || ps[0].Label != "2026年" {
		t.Fatalf("term not begun: %+v", ps)
	}
	if ps := cardPeriods(&start, 2025, now); len(ps) != 1 || ps[0].From != "2025-01-01" {
		t.Fatalf("calendar year: %+v", ps)
	}
}

func TestItems(t *testing.T) {
	got := items([]record.Code{{Code: "a", Label: "甲"}, {Code: "b", Label: "乙"}}, map[string]int64{"b": 2, "zz": 1}, true)
	if len(got) != 3 || got[0] != (Item{"a", "甲", 0}) || got[1] != (Item{"b", "乙", 2}) || got[2] != (Item{"zz", "zz", 1}) {
		t.Fatalf("items: %+v", got)
	}
	if got := items([]record.Code{{Code: "a", Label: "甲"}}, map[string]int64{}, false); len(got) != 0 {
		t.Fatalf("without zeros: %+v", got)
	}
	if r := rate(1, 3); r == nil || *r != 0.3333 {
		t.Errorf("rate: %v", r)
	}
	if rate(1, 0) != nil {
		t.Error("rate of nothing")
	}
}
