package validate

import (
	"strings"
	"unicode"
)

// Text cleans one text value as a person typed it: spaces (Unicode ones included, such as the
// ideographic space U+3000) are trimmed from both ends, and a value that was not empty but is
// nothing but spaces is refused, as is any control or invisible formatting character: NUL, ANSI
// escapes, the bidirectional overrides that make a name read backwards (U+202E), zero-width
// spaces. Newlines and tabs are kept where multi-line text is allowed. msg is empty when the
// value is acceptable.
func Text(s string, multiline bool) (clean, msg string) {
	clean = strings.TrimFunc(s, unicode.IsSpace)
	if clean == "" && s != "" {
		return "", "不能只填写空格"
	}
	for _, r := range clean {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			if !multiline {
				return clean, "不能包含换行或制表符"
			}
		case invisible(r):
			return clean, "包含不可见的控制字符,请删除后重新填写"
		}
	}
	return clean, ""
}

// invisible reports a character that shows nothing, or changes how the text around it shows:
// controls (C0, C1, DEL), line and paragraph separators, and format characters. The joiners
// that emoji sequences and Arabic-script languages need (ZWNJ, ZWJ), the Mongolian vowel
// separator and the tag characters of subdivision flags are format characters too, and stay.
func invisible(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r == '\u200c', r == '\u200d', r == '\u180e', r >= 0xE0020 && r <= 0xE007F:
		return false
	}
	return unicode.Is(unicode.Cf, r)
}
