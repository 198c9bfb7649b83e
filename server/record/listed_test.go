package record

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/schema"
)

// TestListedColumnsAreEveryColumnAViewShows: a column added to Record is read by the
// lists too (listedColumns names them one by one to leave out search_text and what only a write
// reads).
func TestListedColumnsAreEveryColumnAViewShows(t *testing.T) {
	s, err := schema.Parse(&Record{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range s.Fields {
		if f.DBName != "" && !slices.Contains([]string{"search_text", "body_hash", "author_account_id"}, f.DBName) {
			want = append(want, "records."+f.DBName)
		}
	}
	got := strings.Split(listedColumns, ", ")
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("listedColumns %v, want %v", got, want)
	}
}
