// Package apperr is the one error type of the API: a stable machine code, the HTTP status it maps
// to, a Chinese message fit for a phone screen and the offending fields. Anything that is not an
// *Error reaching the renderer is an internal error: logged, never shown.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// FieldError names one offending input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// MaxDetails is the most field errors one answer lists: a phone shows a few, and a request built
// to fail on every one of 10,000 array items must not get a megabyte answer (or cost the server
// the time to build one).
const MaxDetails = 50

// Error is a failure the client is meant to see.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []FieldError
	// RetryAfter, when set, is sent as the Retry-After header: how long a refused caller waits.
	RetryAfter time.Duration
	cause      error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.cause }

// WithField returns a copy of e naming one offending field.
func (e *Error) WithField(field, msg string) *Error {
	c := *e
	c.Details = append(append([]FieldError(nil), e.Details...), FieldError{Field: field, Message: msg})
	return &c
}

// WithRetryAfter returns a copy of e telling the client to wait d before trying again.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// Wrap keeps an underlying cause for the logs without showing it to the client.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// New builds an error with a status, a stable code and a Chinese message.
func New(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// The generic kinds. Specific codes (unit_full, invite_used…) are built with New where they arise.
func Invalid(msg string) *Error { return New(http.StatusBadRequest, "invalid_argument", msg) }
func Unauthenticated(msg string) *Error {
	return New(http.StatusUnauthorized, "unauthenticated", msg)
}
func Forbidden(msg string) *Error   { return New(http.StatusForbidden, "forbidden", msg) }
func NotFound(msg string) *Error    { return New(http.StatusNotFound, "not_found", msg) }
func Conflict(msg string) *Error    { return New(http.StatusConflict, "conflict", msg) }
func RateLimited(msg string) *Error { return New(http.StatusTooManyRequests, "rate_limited", msg) }
func Unavailable(msg string) *Error { return New(http.StatusServiceUnavailable, "unavailable", msg) }
func Internal() *Error {
	return New(http.StatusInternalServerError, "internal", "服务器内部错误,请稍后重试")
}

// Field is a validation failure of one field.
func Field(field, msg string) *Error {
	return Invalid("提交的内容有误:"+msg).WithField(field, msg)
}

// As extracts an *Error from err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Is reports whether err carries the given machine code.
func Is(err error, code string) bool {
	e, ok := As(err)
	return ok && e.Code == code
}
