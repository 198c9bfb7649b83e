package notify

import (
	"testing"

	"github.com/shiliu/shiliu/server/outbox"
)

// Every kind a producer can write is read here: by a Kind of kinds whose functions take the
// kind's payload type, or by the decision in silent that it tells nobody. A kind declared in
// server/outbox and forgotten here fails; so does a reader left behind for a kind that is gone.
func TestEveryEventKindHasAReader(t *testing.T) {
	quiet := map[string]bool{}
	for _, k := range silent {
		quiet[k.String()] = true
	}
	declared := map[string]bool{}
	for _, k := range outbox.Kinds() {
		declared[k.String()] = true
		r, reads := kinds[k.String()]
		switch {
		case reads && quiet[k.String()]:
			t.Errorf("%s is both read and silent", k)
		case !reads && !quiet[k.String()]:
			t.Errorf("%s has no reader: add it to kinds (or to silent if it tells nobody)", k)
		case reads:
			p, err := outbox.Decode(Event{Kind: k.String(), Payload: "{}"})
			if err != nil {
				t.Errorf("%s: %v", k, err)
			} else if !r.accepts(p) {
				t.Errorf("%s is written as %T, which its reader does not take", k, p)
			}
		}
	}
	for name := range kinds {
		if !declared[name] {
			t.Errorf("kinds reads %s, which no producer can write", name)
		}
	}
	for name := range quiet {
		if !declared[name] {
			t.Errorf("silent lists %s, which no producer can write", name)
		}
	}
}
