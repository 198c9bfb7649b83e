package notify

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// Metrics are the dispatcher's Prometheus series. A nil *Metrics records nothing.
type Metrics struct {
	sendSeconds *prometheus.HistogramVec
	outcomes    *prometheus.CounterVec
	failures    *prometheus.CounterVec
}

// NewMetrics registers the notification series on reg, including the queue depth, which is
// counted in the database when /metrics is scraped.
func NewMetrics(reg prometheus.Registerer, db *gorm.DB) *Metrics {
	m := &Metrics{
		sendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shiliu_notify_send_duration_seconds", Help: "Time of one send to WeChat or WeCom, by channel.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10},
		}, []string{"channel"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shiliu_notify_outcomes_total", Help: "Delivery attempts by channel and outcome (sent, retry, failed, skipped, deferred).",
		}, []string{"channel", "outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shiliu_notify_failures_total", Help: "Failed sends by channel and code (WeChat errcode, HTTP status, or error).",
		}, []string{"channel", "code"}),
	}
	reg.MustRegister(m.sendSeconds, m.outcomes, m.failures, &queueCollector{db: db})
	return m
}

func (m *Metrics) observeSend(channel string, d time.Duration, err error) {
	if m == nil {
		return
	}
	var skip *SkipError
	var def *DeferError
	if errors.As(err, &skip) || (errors.As(err, &def) && def.Code == 0) {
		return // nothing was sent
	}
	m.sendSeconds.WithLabelValues(channel).Observe(d.Seconds())
	if err != nil {
		code := "error"
		if def != nil && def.Code != 0 {
			code = strconv.Itoa(def.Code)
		} else if c := errorCode(err); c != 0 {
			code = strconv.Itoa(c)
		} else if errors.Is(err, context.DeadlineExceeded) {
			code = "timeout"
		}
		m.failures.WithLabelValues(channel, code).Inc()
	}
}

func (m *Metrics) countOutcome(channel, outcome string, _ error) {
	if m == nil {
		return
	}
	m.outcomes.WithLabelValues(channel, outcome).Inc()
}

var (
	queueDesc   = prometheus.NewDesc("shiliu_notify_queue", "Notifications by channel and status (pending, sending, failed).", []string{"channel", "status"}, nil)
	backlogDesc = prometheus.NewDesc("shiliu_notify_events_backlog", "Outbox events not yet fanned out.", nil, nil)
)

// queueCollector counts the queue at scrape time; only the unfinished and failed statuses, which
// the (status, next_attempt_at) index counts cheaply.
type queueCollector struct{ db *gorm.DB }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDesc
	ch <- backlogDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var rows []struct {
		Channel string
		Status  string
		N       int64
	}
	err := c.db.WithContext(ctx).Model(&Notification{}).Select("channel, status, COUNT(*) AS n").
		Where("status IN ?", []string{StatusPending, StatusSending, StatusFailed}).Group("channel, status").Scan(&rows).Error
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDesc, err)
		return
	}
	seen := map[[2]string]bool{}
	for _, r := range rows {
		seen[[2]string{r.Channel, r.Status}] = true
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(r.N), r.Channel, r.Status)
	}
	for _, chn := range []string{ChannelRobot, ChannelSubscribe} {
		for _, st := range []string{StatusPending, StatusSending, StatusFailed} {
			if !seen[[2]string{chn, st}] {
				ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, 0, chn, st)
			}
		}
	}
	var backlog int64
	if err := c.db.WithContext(ctx).Model(&Event{}).Where("consumed_at IS NULL").Count(&backlog).Error; err != nil {
		ch <- prometheus.NewInvalidMetric(backlogDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(backlog))
}
