package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// textFirstView is a record's attachments, arrived and pending.
type textFirstView struct {
	ID          int64 `json:"id"`
	Attachments []struct {
		ID int64 `json:"id"`
	} `json:"attachments"`
	Pending []struct {
		ClientID  string `json:"client_id"`
		State     string `json:"state"`
		StateName string `json:"state_name"`
	} `json:"pending_attachments"`
}

func readTextFirst(t *testing.T, c *apitest.Client, kind string, id int64) textFirstView {
	t.Helper()
	var v textFirstView
	c.Must(http.StatusOK, "GET", recordPath(kind, id), nil).JSON(t, &v)
	return v
}

// TestRecordTextFirst: a tip is stored with its photos declared by client id before they are
// uploaded; staff and the author see them on the way, each photo is attached when it arrives
// (uploaded before or after the record, retried or not), and a photo that never arrives is
// shown as not delivered.
func TestRecordTextFirst(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	before, after, never := apitest.ClientID(), apitest.ClientID(), apitest.ClientID()

	// Upload first, then the record.
	var early uploadView
	r := uploadWithID(t, w.author, before, true, pngImage(t))
	if r.Status != http.StatusCreated {
		t.Fatalf("early upload: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &early)

	body := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
	body["attachment_client_ids"] = []string{before, strings.ToUpper(after), never}
	var v textFirstView
	w.author.Must(http.StatusCreated, "POST", "/api/v1/tips", body).JSON(t, &v)
	if len(v.Attachments) != 1 || v.Attachments[0].ID != early.ID || len(v.Pending) != 2 ||
		v.Pending[0].ClientID != after || v.Pending[0].State != "pending" || v.Pending[0].StateName != "照片上传中" {
		t.Fatalf("submitted: %+v", v)
	}
	id := v.ID
	// The tip's alert did not wait for the photos.
	if n := countRows(t, e, "SELECT COUNT(*) FROM events WHERE subject_id = ? AND kind = 'tip.submitted'", id); n != 1 {
		t.Fatalf("%d tip.submitted events", n)
	}
	if s := readTextFirst(t, w.staff, "tip", id); len(s.Pending) != 2 || len(s.Attachments) != 1 {
		t.Fatalf("staff view: %+v", s)
	}
	// A retry of the record is the same record.
	w.author.Must(http.StatusOK, "POST", "/api/v1/tips", body)

	// The record first, then the photo; then the photo again (its answer was lost).
	var late uploadView
	r = uploadWithID(t, w.author, after, false, pngImage(t))
	if r.Status != http.StatusCreated {
		t.Fatalf("late upload: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &late)
	if r := uploadWithID(t, w.author, after, true, pngImage(t)); r.Status != http.StatusOK || apitest.ID(t, r) != late.ID {
		t.Fatalf("duplicate upload: %d %s", r.Status, r.Body)
	}
	s := readTextFirst(t, w.staff, "tip", id)
	if len(s.Attachments) != 2 || len(s.Pending) != 1 || s.Pending[0].ClientID != never {
		t.Fatalf("after the late photo: %+v", s)
	}
	if n := countRows(t, e, "SELECT COUNT(*) FROM uploads WHERE client_id = ?", after); n != 1 {
		t.Fatalf("%d uploads of the late photo", n)
	}

	// Another instructor cannot claim the author's upload, nor their own by the author's id.
	other := w.callers["instructor_other"]
	theirs := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	theirs["attachment_client_ids"] = []string{after}
	var tv textFirstView
	other.Must(http.StatusCreated, "POST", "/api/v1/visits", theirs).JSON(t, &tv)
	if len(tv.Attachments) != 0 || len(tv.Pending) != 1 {
		t.Fatalf("other instructor's record took the author's photo: %+v", tv)
	}
	// The author cannot declare a photo already attached to another record.
	again := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	again["attachment_client_ids"] = []string{after}
	if r := w.author.Must(http.StatusBadRequest, "POST", "/api/v1/visits", again).Err(t); r.Details[0].Field != "attachment_client_ids" {
		t.Fatalf("reused photo: %+v", r)
	}
	// Nor one another of their records is waiting for.
	again["client_id"], again["attachment_client_ids"] = apitest.ClientID(), []string{never}
	w.author.Must(http.StatusBadRequest, "POST", "/api/v1/visits", again)
	// Shape: UUIDs, no repeats, with attachments at most 9.
	nine := make([]string, 9)
	for i := range nine {
		nine[i] = apitest.ClientID()
	}
	for name, bad := range map[string]map[string]any{
		"not a uuid": {"attachment_client_ids": []string{"photo-1"}},
		"repeated":   {"attachment_client_ids": []string{before, before}},
		"too many":   {"attachment_client_ids": nine, "attachments": []int64{early.ID}},
	} {
		b := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
		for k, v := range bad {
			b[k] = v
		}
		r := w.author.Do("POST", "/api/v1/visits", b)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "attachment_client_ids") {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}

	// The photo that never comes: after the orphan window it is shown as not delivered; the
	// record stays as it is.
	if err := e.DB().Exec("UPDATE pending_attachments SET created_at = ? WHERE client_id = ?",
		e.Clock.Now().Add(-e.Config.Uploads.OrphanAfter-time.Minute), never).Error; err != nil {
		t.Fatal(err)
	}
	s = readTextFirst(t, w.staff, "tip", id)
	if len(s.Pending) != 1 || s.Pending[0].State != "missing" || s.Pending[0].StateName != "未送达" || len(s.Attachments) != 2 {
		t.Fatalf("missing photo: %+v", s)
	}
	var l struct {
		Items []textFirstView `json:"items"`
	}
	w.staff.Must(http.StatusOK, "GET", "/api/v1/tips?q="+body["title"].(string), nil).JSON(t, &l)
	if len(l.Items) != 1 || len(l.Items[0].Pending) != 1 || l.Items[0].Pending[0].State != "missing" || len(l.Items[0].Attachments) != 2 {
		t.Fatalf("list: %+v", l.Items)
	}
}
