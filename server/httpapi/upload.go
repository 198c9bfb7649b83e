package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/upload"
)

// multipartOverhead is what the upload route's body may hold beyond the file: boundaries, part
// headers and the few form fields wx.uploadFile adds.
const multipartOverhead = 64 << 10

var (
	errNotMultipart = apperr.New(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"请以multipart/form-data格式上传文件(字段名file)").WithField("file", "请以multipart/form-data格式上传")
	errNoFile  = apperr.Field("file", "请选择要上传的文件(字段名file)")
	errBadForm = apperr.New(http.StatusBadRequest, "invalid_argument", "上传未完成或内容格式有误,请重新上传").
			WithField("file", "文件内容不完整")
)

// extendDeadlines gives a file transfer the configured time instead of the server's short
// timeouts meant for JSON requests: a 10 MB photo over a village mobile network takes minutes.
func (h *handlers) extendDeadlines(c *gin.Context) {
	if h.transfer <= 0 {
		return
	}
	rc := http.NewResponseController(c.Writer)
	deadline := time.Now().Add(h.transfer)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
}

// maxFieldBytes is the most read of a form field other than the file (client_id is 36).
const maxFieldBytes = 128

// createUpload receives the multipart field "file" (what wx.uploadFile sends) and the optional
// field "client_id" (its formData). A place is taken before the body is read: the file is held in
// memory, never spooled to a temporary file, and a full instance answers 503 with Retry-After (an
// account holding its share of the places, 429). A body that stalls is cut off with 408.
// 201 is a new upload; 200 is the upload an earlier request with the same client_id stored.
func (h *handlers) createUpload(c *gin.Context) {
	if c.ContentType() != "multipart/form-data" {
		fail(c, h.log, errNotMultipart)
		return
	}
	release, err := h.uploads.Admit(c.Request.Context(), principal(c))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	defer release()
	body := h.receiveBody(c)
	in, err := h.readUploadForm(c)
	if err = body.finish(err); err != nil {
		fail(c, h.log, err)
		return
	}
	v, created, err := h.uploads.Create(c.Request.Context(), principal(c), in)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, v)
}

// readUploadForm reads the whole form: wx.uploadFile may put client_id before or after the file,
// so the file is read (into memory, at most uploads.max_bytes) wherever it comes and the answer
// waits for the end of the body. The first "file" counts; other fields are skipped.
func (h *handlers) readUploadForm(c *gin.Context) (upload.Input, error) {
	var in upload.Input
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return in, errBadForm
	}
	haveFile := false
	for {
		part, err := mr.NextPart()
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			if !haveFile {
				return in, errNoFile
			}
			return in, nil
		case errors.As(err, &tooBig):
			return in, upload.TooLarge(h.uploads.MaxBytes())
		case err != nil:
			return in, errBadForm.Wrap(err)
		}
		switch {
		case part.FormName() == "file" && !haveFile:
			data, err := h.uploads.ReadFile(part)
			if errors.Is(err, upload.ErrIncomplete) {
				return in, errBadForm.Wrap(err)
			}
			if err != nil {
				return in, err
			}
			in.Name, in.Data, haveFile = part.FileName(), data, true
		case part.FormName() == "client_id" && in.ClientID == "":
			b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes))
			if errors.As(err, &tooBig) {
				return in, upload.TooLarge(h.uploads.MaxBytes())
			}
			if err != nil {
				return in, errBadForm.Wrap(err)
			}
			in.ClientID = string(b)
		}
	}
}

func (h *handlers) getUpload(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	v, err := h.uploads.Get(c.Request.Context(), principal(c), id)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// serveFile answers a signed link with the bytes. Range requests are answered (iOS audio players
// rely on them); an unsatisfiable range still gets the API's error format.
func (h *handlers) serveFile(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		fail(c, h.log, err)
		return
	}
	f, err := h.uploads.Open(c.Request.Context(), id, c.Query("exp"), c.Query("sig"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	defer f.Body.Close()
	h.extendDeadlines(c)
	hdr := c.Writer.Header()
	hdr.Set("Content-Type", f.MIME)
	hdr.Set("Cache-Control", fmt.Sprintf("private, max-age=%d", int(f.MaxAge.Seconds())))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if cd := mime.FormatMediaType("inline", map[string]string{"filename": f.Name}); f.Name != "" && cd != "" {
		hdr.Set("Content-Disposition", cd)
	}
	if rs, ok := f.Body.(io.ReadSeeker); ok {
		w := &rangeErrorWriter{ResponseWriter: c.Writer, requestID: requestID(c)}
		http.ServeContent(w, c.Request, "", time.Time{}, rs)
		return
	}
	hdr.Set("Content-Length", fmt.Sprint(f.Size))
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, f.Body); err != nil {
		h.log.WarnContext(c.Request.Context(), "file download interrupted", "err", err)
	}
}

// rangeErrorWriter turns http.ServeContent's plain-text 416 into the API's error format.
type rangeErrorWriter struct {
	gin.ResponseWriter
	requestID string
	swallow   bool
}

func (w *rangeErrorWriter) WriteHeader(code int) {
	if code != http.StatusRequestedRangeNotSatisfiable {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.swallow = true
	h := w.Header()
	h.Del("Content-Length")
	h.Del("Content-Disposition")
	h.Del("Cache-Control")
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.ResponseWriter.WriteHeader(code)
	_ = json.NewEncoder(w.ResponseWriter).Encode(errorBody{Code: "range_not_satisfiable",
		Message: "请求的文件范围无效", Details: []apperr.FieldError{}, RequestID: w.requestID})
}

func (w *rangeErrorWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *rangeErrorWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
