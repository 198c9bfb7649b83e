package notify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shiliu/shiliu/server/outbox"
	"github.com/shiliu/shiliu/server/platform/wechat"
)

func TestFitBytesCutsChineseOnARuneBoundaryWithALink(t *testing.T) {
	text := strings.Repeat("团", 1000) // 3,000 bytes
	link := "https://shiliu.example.gov.cn/bulletins/12"
	got := FitBytes(text, wechat.RobotTextMaxBytes, link, false)
	if len(got) > wechat.RobotTextMaxBytes || !utf8.ValidString(got) {
		t.Fatalf("%d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if !strings.HasSuffix(got, "…\n全文:"+link) {
		t.Fatalf("no link at the end: %q", got[len(got)-80:])
	}
	body := strings.TrimSuffix(got, "…\n全文:"+link)
	if !strings.HasPrefix(text, body) || len(body) < wechat.RobotTextMaxBytes-len("…\n全文:"+link)-3 {
		t.Fatalf("cut too short or not a prefix: %d bytes", len(body))
	}
	// Every byte offset near the limit: always a whole rune.
	for extra := range 4 {
		s := strings.Repeat("a", extra) + text
		if got := FitBytes(s, 2048, "", false); len(got) > 2048 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Fatalf("offset %d: %d bytes, valid %v", extra, len(got), utf8.ValidString(got))
		}
	}
	if got := FitBytes("短消息", 2048, link, false); got != "短消息" {
		t.Fatalf("short text changed: %q", got)
	}
	// Markdown prefers a line end and links in markdown.
	var md strings.Builder
	for i := range 200 {
		fmt.Fprintf(&md, "> 第%d行:民族团结一家亲\n", i)
	}
	got = FitBytes(md.String(), wechat.RobotMarkdownMaxBytes, link, true)
	if len(got) > wechat.RobotMarkdownMaxBytes || !strings.HasSuffix(got, "民族团结一家亲…\n[查看全文]("+link+")") {
		t.Fatalf("markdown cut: %d bytes, ends %q", len(got), got[len(got)-100:])
	}
}

func TestKeywordValues(t *testing.T) {
	for _, tc := range []struct{ kw, in, want string }{
		{"thing1", "一二三四五六七八九十一二三四五六七八九十", "一二三四五六七八九十一二三四五六七八九十"},
		{"thing1", "一二三四五六七八九十一二三四五六七八九十多", "一二三四五六七八九十一二三四五六七八九…"},
		{"phrase2", "特别重大风险", "特别重大风"},
		{"name3", "欧阳一二三四五六七八九", "欧阳一二三四五六七八"},
		{"name3", "Zhang San Feng Ouyang Li", "Zhang San Feng Ouyan"},
		{"character_string4", strings.Repeat("x", 40), strings.Repeat("x", 32)},
		{"time5", "2026-03-02T09:00:00Z", "2026-03-02 17:00"},
		{"date6", "2026-03-02T20:00:00Z", "2026-03-03"},
		{"thing7", "", "无"},
		{"thing8", "多行\n文本  空白", "多行 文本 空白"},
	} {
		if got := KeywordValue(tc.kw, tc.in); got != tc.want {
			t.Errorf("KeywordValue(%s, %q) = %q, want %q", tc.kw, tc.in, got, tc.want)
		}
	}
}

// A long group message goes through the robot cut below WeCom's byte limit, with the link to
// the full text; the fake (which refuses oversized content like WeCom) accepts it.
func TestLongMessagesReachTheRobotWithinTheLimits(t *testing.T) {
	e := newTestEnv(t)
	e.group(county, "county_staff", "longkey00001")
	// A kind that notifies nobody, read for the test as 1,000 Chinese characters as text, or 300
	// lines of them as markdown.
	long := outbox.VisitSteps.Updated.String()
	kinds[long] = reads(func(ctx context.Context, r *Resolver, ev Event, p outbox.Record) ([]Recipient, error) {
		return r.Groups(ctx, county, "county_staff")
	}, func(ctx context.Context, r *Resolver, ev Event, p outbox.Record) Message {
		m := Message{Title: "长消息", Text: strings.Repeat("团", 1000), Link: fmt.Sprintf("/test/%d", ev.SubjectID)}
		if p.Title == "markdown" {
			m.Text, m.Markdown = strings.Repeat("民族团结进步创建\n", 300), true
		}
		return m
	})
	t.Cleanup(func() { delete(kinds, long) })
	e.event(long, town, 1, map[string]any{})
	e.event(long, town, 2, map[string]any{"title": "markdown"})
	e.drain(e.dispatcher(testOptions), 5)

	msgs := e.wx.RobotMessages()
	if len(msgs) != 2 {
		t.Fatalf("%d robot messages: %+v", len(msgs), e.notifications(""))
	}
	for _, m := range msgs {
		limit := wechat.RobotTextMaxBytes
		if m.MsgType == "markdown" {
			limit = wechat.RobotMarkdownMaxBytes
		}
		if len(m.Content) > limit || len(m.Content) < limit-200 || !utf8.ValidString(m.Content) ||
			!strings.Contains(m.Content, "https://shiliu.example.gov.cn/test/") {
			t.Fatalf("%s: %d bytes (limit %d), valid %v, ends %q", m.MsgType, len(m.Content), limit, utf8.ValidString(m.Content), m.Content[len(m.Content)-60:])
		}
	}
}
