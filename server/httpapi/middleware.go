package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/auth"
)

const ctxRequestID = "request_id"

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// withRequestID keeps a sane incoming X-Request-ID (from the load balancer) or makes one, and puts
// it on the response and on every log line of the request.
func withRequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !requestIDRe.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-ID", id)
		c.Request = c.Request.WithContext(withLogAttrs(c.Request.Context(), slog.String("request_id", id)))
		c.Next()
	}
}

// noStore keeps API answers, most of which carry personal data (names, phones, ID numbers,
// tips), out of every cache between the server and the phone, and stops browsers from guessing a
// content type other than the declared one. Handlers that may be cached (signed file downloads)
// set their own Cache-Control over it.
func noStore() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		c.Next()
	}
}

// accessLog logs one line per request: route template rather than the raw path and no query
// string, so no phone number or token lands in the logs.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := routeLabel(c)
		// 503 is the server shedding load or a dependency down, said to the phone on purpose
		// (it retries): a warning, so that a burst of busy uploads does not read as a failure.
		level := slog.LevelInfo
		switch st := c.Writer.Status(); {
		case st == http.StatusServiceUnavailable:
			level = slog.LevelWarn
		case st >= 500:
			level = slog.LevelError
		}
		if route == "/healthz" || route == "/readyz" || route == "/metrics" {
			level = slog.LevelDebug
		}
		log.Log(c.Request.Context(), level, "http", "method", c.Request.Method, "route", route,
			"status", c.Writer.Status(), "ms", time.Since(start).Milliseconds(), "bytes", c.Writer.Size())
	}
}

// routeLabel is the route template of a request for logs and metrics: never the raw path, which
// may carry ids and would make one metric series per id.
func routeLabel(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// recovery turns a panic into a logged 500 without details.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.ErrorContext(c.Request.Context(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				fail(c, log, apperr.Internal())
			}
		}()
		c.Next()
	}
}

// metrics counts requests by route and status and times them.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shiliu_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shiliu_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *metrics) handler() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := routeLabel(c)
		m.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
		m.duration.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	}
}

// bodyLimit is a route's own body cap and the error for a body over it.
type bodyLimit struct {
	max int64
	err error
}

// limitBody caps request bodies: at def, or at the route's own cap ("POST /api/v1/uploads": a
// file is far larger than any JSON body). decode turns the overflow into a 413.
func limitBody(def int64, routes map[string]bodyLimit) gin.HandlerFunc {
	return func(c *gin.Context) {
		l, ok := routes[c.Request.Method+" "+c.FullPath()]
		if !ok {
			l = bodyLimit{max: def, err: errTooLarge}
		}
		if c.Request.ContentLength > l.max {
			fail(c, slog.Default(), l.err)
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, l.max)
		c.Next()
	}
}

// authenticate puts the caller's principal into the request context, or answers 401.
func (h *handlers) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		tok, ok := bearer(c)
		if !ok {
			fail(c, h.log, apperr.New(http.StatusUnauthorized, "unauthenticated", "请先登录"))
			return
		}
		p, err := h.auth.Authenticate(c.Request.Context(), tok)
		if err != nil {
			fail(c, h.log, err)
			return
		}
		if p.MustChangePassword && !passwordChangeAllowed[c.Request.Method+" "+c.FullPath()] {
			fail(c, h.log, auth.ErrPasswordChangeRequired())
			return
		}
		if p.IsAdministrator() && !administratorMay(c.FullPath()) {
			fail(c, h.log, errAdministratorNoFieldData)
			return
		}
		ctx := access.WithPrincipal(c.Request.Context(), p)
		ctx = withLogAttrs(ctx, slog.Int64("account_id", p.AccountID), slog.String("role", string(p.Role)))
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

func bearer(c *gin.Context) (string, bool) {
	h := c.GetHeader("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	tok = strings.TrimSpace(tok)
	return tok, ok && tok != ""
}

func principal(c *gin.Context) *access.Principal { return access.FromContext(c.Request.Context()) }
