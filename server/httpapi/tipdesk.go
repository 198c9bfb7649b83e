package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/tipfeed"
)

// tipStreamRoute is the tip desk's event stream. It carries ids only, so it is not a sensitive
// read for the audit trail; the tips themselves are read (and audited) through GET /tips.
const tipStreamRoute = "/api/v1/tips/stream"

func (h *handlers) tipDeskRoutes(g *gin.RouterGroup) {
	g.GET("/tips/stream", h.tipStream)
}

// tipStream serves server-sent events: "ready" with the cursor the stream starts at, then one
// "tip" event per change of a tip in the caller's scope, and a comment line as a heartbeat. The
// console reads it with fetch (the access token goes in the Authorization header, never in the
// URL) and reconnects with the last id it saw, in Last-Event-ID or after_id.
func (h *handlers) tipStream(c *gin.Context) {
	after, resume, err := streamCursor(c)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	ctx := c.Request.Context()
	s, err := h.tipFeed.Open(ctx, principal(c), after, resume)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	defer s.Close()
	// The server's read and write timeouts are for ordinary requests; the stream ends itself.
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	w := c.Writer
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)
	sink := &sseSink{w: w, rc: rc}
	if err := sink.write(fmt.Sprintf("retry: 3000\nevent: ready\ndata: {\"last_id\":%d,\"live\":%t}\n\n", s.Cursor, h.tipFeed.Up())); err != nil {
		return
	}
	if err := s.Run(ctx, sink); err != nil && ctx.Err() == nil {
		h.log.WarnContext(ctx, "tip stream ended", "err", err)
	}
}

// streamCursor reads where a reconnecting client left off: the Last-Event-ID header (what an
// EventSource sends) or after_id.
func streamCursor(c *gin.Context) (int64, bool, error) {
	raw, field := c.GetHeader("Last-Event-ID"), "Last-Event-ID"
	if q, ok := c.GetQuery("after_id"); ok {
		raw, field = q, "after_id"
	}
	if raw == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return 0, false, apperr.Field(field, "应为非负整数")
	}
	return n, true, nil
}

type sseSink struct {
	w  gin.ResponseWriter
	rc *http.ResponseController
}

func (s *sseSink) write(frame string) error {
	if _, err := s.w.WriteString(frame); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *sseSink) Send(e tipfeed.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.write(fmt.Sprintf("id: %d\nevent: tip\ndata: %s\n\n", e.ID, b))
}

func (s *sseSink) Heartbeat() error { return s.write(": ping\n\n") }
