package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/upload"
)

// Resumable uploads speak tus 1.0.0 (https://tus.io/protocols/resumable-upload): core, creation,
// termination and expiration. The phone creates an upload (POST with Upload-Length and
// Upload-Metadata "filename …,client_id …", values base64), sends chunks (PATCH with
// Upload-Offset and an application/offset+octet-stream body), and after a dropped connection or
// an app restart asks where it stands (HEAD) and goes on from there. wx.request has no PATCH:
// POST with X-HTTP-Method-Override: PATCH (or DELETE) is the same request. Errors are the API's
// JSON errors. The state lives in the database and the bytes in the uploads storage (see
// upload/resumable.go), so any instance answers any request.

const (
	tusVersion    = "1.0.0"
	tusExtensions = "creation,termination,expiration"
	// resumablePath is where resumable uploads live; an upload's URL is this plus its id.
	resumablePath = "/api/v1/uploads/resumable"
)

var (
	errTusVersion = apperr.New(http.StatusPreconditionFailed, "tus_version_unsupported",
		"上传协议版本不受支持,请更新小程序后重试(需要Tus-Resumable: 1.0.0)")
	errNotOffsetStream = apperr.New(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"续传数据的Content-Type应为application/offset+octet-stream")
	errUploadOffset = apperr.Field("Upload-Offset", "续传位置(Upload-Offset)应为非负整数")
	errDeferLength  = apperr.Field("Upload-Length", "请在创建上传时给出文件大小(Upload-Length),不支持稍后给出")
	errBadMetadata  = apperr.Field("Upload-Metadata", "上传信息(Upload-Metadata)格式有误")
	// errChunkCut is a chunk whose body stopped before its end: what arrived is kept.
	errChunkCut = apperr.New(http.StatusBadRequest, "upload_incomplete",
		"本次上传的数据没有完整送达,已收到的部分已保存,请查询进度后继续上传").WithField("file", "数据未完整送达")
)

// tusHeaders answers every request of the resumable routes with the protocol version, and
// refuses a request for another version (OPTIONS, the discovery, needs none).
func (h *handlers) tusHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Tus-Resumable", tusVersion)
		if c.Request.Method != http.MethodOptions && c.GetHeader("Tus-Resumable") != tusVersion {
			c.Header("Tus-Version", tusVersion)
			fail(c, h.log, errTusVersion)
			return
		}
		c.Next()
	}
}

// resumableOptions is tus discovery: versions, extensions and the size limit.
func (h *handlers) resumableOptions(c *gin.Context) {
	c.Header("Tus-Resumable", tusVersion)
	c.Header("Tus-Version", tusVersion)
	c.Header("Tus-Extension", tusExtensions)
	c.Header("Tus-Max-Size", strconv.FormatInt(h.uploads.MaxBytes(), 10))
	c.Status(http.StatusNoContent)
}

// partialState puts where a partial upload stands into the answer's headers.
func partialState(c *gin.Context, pt upload.Partial) {
	c.Header("Upload-Offset", strconv.FormatInt(pt.Offset, 10))
	c.Header("Upload-Expires", pt.ExpiresAt.UTC().Format(http.TimeFormat))
	c.Header("Cache-Control", "no-store")
}

// resumableView is the body of a creation: what the headers say, for clients that prefer JSON.
type resumableView struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Offset    int64     `json:"offset"`
	Length    int64     `json:"length"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createResumable starts a resumable upload (tus creation). A retried creation with the same
// client_id gets the upload already started, with the offset it stands at.
func (h *handlers) createResumable(c *gin.Context) {
	if c.GetHeader("Upload-Defer-Length") != "" {
		fail(c, h.log, errDeferLength)
		return
	}
	length, err := strconv.ParseInt(c.GetHeader("Upload-Length"), 10, 64)
	if err != nil || length < 0 {
		fail(c, h.log, apperr.Field("Upload-Length", "文件大小(Upload-Length)应为正整数"))
		return
	}
	meta, err := tusMetadata(c.GetHeader("Upload-Metadata"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	name := meta["filename"]
	if name == "" {
		name = meta["name"]
	}
	pt, err := h.uploads.CreatePartial(c.Request.Context(), principal(c), upload.PartialInput{
		Length: length, Name: name, ClientID: meta["client_id"]})
	if err != nil {
		fail(c, h.log, err)
		return
	}
	url := resumablePath + "/" + pt.ID
	c.Header("Location", url)
	partialState(c, pt)
	c.JSON(http.StatusCreated, resumableView{ID: pt.ID, URL: url, Offset: pt.Offset, Length: pt.Length, ExpiresAt: pt.ExpiresAt})
}

// tusMetadata reads Upload-Metadata: comma-separated "key base64(value)" pairs (a key alone is
// an empty value).
func tusMetadata(h string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(h) == "" {
		return out, nil
	}
	if len(h) > 4096 {
		return nil, errBadMetadata
	}
	for _, pair := range strings.Split(h, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if k == "" {
			return nil, errBadMetadata
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return nil, errBadMetadata.Wrap(err)
		}
		out[k] = string(b)
	}
	return out, nil
}

// headResumable answers where a partial upload stands.
func (h *handlers) headResumable(c *gin.Context) {
	pt, err := h.uploads.Partial(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		fail(c, h.log, err)
		return
	}
	partialState(c, pt)
	c.Header("Upload-Length", strconv.FormatInt(pt.Length, 10))
	c.Status(http.StatusOK)
}

// overrideResumable is POST on an upload's URL: with X-HTTP-Method-Override PATCH or DELETE it
// is that request (wx.request cannot send PATCH).
func (h *handlers) overrideResumable(c *gin.Context) {
	switch strings.ToUpper(c.GetHeader("X-HTTP-Method-Override")) {
	case http.MethodPatch:
		h.patchResumable(c)
	case http.MethodDelete:
		h.deleteResumable(c)
	default:
		fail(c, h.log, apperr.New(http.StatusMethodNotAllowed, "method_not_allowed",
			"续传请使用PATCH(或POST加X-HTTP-Method-Override: PATCH)"))
	}
}

// patchResumable receives one chunk at Upload-Offset. A place is taken as for a whole upload
// (the chunk is held in memory); a body cut short keeps what arrived. 204 while bytes are missing;
// the chunk that brings the last byte (or an empty one at the end, a retried completion) answers
// 200 with the upload, exactly as POST /uploads would.
func (h *handlers) patchResumable(c *gin.Context) {
	if c.ContentType() != "application/offset+octet-stream" {
		fail(c, h.log, errNotOffsetStream)
		return
	}
	offset, err := strconv.ParseInt(c.GetHeader("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 {
		fail(c, h.log, errUploadOffset)
		return
	}
	p := principal(c)
	release, err := h.uploads.Admit(c.Request.Context(), p)
	if err != nil {
		fail(c, h.log, err)
		return
	}
	defer release()
	body := h.receiveBody(c)
	data, rerr := io.ReadAll(io.LimitReader(c.Request.Body, h.uploads.MaxBytes()+1))
	var tooBig *http.MaxBytesError
	if errors.As(rerr, &tooBig) || int64(len(data)) > h.uploads.MaxBytes() {
		fail(c, h.log, upload.TooLarge(h.uploads.MaxBytes()))
		return
	}
	rerr = body.finish(rerr)
	ctx := c.Request.Context()
	if rerr != nil {
		if len(data) == 0 {
			fail(c, h.log, errChunkCut.Wrap(rerr))
			return
		}
		// The phone is probably gone: keep what it sent, whatever happens to this request.
		ctx = context.WithoutCancel(ctx)
	}
	pt, v, err := h.uploads.Append(ctx, p, c.Param("id"), offset, data)
	if err != nil {
		if pt.ID != "" {
			partialState(c, pt)
		}
		fail(c, h.log, err)
		return
	}
	partialState(c, pt)
	switch {
	case rerr != nil:
		fail(c, h.log, errChunkCut.Wrap(rerr))
	case v != nil:
		c.JSON(http.StatusOK, v)
	default:
		c.Status(http.StatusNoContent)
	}
}

// deleteResumable ends a partial upload (tus termination).
func (h *handlers) deleteResumable(c *gin.Context) {
	if err := h.uploads.DeletePartial(c.Request.Context(), principal(c), c.Param("id")); err != nil {
		fail(c, h.log, err)
		return
	}
	c.Status(http.StatusNoContent)
}
