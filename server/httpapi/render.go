// Package httpapi is the thin HTTP transport: it binds requests into DTOs, calls the domain
// services with the caller's principal and renders results and errors in the one API format.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/database"
)

// errorBody is the one error format of the API.
type errorBody struct {
	Code      string              `json:"code"`
	Message   string              `json:"message"`
	Details   []apperr.FieldError `json:"details"`
	RequestID string              `json:"request_id"`
}

// The answers to an outage: temporary, with a Retry-After the phone's queue can honour.
var (
	errTimeout = apperr.Unavailable("处理超时,请稍后重试").WithRetryAfter(5 * time.Second)
	// errDatabaseAway is a lost or refused database connection (a restart, a failover).
	errDatabaseAway = apperr.Unavailable("服务器暂时无法访问数据库,正在恢复,请稍后重试").WithRetryAfter(10 * time.Second)
	// errDiskFull and errReadOnly are storage refusing writes outside the uploads service.
	errDiskFull = apperr.Unavailable("服务器存储空间暂时不足,请稍后重试").WithRetryAfter(time.Minute)
	errReadOnly = apperr.Unavailable("服务器存储暂时无法写入,请稍后重试").WithRetryAfter(time.Minute)
)

// outage classifies an error no service turned into an *apperr.Error: a dependency that is away
// for now answers 503 with Retry-After, not 500; nil for anything else.
func outage(err error) *apperr.Error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return errTimeout
	case database.IsUnavailable(err):
		return errDatabaseAway
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return errDiskFull
	case errors.Is(err, syscall.EROFS):
		return errReadOnly
	}
	return nil
}

// fail renders err. Anything that is not an *apperr.Error is logged once with its cause and
// shown as a bare internal error, unless it is an outage (503 with Retry-After).
func fail(c *gin.Context, log *slog.Logger, err error) {
	e, ok := apperr.As(err)
	if !ok {
		switch {
		case errors.Is(err, context.Canceled):
			e = apperr.New(499, "canceled", "请求已取消")
		case outage(err) != nil:
			e = outage(err)
			log.WarnContext(c.Request.Context(), "request refused: dependency unavailable", "code", e.Code, "err", err, "route", c.FullPath())
		default:
			e = apperr.Internal()
		}
		if e.Status != http.StatusServiceUnavailable {
			log.ErrorContext(c.Request.Context(), "request failed", "err", err, "route", c.FullPath())
		}
	} else if e.Status == http.StatusServiceUnavailable {
		log.WarnContext(c.Request.Context(), "request refused", "code", e.Code, "err", err, "route", c.FullPath())
	} else if e.Status >= 500 {
		log.ErrorContext(c.Request.Context(), "request failed", "code", e.Code, "err", err, "route", c.FullPath())
	}
	details := e.Details
	if details == nil {
		details = []apperr.FieldError{}
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	if len(details) > apperr.MaxDetails {
		details = details[:apperr.MaxDetails]
	}
	c.AbortWithStatusJSON(e.Status, errorBody{Code: e.Code, Message: e.Message, Details: details, RequestID: requestID(c)})
}

// listBody is the shape of every list.
type listBody[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func list[T any](c *gin.Context, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	c.Render(http.StatusOK, keptJSON{listBody[T]{Items: items, NextCursor: next}})
}

// keptJSON renders a value as c.JSON does (the same bytes, and a newline), encoded into a buffer
// kept for the next answer, with its length. A page of 100 records is about 100 KB: c.JSON's
// json.Marshal allocates that buffer and a copy of it for every page, a sixth of what a busy
// county's page allocated, which the garbage collector then works through.
type keptJSON struct{ v any }

// bodies are keptJSON's buffers; one that grew past maxKeptBody (an export-sized list) is let go.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxKeptBody = 1 << 20

func (r keptJSON) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxKeptBody {
			bodies.Put(buf)
		}
	}()
	if err := json.NewEncoder(buf).Encode(r.v); err != nil {
		return err
	}
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, err := w.Write(buf.Bytes())
	return err
}

func (keptJSON) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
}
