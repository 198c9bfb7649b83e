package fulltext

import (
	"strings"
	"testing"
)

func TestBigramsAndPairs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"宅基地", "宅基 基地 地"},
		{"张三,李四", "张三 三 李四 四"},
		{"低保申请 ABC12", "低保 保申 申请 请 ab bc c1 12 2"},
		{"马", "马"},
		{"!!!", ""},
	} {
		if got := Bigrams(c.in); got != c.want {
			t.Errorf("Bigrams(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Every substring of two characters or more of a run is the phrase of its pairs, found in
	// the run's pairs in order: the search is a substring search.
	text := "群众反映宅基地审批进度慢"
	indexed := " " + Bigrams(text) + " "
	r := []rune(text)
	for i := 0; i < len(r); i++ {
		for j := i + 2; j <= len(r); j++ {
			if p := pairs(r[i:j]); !strings.Contains(indexed, " "+p+" ") {
				t.Errorf("%q: phrase %q not in %q", string(r[i:j]), p, indexed)
			}
		}
	}
	if got := runs("  宅基地—审批 "); len(got) != 2 || string(got[0]) != "宅基地" || string(got[1]) != "审批" {
		t.Errorf("runs: %q", got)
	}
}

func TestScopeWords(t *testing.T) {
	got := scopeWords(Doc{RegionCode: "131127105203", AuthorID: 42, Kind: "tip"})
	if want := "r13 r1311 r131127 r131127105 r131127105203 a42 ktip"; got != want {
		t.Errorf("scopeWords = %q, want %q", got, want)
	}
}
