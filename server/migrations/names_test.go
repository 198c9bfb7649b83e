package migrations

import (
	"testing"
	"unicode/utf8"
)

// A step's name is stored in schema_migrations.name (128 characters): a longer one fails the
// step on MySQL, after its tables were made, and only there.
func TestNamesFitTheTable(t *testing.T) {
	for _, m := range All {
		if n := utf8.RuneCountInString(m.Name); n > 128 {
			t.Errorf("migration %d: name of %d characters, at most 128", m.Version, n)
		}
	}
}
