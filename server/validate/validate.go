// Package validate collects field errors of one request so the client learns every problem at once,
// each with its field name and a Chinese message.
package validate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/region"
)

// Checker accumulates field errors.
type Checker struct {
	details []apperr.FieldError
	// more counts failures beyond apperr.MaxDetails, which are only counted, not kept.
	more int
	// broken is a failure to check at all (the database is away while a code is looked up): not
	// the client's mistake, so Err answers it instead of the field errors.
	broken error
}

// Broken records that a check could not be made because of err. Calling a field invalid then
// would tell the phone its input is wrong during an outage.
func (c *Checker) Broken(err error) {
	if c.broken == nil {
		c.broken = err
	}
}

// Fail records a failure of field.
func (c *Checker) Fail(field, msg string) {
	if len(c.details) >= apperr.MaxDetails {
		c.more++
		return
	}
	for _, d := range c.details {
		if d.Field == field {
			return // one message per field is enough on a phone screen
		}
	}
	c.details = append(c.details, apperr.FieldError{Field: field, Message: msg})
}

// Check records msg for field unless ok.
func (c *Checker) Check(ok bool, field, msg string) {
	if !ok {
		c.Fail(field, msg)
	}
}

// Required checks a trimmed string is present and at most max characters long.
func (c *Checker) Required(field, label, s string, max int) {
	if strings.TrimSpace(s) == "" {
		c.Fail(field, label+"不能为空")
		return
	}
	c.MaxLen(field, label, s, max)
}

// MaxLen checks s has at most max characters (not bytes: names are Chinese).
func (c *Checker) MaxLen(field, label, s string, max int) {
	if !utf8.ValidString(s) {
		c.Fail(field, label+"包含无效字符")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.Fail(field, fmt.Sprintf("%s不能超过%d个字", label, max))
	}
}

// OneOf checks s is one of the allowed codes; empty counts as missing when required.
func (c *Checker) OneOf(field, label, s string, required bool, allowed func(string) bool) {
	if s == "" {
		if required {
			c.Fail(field, label+"不能为空")
		}
		return
	}
	if !allowed(s) {
		c.Fail(field, label+"的取值无效")
	}
}

// OneOfEach checks every value of a list filter (a status asked for several times) is one of the
// allowed codes.
func (c *Checker) OneOfEach(field, label string, values []string, allowed func(string) bool) {
	for _, s := range values {
		c.OneOf(field, label, s, true, allowed)
	}
}

// maxListed is how many allowed codes a message lists; a longer list (the 56 ethnicities) is
// pointed at instead.
const maxListed = 8

// Code checks s is one of codes; empty counts as missing when required. The failure names the
// allowed codes, or where to find them, so the caller need not guess.
func (c *Checker) Code(field, label, s string, required bool, codes []string) {
	if s == "" {
		if required {
			c.Fail(field, label+"不能为空")
		}
		return
	}
	switch {
	case slices.Contains(codes, s):
	case len(codes) > maxListed:
		c.Fail(field, label+"的取值无效,可选的代码见 GET /api/v1/dictionaries")
	default:
		c.Fail(field, label+"的取值无效,应为 "+strings.Join(codes, "、")+" 之一")
	}
}

var phoneRe = regexp.MustCompile(`^1[3-9]\d{9}$`)

// Phone checks a mainland mobile number.
func (c *Checker) Phone(field, s string, required bool) {
	if s == "" {
		if required {
			c.Fail(field, "手机号不能为空")
		}
		return
	}
	if !phoneRe.MatchString(s) {
		c.Fail(field, "手机号格式不正确,应为11位手机号")
	}
}

var idWeights = []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IDNumber checks an 18-digit resident ID number including its check digit (GB 11643).
func (c *Checker) IDNumber(field, s string) {
	if s == "" {
		return
	}
	if !ValidIDNumber(s) {
		c.Fail(field, "身份证号码不正确")
	}
}

// ValidIDNumber reports whether s is a well-formed 18-digit resident ID number.
func ValidIDNumber(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		sum += int(s[i]-'0') * idWeights[i]
	}
	check := "10X98765432"[sum%11]
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	return last == check
}

// Err returns the error of a check that could not be made (Broken), else the collected failures
// as one invalid_argument error, or nil.
func (c *Checker) Err() error {
	if c.broken != nil {
		return c.broken
	}
	if len(c.details) == 0 {
		return nil
	}
	msg := "提交的内容有误:" + c.details[0].Message
	if n := len(c.details) + c.more; n > 1 {
		msg = fmt.Sprintf("%s 等%d处问题", msg, n)
	}
	e := apperr.Invalid(msg)
	e.Details = c.details
	return e
}

// RegionCode checks an optional region code filter is a 12-digit statistical division code.
func (c *Checker) RegionCode(field, code string) {
	if code != "" && !region.ValidCode(code) {
		c.Fail(field, "行政区划代码应为12位数字")
	}
}
