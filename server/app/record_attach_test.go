package app_test

import (
	"bytes"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// uploadPNG uploads a small PNG as wx.uploadFile does and returns the upload id.
func uploadPNG(t *testing.T, c *apitest.Client) int64 {
	t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", "现场.png")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(img.Bytes())
	w.Close()
	r := c.DoRaw("POST", "/api/v1/uploads", w.FormDataContentType(), body.Bytes())
	if r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	return apitest.ID(t, r)
}

func TestRecordAttachments(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	photo := uploadPNG(t, w.author)
	body := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
	body["attachments"] = []int64{photo}
	var v recordView
	w.author.Must(http.StatusCreated, "POST", "/api/v1/tips", body).JSON(t, &v)
	id := v.ID
	if len(v.Attachments) != 1 || v.Attachments[0].ID != photo || v.Attachments[0].Kind != "image" || v.Attachments[0].URL == "" {
		t.Fatalf("attachments: %+v", v.Attachments)
	}
	// A retry with the attachment is the same record.
	w.author.Must(http.StatusOK, "POST", "/api/v1/tips", body)

	// Staff in scope see the attachment in the record and in lists.
	if got := getRecord(t, w.staff, "tip", id); len(got.Attachments) != 1 {
		t.Fatalf("staff view: %+v", got.Attachments)
	}
	var l recordList
	w.staff.Must(http.StatusOK, "GET", "/api/v1/tips?q="+body["title"].(string), nil).JSON(t, &l)
	if len(l.Items) != 1 || len(l.Items[0].Attachments) != 1 {
		t.Fatalf("list: %+v", l.Items)
	}

	// An upload serves one record only, and only its uploader's.
	again := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	again["attachments"] = []int64{photo}
	if r := w.author.Must(http.StatusBadRequest, "POST", "/api/v1/visits", again).Err(t); r.Details[0].Field != "attachments" {
		t.Fatalf("reused upload: %+v", r)
	}
	theirs := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	theirs["attachments"] = []int64{uploadPNG(t, w.author)}
	w.callers["instructor_other"].Must(http.StatusBadRequest, "POST", "/api/v1/visits", theirs)
	if n := countRows(t, e, "SELECT COUNT(*) FROM records WHERE client_id = ?", again["client_id"]); n != 0 {
		t.Fatalf("a refused submission left %d rows", n)
	}

	// The author adds a photo while editing.
	second := uploadPNG(t, w.author)
	v = recordView{}
	w.author.Must(http.StatusOK, "PATCH", recordPath("tip", id), map[string]any{"attachments": []int64{second}}).JSON(t, &v)
	if len(v.Attachments) != 2 {
		t.Fatalf("after adding a photo: %+v", v.Attachments)
	}
}
