package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

func TestSubmitEachKind(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	for _, kind := range []string{"visit", "sentiment", "tip", "mediation"} {
		t.Run(kind, func(t *testing.T) {
			body := apitest.RecordBody(kind, phoneTime(e, -2*time.Hour))
			// Author, unit and region come from the roster, never from the client.
			body["author_id"], body["unit_id"], body["region_code"], body["status"] = 999999, 999999, apitest.CountyB1, "resolved"
			var v recordView
			w.author.Must(http.StatusCreated, "POST", "/api/v1/"+apitest.RecordPaths[kind], body).JSON(t, &v)
			if v.Kind != kind || v.AuthorID != w.ins || v.UnitID != w.unit || v.RegionCode != w.area.Township() ||
				v.AuthorName == "" || v.UnitName == "" || v.RegionName == "" || v.Version != 1 || !v.Editable {
				t.Fatalf("core: %+v", v)
			}
			if len(v.Timeline) != 1 || v.Timeline[0].Action != "submit" || v.Timeline[0].Actor.Role != "instructor" || v.Timeline[0].Actor.Name != v.AuthorName {
				t.Fatalf("timeline: %+v", v.Timeline)
			}
			if v.Attachments == nil || len(v.Attachments) != 0 {
				t.Fatalf("attachments: %+v", v.Attachments)
			}
			switch kind {
			case "visit":
				if v.Status != "submitted" || v.Visit == nil || len(v.Visit.Ethnicities) != 2 || v.Visit.EthnicityNames[0] != "汉族" {
					t.Fatalf("visit: %+v %+v", v, v.Visit)
				}
			case "sentiment":
				if v.Status != "open" || v.Sentiment == nil || v.Sentiment.Content == "" {
					t.Fatalf("sentiment: %+v", v)
				}
			case "tip":
				if v.Status != "submitted" || v.Tip == nil || v.Tip.Kind != "sign" || v.Tip.AckDeadline == nil {
					t.Fatalf("tip: %+v", v)
				}
				// general: 24 hours to acknowledge.
				if d := v.Tip.AckDeadline.Sub(e.Clock.Now()); (d - 24*time.Hour).Abs() > time.Second {
					t.Fatalf("general tip deadline in %v", d)
				}
			case "mediation":
				if v.Status != "submitted" || v.Mediation == nil || len(v.Mediation.Parties) != 2 || v.Mediation.Parties[0].EthnicityName != "回族" {
					t.Fatalf("mediation: %+v", v)
				}
			}
			// The submission wrote a version and an outbox event in the same transaction.
			if n := countRows(t, e, "SELECT COUNT(*) FROM record_versions WHERE record_id = ?", v.ID); n != 1 {
				t.Fatalf("versions: %d", n)
			}
			if n := countRows(t, e, "SELECT COUNT(*) FROM events WHERE subject_id = ? AND kind = ? AND subject_type = ? AND region_code = ?",
				v.ID, kind+".submitted", kind, w.area.Township()); n != 1 {
				t.Fatalf("events: %d", n)
			}
			got := getRecord(t, w.staff, kind, v.ID)
			if got.ID != v.ID || got.Title != body["title"] {
				t.Fatalf("staff read: %+v", got)
			}
		})
	}
}

func TestSubmissionIsIdempotent(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	body := apitest.RecordBody("tip", phoneTime(e, -time.Hour))
	var first, again recordView
	w.author.Must(http.StatusCreated, "POST", "/api/v1/tips", body).JSON(t, &first)

	// The same body again (as a weak network retries it), even with keys reordered, spacing changed
	// and occurred_at in another zone: the stored record, 200.
	when, _ := time.Parse(time.RFC3339, body["occurred_at"].(string))
	retry := map[string]any{}
	for k, v := range body {
		retry[k] = v
	}
	retry["occurred_at"] = when.UTC().Format(time.RFC3339)
	retry["client_id"] = strings.ToUpper(body["client_id"].(string))
	w.author.Must(http.StatusOK, "POST", "/api/v1/tips", retry).JSON(t, &again)
	if again.ID != first.ID || again.Version != 1 {
		t.Fatalf("retry gave %+v, want record %d", again, first.ID)
	}

	// The same id with a different body is refused clearly.
	changed := map[string]any{}
	for k, v := range body {
		changed[k] = v
	}
	changed["title"] = "另一件事"
	conflict := w.author.Must(http.StatusConflict, "POST", "/api/v1/tips", changed).Err(t)
	if conflict.Code != "client_id_conflict" || !strings.Contains(conflict.Message, "client_id") || conflict.Details[0].Field != "client_id" {
		t.Fatalf("conflict: %+v", conflict)
	}
	// ... also when the other body is of another kind.
	visit := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	visit["client_id"] = body["client_id"]
	w.author.Must(http.StatusConflict, "POST", "/api/v1/visits", visit)

	// Another instructor may use the same client id: ids are per author.
	other, _ := e.InstructorClient(t, w.staff, w.staff.Unit("school", w.area.County))
	other.Must(http.StatusCreated, "POST", "/api/v1/tips", body)

	// A retry after an edit still answers with the record as it is now.
	w.author.Must(http.StatusOK, "PATCH", recordPath("tip", first.ID), map[string]any{"title": "改过的标题"})
	w.author.Must(http.StatusOK, "POST", "/api/v1/tips", body).JSON(t, &again)
	if again.ID != first.ID || again.Title != "改过的标题" {
		t.Fatalf("retry after edit: %+v", again)
	}
}

func TestConcurrentRetriesStoreOneRecord(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	second := apitest.Another(t, e.Clock)
	body := apitest.RecordBody("visit", phoneTime(e, -time.Hour))
	clients := []*apitest.Client{w.author, second.As(t, w.author.Token)}
	statuses := make([]int, 20)
	ids := make([]int64, 20)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := clients[i%2].Do("POST", "/api/v1/visits", body)
			statuses[i] = r.Status
			if r.Status < 300 {
				var v recordView
				r.JSON(t, &v)
				ids[i] = v.ID
			}
		}(i)
	}
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("attempt %d: status %d", i, s)
		}
		if ids[i] != ids[0] {
			t.Fatalf("attempt %d got record %d, attempt 0 got %d", i, ids[i], ids[0])
		}
	}
	n := countRows(t, e, "SELECT COUNT(*) FROM records WHERE author_id = ? AND client_id = ?", w.ins, body["client_id"])
	details := countRows(t, e, "SELECT COUNT(*) FROM record_visits WHERE record_id = ?", ids[0])
	events := countRows(t, e, "SELECT COUNT(*) FROM events WHERE subject_id = ? AND kind = 'visit.submitted'", ids[0])
	if created != 1 || n != 1 || details != 1 || events != 1 {
		t.Fatalf("created %d, rows %d, details %d, events %d; want 1 each (%v)", created, n, details, events, statuses)
	}
}

func TestSubmissionRules(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e

	// Only instructors submit.
	for _, who := range []string{"county_in", "city_in", "province"} {
		r := w.callers[who].Must(http.StatusForbidden, "POST", "/api/v1/tips", apitest.RecordBody("tip", phoneTime(e, 0))).Err(t)
		if r.Code != "forbidden" {
			t.Fatalf("%s: %+v", who, r)
		}
	}
	w.callers["anonymous"].Must(http.StatusUnauthorized, "POST", "/api/v1/tips", apitest.RecordBody("tip", phoneTime(e, 0)))

	// Offline drafts days old are fine; the future only within clock skew.
	w.author.Submit("visit", apitest.RecordBody("visit", phoneTime(e, -4*24*time.Hour)))
	w.author.Submit("visit", apitest.RecordBody("visit", phoneTime(e, 4*time.Minute)))
	for _, d := range []time.Duration{6 * time.Minute, 2 * time.Hour, -400 * 24 * time.Hour} {
		r := w.author.Must(http.StatusBadRequest, "POST", "/api/v1/visits", apitest.RecordBody("visit", phoneTime(e, d))).Err(t)
		if r.Details[0].Field != "occurred_at" {
			t.Fatalf("occurred_at %v: %+v", d, r)
		}
	}

	// Critical tips get the shortest deadline.
	body := apitest.RecordBody("tip", phoneTime(e, 0))
	body["tip"].(map[string]any)["level"] = "critical"
	var v recordView
	w.author.Must(http.StatusCreated, "POST", "/api/v1/tips", body).JSON(t, &v)
	if d := v.Tip.AckDeadline.Sub(e.Clock.Now()); (d - 15*time.Minute).Abs() > time.Second {
		t.Fatalf("critical deadline in %v", d)
	}

	// An instructor who is no longer active cannot submit: the suspension ended the session.
	w.staff.Must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/instructors/%d", w.ins), map[string]any{"status": "suspended"})
	w.author.Must(http.StatusUnauthorized, "POST", "/api/v1/visits", apitest.RecordBody("visit", phoneTime(e, 0)))
}

func TestDictionariesListRecordCodes(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	var d map[string][]struct{ Code, Label string }
	e.Anon(t).Must(http.StatusOK, "GET", "/api/v1/dictionaries", nil).JSON(t, &d)
	for _, name := range []string{"record_kind", "visit_kind", "sentiment_category", "urgency", "tip_level", "tip_kind",
		"mediation_outcome", "dispute_kind", "party_role", "tip_status", "sentiment_status", "escalation_level"} {
		if len(d[name]) == 0 {
			t.Errorf("dictionary %s missing", name)
		}
	}
	if len(d["tip_level"]) != 4 || d["tip_level"][3].Code != "critical" || d["tip_level"][3].Label != "特别重大" {
		t.Fatalf("tip_level: %+v", d["tip_level"])
	}
}
