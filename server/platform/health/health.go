// Package health answers readiness: which dependencies this instance can use now. Only critical
// ones (the database) make it unready; the others (Redis, the dispatcher, upload storage) leave it
// serving in a degraded state, reported in the answer, in the log (once per change) and as
// Prometheus gauges. A load balancer that took every instance out whenever Redis was down would
// turn a partial outage (logins with WeChat, pacing) into a full one.
package health

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Check is one dependency readiness looks at.
type Check struct {
	Name string
	// Critical dependencies make the instance useless when down: readiness fails. The others
	// only degrade it.
	Critical bool
	// Probe answers nil when the dependency works now. It must respect ctx.
	Probe func(ctx context.Context) error
}

// The states of the whole instance.
const (
	StatusOK          = "ok"          // everything works
	StatusDegraded    = "degraded"    // serving; some non-critical dependency is down
	StatusUnavailable = "unavailable" // a critical dependency is down: send no traffic
)

// The state of one check.
const (
	Up   = "ok"
	Down = "down"
)

// Report is one evaluation of every check.
type Report struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
	// Degraded lists the non-critical checks that are down, sorted (empty when none).
	Degraded []string `json:"degraded"`
}

// Ready reports whether the instance should receive traffic.
func (r Report) Ready() bool { return r.Status != StatusUnavailable }

// Checker runs the checks. Callers arriving while an evaluation runs share its report: a load
// balancer and Prometheus asking at once must not multiply pings to a Redis that hangs.
type Checker struct {
	checks  []Check
	timeout time.Duration
	log     *slog.Logger

	mu       sync.Mutex
	inflight *flight
	// was is each check's state at the previous evaluation, to log changes only; only the one
	// running evaluation touches it.
	was map[string]string

	upDesc, readyDesc *prometheus.Desc
}

type flight struct {
	done   chan struct{}
	report Report
}

// Timeout bounds each probe.
const Timeout = time.Second

// New builds a Checker.
func New(log *slog.Logger, checks ...Check) *Checker {
	return &Checker{checks: checks, timeout: Timeout, log: log, was: map[string]string{},
		upDesc: prometheus.NewDesc("shiliu_dependency_up",
			"Whether a dependency works now (1) or not (0); critical ones fail readiness, the others degrade it.",
			[]string{"dependency", "critical"}, nil),
		readyDesc: prometheus.NewDesc("shiliu_ready",
			"Readiness: 2 ok, 1 degraded (serving without some non-critical dependency), 0 unavailable.", nil, nil)}
}

// Check evaluates every check, in parallel, each bounded by the probe timeout, or waits for the
// evaluation already running and answers its report.
func (c *Checker) Check(ctx context.Context) Report {
	c.mu.Lock()
	if f := c.inflight; f != nil {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.report
		case <-ctx.Done():
			return c.unknown()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.inflight = f
	c.mu.Unlock()

	// Not cut short by this caller going away: others may be waiting for the report.
	f.report = c.evaluate(context.WithoutCancel(ctx))
	c.mu.Lock()
	c.inflight = nil
	c.mu.Unlock()
	close(f.done)
	return f.report
}

// unknown is the answer to a caller that gave up waiting: nothing is known to work.
func (c *Checker) unknown() Report {
	r := Report{Status: StatusUnavailable, Checks: map[string]string{}, Degraded: []string{}}
	for _, chk := range c.checks {
		r.Checks[chk.Name] = Down
	}
	return r
}

func (c *Checker) evaluate(ctx context.Context) Report {
	errs := make([]error, len(c.checks))
	var wg sync.WaitGroup
	for i, chk := range c.checks {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			errs[i] = chk.Probe(pctx)
		})
	}
	wg.Wait()
	r := Report{Status: StatusOK, Checks: make(map[string]string, len(c.checks)), Degraded: []string{}}
	for i, chk := range c.checks {
		state := Up
		if errs[i] != nil {
			state = Down
			if chk.Critical {
				r.Status = StatusUnavailable
			} else {
				r.Degraded = append(r.Degraded, chk.Name)
				if r.Status == StatusOK {
					r.Status = StatusDegraded
				}
			}
		}
		r.Checks[chk.Name] = state
		if prev, seen := c.was[chk.Name]; state != prev && (seen || state != Up) {
			if state == Up {
				c.log.Info("dependency is back", "dependency", chk.Name)
			} else {
				c.log.Warn("dependency is down", "dependency", chk.Name, "critical", chk.Critical, "err", errs[i])
			}
		}
		c.was[chk.Name] = state
	}
	sort.Strings(r.Degraded)
	return r
}

// Describe implements prometheus.Collector.
func (c *Checker) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.upDesc
	ch <- c.readyDesc
}

// Collect implements prometheus.Collector: the gauges are evaluated at scrape time, so they are
// current even where nothing probes readiness.
func (c *Checker) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*c.timeout)
	defer cancel()
	r := c.Check(ctx)
	for _, chk := range c.checks {
		v := 0.0
		if r.Checks[chk.Name] == Up {
			v = 1
		}
		critical := "false"
		if chk.Critical {
			critical = "true"
		}
		ch <- prometheus.MustNewConstMetric(c.upDesc, prometheus.GaugeValue, v, chk.Name, critical)
	}
	ready := map[string]float64{StatusOK: 2, StatusDegraded: 1, StatusUnavailable: 0}[r.Status]
	ch <- prometheus.MustNewConstMetric(c.readyDesc, prometheus.GaugeValue, ready)
}
