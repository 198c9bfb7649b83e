package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// TestBodyHashOfSubmissionsStoredBeforeRoles: a submission with the default role and no tags has
// the fingerprint it had before records carried them (migration 38), so that a phone retrying a
// submission stored before the upgrade is answered with the record, not refused as a conflict;
// another role or a tag changes it.
func TestBodyHashOfSubmissionsStoredBeforeRoles(t *testing.T) {
	at := time.Date(2026, 5, 1, 1, 30, 0, 0, time.UTC)
	lat, lng := 38.04, 114.51
	d := &Visit{VisitKind: "policy_publicity", Households: 3, People: 8, Ethnicities: "01,03", Content: "宣讲"}
	rec := &Record{Title: "入户宣讲", Place: "西山村", OccurredAt: at, Latitude: &lat, Longitude: &lng, Role: DefaultRole("visit", d)}
	// bodyHash as it was written before migration 38
	b, _ := json.Marshal(struct {
		Kind, Title, Place string
		OccurredAt         time.Time
		Lat, Lng           *float64
		Attachments        []int64
		Fields             any
	}{"visit", rec.Title, rec.Place, at, &lat, &lng, []int64{7}, d})
	sum := sha256.Sum256(b)
	legacy := hex.EncodeToString(sum[:])
	if got := bodyHash(visitKind, rec, d, []int64{7}, nil); got != legacy {
		t.Fatalf("default role, no tags: %s, want the fingerprint of before, %s", got, legacy)
	}
	other := *rec
	other.Role = RolePoliticalGuide
	tagged := *rec
	tagged.Tags = "shiliu_brand"
	if bodyHash(visitKind, &other, d, []int64{7}, nil) == legacy || bodyHash(visitKind, &tagged, d, []int64{7}, nil) == legacy {
		t.Fatal("a chosen role or a tag leaves the fingerprint unchanged")
	}
}
