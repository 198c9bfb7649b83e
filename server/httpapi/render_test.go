package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestListAnswersAsCJSONDid: a list's answer, encoded into a kept buffer, is the bytes c.JSON
// wrote (and a newline), with its type and its length; the buffer kept after a long answer does
// not leak into a short one.
func TestListAnswersAsCJSONDid(t *testing.T) {
	gin.SetMode(gin.TestMode)
	type item struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	}
	long := make([]item, 500)
	for i := range long {
		long[i] = item{ID: int64(i), Title: "<走访> 石榴籽 & \u2028"}
	}
	for _, items := range [][]item{long, {{ID: 1, Title: "短"}}, nil} {
		want := httptest.NewRecorder()
		wc, _ := gin.CreateTestContext(want)
		body := items
		if body == nil {
			body = []item{}
		}
		wc.JSON(http.StatusOK, listBody[item]{Items: body, NextCursor: "abc"})

		got := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(got)
		list(c, items, "abc")

		if got.Code != http.StatusOK || !bytes.Equal(got.Body.Bytes(), append(want.Body.Bytes(), '\n')) {
			t.Errorf("%d items: %d %q, want the bytes of c.JSON %q", len(items), got.Code, cut(got.Body.String()), cut(want.Body.String()))
		}
		if ct := got.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if cl := got.Header().Get("Content-Length"); cl != strconv.Itoa(got.Body.Len()) {
			t.Errorf("Content-Length %q for %d bytes", cl, got.Body.Len())
		}
	}
}

func cut(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
