package httpapi

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
)

// errTransferTimeout ends a file body that stopped arriving (or arrived too slowly to finish in
// uploads.transfer_timeout): the place it held goes to someone else.
var errTransferTimeout = apperr.New(http.StatusRequestTimeout, "upload_timeout",
	"文件上传超时:长时间没有收到数据,请检查网络后重新上传").WithField("file", "上传超时")

// receiveBody prepares a request whose body is a file: the transfer deadline instead of the
// server's short timeouts, and a stall deadline renewed on every read, so that a client that
// stops sending gives its place back after the stall timeout, and one that sends a byte now and
// then after the transfer timeout. The caller passes the outcome of reading the body to the
// returned reader's finish.
func (h *handlers) receiveBody(c *gin.Context) *stallReader {
	h.extendDeadlines(c)
	r := &stallReader{ReadCloser: c.Request.Body, rc: http.NewResponseController(c.Writer), stall: h.stall}
	if h.transfer > 0 {
		r.end = time.Now().Add(h.transfer)
	}
	c.Request.Body = r
	return r
}

// stallReader sets the connection's read deadline before each read of the body: now plus the
// stall timeout, but never past the end of the transfer. It remembers a read that hit its
// deadline: the multipart reader above it does not always pass that error on as it is (a
// timeout inside part headers comes out as a malformed header).
type stallReader struct {
	io.ReadCloser
	rc       *http.ResponseController
	stall    time.Duration
	end      time.Time
	timedOut atomic.Bool
}

func (r *stallReader) Read(p []byte) (int, error) {
	if r.stall > 0 {
		deadline := time.Now().Add(r.stall)
		if !r.end.IsZero() && deadline.After(r.end) {
			deadline = r.end
		}
		_ = r.rc.SetReadDeadline(deadline)
	}
	n, err := r.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		r.timedOut.Store(true)
	}
	return n, err
}

// answerTime is what a cut-off request is given to send its short error answer: the transfer's
// write deadline may have passed along with its read deadline.
const answerTime = 10 * time.Second

// finish ends the reading of the body, with err what reading it returned: a read that hit its
// deadline becomes errTransferTimeout. A body read whole gets the transfer deadline back: the
// server keeps reading the connection in the background while the handler works, and a stall
// deadline passing then would cancel the request's context in the middle of a long import.
func (r *stallReader) finish(err error) error {
	if err != nil && r.timedOut.Load() {
		_ = r.rc.SetWriteDeadline(time.Now().Add(answerTime))
		return errTransferTimeout.Wrap(err)
	}
	if r.stall > 0 {
		_ = r.rc.SetReadDeadline(r.end)
	}
	return err
}

// DefaultImportMaxConcurrent is Deps.ImportMaxConcurrent when none is set.
const DefaultImportMaxConcurrent = 2

// importGate bounds the roster imports one instance handles at once: each holds its workbook in
// memory, unpacks it and checks every row against the database, which takes seconds of CPU.
// A full gate refuses at once: an import is a deliberate act of one officer, who can retry.
type importGate chan struct{}

func newImportGate(n int) importGate {
	if n <= 0 {
		n = DefaultImportMaxConcurrent
	}
	return make(importGate, n)
}

// importRetryAfter is how long a refused import is told to wait: about what one import takes.
const importRetryAfter = 10 * time.Second

var errImportBusy = apperr.Unavailable("正在处理的名册导入较多,请稍后重试").WithRetryAfter(importRetryAfter)

// admit takes a place, or refuses with errImportBusy; release gives it back.
func (g importGate) admit() (release func(), err error) {
	select {
	case g <- struct{}{}:
		return func() { <-g }, nil
	default:
		return nil, errImportBusy
	}
}
