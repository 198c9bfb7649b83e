package wechat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"syscall"

	"github.com/silenceper/wechat/v2/util"
)

// APIError is an errcode answered by WeChat or WeCom (or the same code
// produced by a local check that spares a doomed call, e.g. 40029 for a
// malformed login code).
type APIError struct {
	Code int
	Msg  string
	Op   string // our operation: code2session, phone, subscribe, robot, stable_token
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat %s: errcode=%d errmsg=%s", e.Op, e.Code, e.Msg)
}

// Operation names used in APIError.Op.
const (
	OpCode2Session = "code2session"
	OpPhone        = "phone"
	OpSubscribe    = "subscribe"
	OpRobot        = "robot"
	OpToken        = "stable_token"
)

// IsTransient reports errors worth retrying later: timeouts and connection
// failures, HTTP 5xx/429, and errcodes -1 (busy), 45009 and 45011 (rate limits).
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if ae, ok := errors.AsType[*APIError](err); ok {
		switch ae.Code {
		case -1, 45009, 45011:
			return true
		}
		return false
	}
	if se, ok := errors.AsType[*HTTPStatusError](err); ok {
		return se.StatusCode >= 500 || se.StatusCode == http.StatusTooManyRequests
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return true
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// IsPermanent reports errcodes that retrying cannot fix: invalid webhook key
// (93000), user not subscribed (43101), invalid openid (40003), invalid or
// used code (40029, 40163), blocked user (40226), invalid argument (47003).
func IsPermanent(err error) bool {
	ae, ok := errors.AsType[*APIError](err)
	if !ok {
		return false
	}
	switch ae.Code {
	case 93000, 43101, 40003, 40029, 40163, 40226, 47003:
		return true
	}
	return false
}

// The SDK reports token-fetch errcodes only as fmt strings.
var sdkTokenErr = regexp.MustCompile(`access_token error : errcode=(-?\d+) , errormsg=(.*)$`)

// mapErr turns an SDK error into *APIError or a wrapped transport error with
// the URL's query (secrets) removed.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*APIError](err); ok {
		return err
	}
	if ce, ok := errors.AsType[*util.CommonError](err); ok {
		return &APIError{Code: int(ce.ErrCode), Msg: ce.ErrMsg, Op: op}
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		c := *ue
		c.URL = redactURL(ue.URL)
		if ce, ok := errors.AsType[*calledError](ue.Err); ok {
			c.URL, c.Err = ce.url, ce.err
		}
		return fmt.Errorf("wechat %s: %w", op, &c)
	}
	if m := sdkTokenErr.FindStringSubmatch(err.Error()); m != nil {
		code, _ := strconv.Atoi(m[1])
		return &APIError{Code: code, Msg: m[2], Op: OpToken}
	}
	return fmt.Errorf("wechat %s: %w", op, err)
}
