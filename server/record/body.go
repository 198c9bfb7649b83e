package record

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/roster"
	"github.com/shiliu/shiliu/server/validate"
)

// Body is a JSON object as a request sends it. It is read field by field, so every problem
// (a wrong type included) names its field, and all problems are reported at once.
type Body map[string]json.RawMessage

// fields reads one object of a body: the record's common fields, or a kind's own object with
// field names prefixed by the kind ("tip.level").
type fields struct {
	raw    Body
	prefix string
	v      *validate.Checker
}

func newFields(b Body, v *validate.Checker) *fields {
	if b == nil {
		b = Body{}
	}
	return &fields{raw: b, v: v}
}

func (f *fields) name(n string) string { return f.prefix + n }

func (f *fields) fail(n, msg string) { f.v.Fail(f.name(n), msg) }

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// has reports whether the field is present and not null.
func (f *fields) has(n string) bool {
	raw, ok := f.raw[n]
	return ok && !isNull(raw)
}

// decode reads a present field into dst; want names the JSON type for the error message.
func (f *fields) decode(n, label, want string, dst any) bool {
	raw, ok := f.raw[n]
	if !ok || isNull(raw) {
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		f.fail(n, label+"应为"+want)
		return false
	}
	return true
}

// str reads a string, trimmed.
func (f *fields) str(n, label string, dst *string) bool {
	var s string
	if !f.decode(n, label, "字符串", &s) {
		return false
	}
	*dst = strings.TrimSpace(s)
	return true
}

// integer reads a whole number.
func (f *fields) integer(n, label string, dst *int) bool {
	var i int
	if !f.decode(n, label, "整数", &i) {
		return false
	}
	*dst = i
	return true
}

func (f *fields) boolean(n, label string, dst *bool) bool {
	return f.decode(n, label, "布尔值(true或false)", dst)
}

func (f *fields) float(n, label string, dst **float64) bool {
	var x float64
	if !f.decode(n, label, "数字", &x) {
		return false
	}
	*dst = &x
	return true
}

func (f *fields) strs(n, label string, dst *[]string) bool {
	var s []string
	if !f.decode(n, label, "字符串数组", &s) {
		return false
	}
	for i := range s {
		s[i] = strings.TrimSpace(s[i])
	}
	*dst = s
	return true
}

func (f *fields) ids(n, label string, dst *[]int64) bool {
	var s []int64
	if !f.decode(n, label, "正整数数组", &s) {
		return false
	}
	*dst = s
	return true
}

// object reads a nested object (a kind's own fields); ok is false when it is absent or not an
// object (the latter recorded as a failure).
func (f *fields) object(n, label string) (*fields, bool) {
	var b Body
	if !f.decode(n, label, "对象", &b) {
		return nil, false
	}
	return &fields{raw: b, prefix: f.name(n) + ".", v: f.v}, true
}

// time reads an RFC 3339 time.
func (f *fields) time(n, label string, dst *time.Time) bool {
	var s string
	if !f.decode(n, label, "时间字符串", &s) {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		f.fail(n, label+"应为RFC 3339格式的时间,如2024-05-01T09:30:00+08:00")
		return false
	}
	*dst = t.UTC().Truncate(time.Millisecond)
	return true
}

// Validation helpers naming prefixed fields.

func (f *fields) required(n, label, s string, max int) { f.v.Required(f.name(n), label, s, max) }
func (f *fields) maxLen(n, label, s string, max int)   { f.v.MaxLen(f.name(n), label, s, max) }
func (f *fields) oneOf(n, label, s string, required bool, list []Code) {
	f.v.Code(f.name(n), label, s, required, roster.Codes(list))
}
func (f *fields) check(ok bool, n, msg string) { f.v.Check(ok, f.name(n), msg) }
func (f *fields) between(n, label string, x, lo, hi int) {
	f.v.Check(x >= lo && x <= hi, f.name(n), label+"应在"+strconv.Itoa(lo)+"到"+strconv.Itoa(hi)+"之间")
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validUUID reports whether s (lower-cased) is a UUID in its canonical text form.
func validUUID(s string) bool { return uuidRe.MatchString(s) }
