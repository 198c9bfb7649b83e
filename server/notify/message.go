package notify

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/wechat"
)

// Message is what an event says, rendered once at fan-out and stored with each notification.
// The robot channel sends Text; the subscribe channel maps Fields to template keywords.
type Message struct {
	Title string `json:"title"`
	// Text is the full text for groups; Markdown tells the robot to send it as markdown.
	Text     string `json:"text"`
	Markdown bool   `json:"markdown,omitempty"`
	// Link is the path (under notify.public_base_url) of the full text, appended when Text has to
	// be cut to a channel's limit.
	Link string `json:"link,omitempty"`
	// Fields are the values subscribe-message keywords are mapped to (title, level, time…).
	// Times are RFC 3339.
	Fields map[string]string `json:"fields,omitempty"`
}

// FitBytes cuts s to at most max bytes of UTF-8 on a rune boundary, appending "…" and, when
// link is set, a line with the link to the full text. Markdown prefers to cut at a line end
// (a cut inside a markdown construct can break the rest of the message).
func FitBytes(s string, max int, link string, markdown bool) string {
	if len(s) <= max {
		return s
	}
	suffix := "…"
	if link != "" {
		if markdown {
			suffix += "\n[查看全文](" + link + ")"
		} else {
			suffix += "\n全文:" + link
		}
	}
	room := max - len(suffix)
	if room < 0 {
		// A link longer than the message limit: drop it rather than send nothing.
		suffix, room = "…", max-len("…")
	}
	cut := room
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if markdown {
		if nl := strings.LastIndexByte(s[:cut], '\n'); nl > cut*3/4 {
			cut = nl
		}
	}
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace) + suffix
}

// robotContent is the message as a group robot may send it: within the byte limit of its type.
func robotContent(m Message, baseURL string) wechat.RobotMessage {
	link := ""
	if baseURL != "" && m.Link != "" {
		link = strings.TrimRight(baseURL, "/") + m.Link
	}
	if m.Markdown {
		return wechat.RobotMessage{MsgType: wechat.MsgTypeMarkdown, Content: FitBytes(m.Text, wechat.RobotMarkdownMaxBytes, link, true)}
	}
	return wechat.RobotMessage{MsgType: wechat.MsgTypeText, Content: FitBytes(m.Text, wechat.RobotTextMaxBytes, link, false)}
}

// keywordLimits are the documented value limits of subscribe-message keyword types, in
// characters (name: Chinese characters; 20 when the value is plain ASCII).
var keywordLimits = map[string]int{
	"thing": 20, "number": 32, "letter": 32, "symbol": 5, "character_string": 32,
	"phone_number": 17, "car_number": 8, "phrase": 5, "amount": 14, "name": 10,
}

// KeywordValue fits a value to the keyword it goes into ("thing1", "time4"…): times are
// formatted in Beijing time, text is cut to the type's limit (with "…" where the type reads as
// prose), and an empty value becomes "无" (WeChat refuses empty values).
func KeywordValue(keyword, value string) string {
	typ := strings.TrimRightFunc(keyword, unicode.IsDigit)
	switch typ {
	case "time", "date":
		t, err := time.Parse(time.RFC3339Nano, value)
		if err != nil {
			break
		}
		if typ == "date" {
			return clock.Local(t).Format("2006-01-02")
		}
		return clock.Local(t).Format("2006-01-02 15:04")
	}
	value = strings.Join(strings.Fields(value), " ")
	if value == "" {
		return "无"
	}
	limit, ok := keywordLimits[typ]
	if !ok {
		return value
	}
	if typ == "name" && isASCII(value) {
		limit = 20
	}
	return cutRunes(value, limit, typ == "thing")
}

func cutRunes(s string, limit int, ellipsis bool) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	if ellipsis && limit > 1 {
		return string(r[:limit-1]) + "…"
	}
	return string(r[:limit])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
