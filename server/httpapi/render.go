// Package httpapi is the thin HTTP transport: it binds requests into DTOs, calls the domain
// services with the caller's principal and renders results and errors in the one API format.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
)

// errorBody is the one error format of the API.
type errorBody struct {
	Code      string              `json:"code"`
	Message   string              `json:"message"`
	Details   []apperr.FieldError `json:"details"`
	RequestID string              `json:"request_id"`
}

// fail renders err. Anything that is not an *apperr.Error is logged once with its cause and
// shown as a bare internal error.
func fail(c *gin.Context, log *slog.Logger, err error) {
	e, ok := apperr.As(err)
	if !ok {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			e = apperr.Unavailable("处理超时,请稍后重试")
		case errors.Is(err, context.Canceled):
			e = apperr.New(499, "canceled", "请求已取消")
		default:
			e = apperr.Internal()
		}
		log.ErrorContext(c.Request.Context(), "request failed", "err", err, "route", c.FullPath())
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
	c.JSON(http.StatusOK, listBody[T]{Items: items, NextCursor: next})
}
