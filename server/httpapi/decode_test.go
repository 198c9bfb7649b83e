package httpapi

import (
	"reflect"
	"strings"
	"testing"
)

func TestWirePathDropsEmbeddedStructNames(t *testing.T) {
	for path, want := range map[string]string{
		"personRequest.unit_id":             "unit_id",
		"status":                            "status",
		"replacement.personRequest.unit_id": "replacement.unit_id",
		"replacement.status":                "replacement.status",
	} {
		typ := reflect.TypeOf(&instructorRequest{})
		if strings.HasPrefix(path, "replacement") {
			typ = reflect.TypeOf(&adjustRequest{})
		}
		if got := wirePath(typ, path); got != want {
			t.Errorf("wirePath(%s) = %s, want %s", path, got, want)
		}
	}
}
