package validate

import "testing"

func TestText(t *testing.T) {
	cases := []struct {
		name, in  string
		multiline bool
		want      string
		refused   bool
	}{
		{"plain", "西山村村委会", false, "西山村村委会", false},
		{"ascii spaces trimmed", "  马某 ", false, "马某", false},
		{"ideographic and no-break spaces trimmed", "\u3000马某\u00a0", false, "马某", false},
		{"inner space kept", "马 某", false, "马 某", false},
		{"empty stays empty", "", false, "", false},
		{"only spaces", " \u3000 ", false, "", true},
		{"only newlines", "\n\n", true, "", true},
		{"newline in multi-line text", "一、传达\n二、交流", true, "一、传达\n二、交流", false},
		{"CRLF and tab in multi-line text", "一\r\n\t二", true, "一\r\n\t二", false},
		{"newline in one-line text", "标题\n第二行", false, "", true},
		{"tab in one-line text", "标\t题", false, "", true},
		{"NUL", "马某\x00", true, "", true},
		{"ANSI escape", "\x1b[31m红色\x1b[0m", true, "", true},
		{"DEL", "a\x7fb", true, "", true},
		{"C1 control", "a\u0085b", true, "", true},
		{"right-to-left override", "马某\u202egnp.exe", true, "", true},
		{"left-to-right isolate", "\u2066马某\u2069", true, "", true},
		{"zero-width space", "马\u200b某", true, "", true},
		{"zero-width space only", "\u200b", false, "", true},
		{"byte order mark", "\ufeff标题", false, "", true},
		{"word joiner", "a\u2060b", false, "", true},
		{"line separator", "a\u2028b", true, "", true},
		{"emoji ZWJ sequence", "家庭👨\u200d👩\u200d👧", false, "家庭👨\u200d👩\u200d👧", false},
		{"Mongolian vowel separator", "ᠬᠠᠷ\u180eᠠ", false, "ᠬᠠᠷ\u180eᠠ", false},
		{"Uyghur with ZWNJ", "ئۇيغۇر\u200cچە", false, "ئۇيغۇر\u200cچە", false},
	}
	for _, c := range cases {
		got, msg := Text(c.in, c.multiline)
		if (msg != "") != c.refused {
			t.Errorf("%s: Text(%q) message %q, refused want %v", c.name, c.in, msg, c.refused)
			continue
		}
		if !c.refused && got != c.want {
			t.Errorf("%s: Text(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}
