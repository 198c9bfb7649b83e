package clock

import (
	"encoding/json"
	"testing"
	"time"
)

// TestStampIsTimesJSON: a Stamp is written as time.Time's JSON writes the same time in
// Shanghai's zone, with and without a fraction of a second, and reads back to the same instant.
func TestStampIsTimesJSON(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 12, 6, 1, 2, 3, 456e6, time.UTC),
		time.Date(2026, 12, 6, 23, 59, 59, 0, time.UTC),
	} {
		want, err := json.Marshal(at.In(Shanghai))
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(struct{ At *Stamp }{ShownPtr(&at)})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != `{"At":`+string(want)+`}` {
			t.Errorf("%v: %s, want the value %s", at, got, want)
		}
		var back struct{ At Stamp }
		if err := json.Unmarshal(got, &back); err != nil || !back.At.Time().Equal(at) {
			t.Errorf("read back %v (%v), want %v", back.At.Time(), err, at)
		}
	}
	if got, _ := json.Marshal(struct {
		At *Stamp `json:",omitempty"`
	}{ShownPtr(nil)}); string(got) != `{}` {
		t.Errorf("no time: %s", got)
	}
}
