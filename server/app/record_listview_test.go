package app_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
)

// TestListItemsAreTheRecordsOwnViews: every record in a list, of one kind or of all kinds, shows
// what the record read alone shows but its timeline: each kind's own fields, a mediation's
// follow-ups, a duplicate tip's original's status, the attachments.
func TestListItemsAreTheRecordsOwnViews(t *testing.T) {
	t.Parallel()
	w := newRecordWorld(t)
	e := w.e
	at := phoneTime(e, -time.Hour)
	ids := map[string][]int64{}
	for _, kind := range []string{"visit", "sentiment", "tip", "tip", "mediation"} {
		ids[kind] = append(ids[kind], w.author.Submit(kind, apitest.RecordBody(kind, at)))
	}
	original, dup := ids["tip"][0], ids["tip"][1]
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", original, "acknowledge"), nil)
	w.staff.Must(http.StatusOK, "POST", recordPath("tip", dup, "duplicate"), map[string]any{"of": original})
	w.author.Must(http.StatusCreated, "POST", recordPath("mediation", ids["mediation"][0], "followups"),
		map[string]any{"visited_at": phoneTime(e, 0), "content": "回访:双方关系缓和"})
	w.staff.Must(http.StatusOK, "POST", recordPath("sentiment", ids["sentiment"][0], "forward"), map[string]any{"department": "县水务局"})

	own := map[int64]map[string]any{}
	for kind, kindIDs := range ids {
		for _, id := range kindIDs {
			v := w.staff.Must(http.StatusOK, "GET", recordPath(kind, id), nil).Map(t)
			delete(v, "timeline")
			own[id] = v
		}
	}
	if s := own[dup]["status"]; s != "acknowledged" {
		t.Fatalf("the duplicate shows %v, not its original's status", s)
	}
	if f := own[ids["mediation"][0]]["mediation"].(map[string]any)["followups"].([]any); len(f) != 1 {
		t.Fatalf("the mediation's follow-ups: %v", f)
	}
	for _, path := range []string{"/api/v1/visits", "/api/v1/sentiments", "/api/v1/tips", "/api/v1/mediations", "/api/v1/records", "/api/v1/tips?status=acknowledged"} {
		var list struct {
			Items []map[string]any `json:"items"`
		}
		w.staff.Must(http.StatusOK, "GET", path, nil).JSON(t, &list)
		if len(list.Items) == 0 {
			t.Fatalf("%s: empty", path)
		}
		for _, item := range list.Items {
			id := int64(item["id"].(float64))
			if !reflect.DeepEqual(item, own[id]) {
				a, _ := json.Marshal(item)
				b, _ := json.Marshal(own[id])
				t.Errorf("%s: record %d listed as\n%s\nread alone as\n%s", path, id, a, b)
			}
		}
	}
}
