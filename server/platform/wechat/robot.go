package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/silenceper/wechat/v2/work/robot"
)

// Robot message types and their documented size limits (UTF-8 bytes; a
// Chinese character is 3 bytes). Over the limit WeCom answers 40058.
const (
	MsgTypeText             = "text"
	MsgTypeMarkdown         = "markdown"
	RobotTextMaxBytes       = 2048
	RobotMarkdownMaxBytes   = 4096
	webhookPath             = "/cgi-bin/webhook/send"
	errcodeRobotContentLong = 40058
)

// RobotMessage is a WeCom group-robot message. MentionedMobiles @-mentions
// members (text only; "@all" mentions everyone).
type RobotMessage struct {
	MsgType          string // text (default) or markdown
	Content          string
	MentionedMobiles []string
}

// ErrInvalidWebhookKey is wrapped by ParseWebhookKey errors.
var ErrInvalidWebhookKey = errors.New("invalid webhook key")

// ParseWebhookKey accepts a bare robot key or a whole webhook URL
// (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...) and returns the
// key. The URL's host is ignored: messages always go to Config.WeComAPIBase.
// Keys are limited to [A-Za-z0-9_-] because the SDK puts them into the URL
// unescaped.
func ParseWebhookKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	key := s
	if strings.Contains(s, "/") || strings.Contains(s, "?") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalidWebhookKey, err)
		}
		if u.Path != webhookPath {
			return "", fmt.Errorf("%w: path %q is not %s", ErrInvalidWebhookKey, u.Path, webhookPath)
		}
		key = u.Query().Get("key")
	}
	if !codePattern.MatchString(key) {
		return "", fmt.Errorf("%w: want 1-128 of [A-Za-z0-9_-]", ErrInvalidWebhookKey)
	}
	return key, nil
}

// SendRobot posts msg through the group robot identified by webhookKey (a key
// or a whole webhook URL). A malformed key gives 93000 without a call, like an
// unknown key does from WeCom. The SDK returns a nil error when errcode != 0,
// so the errcode is checked here.
//
// The SDK's call takes no context: ctx is checked before sending and the
// send is bounded by Config.Timeout.
func (c *Client) SendRobot(ctx context.Context, webhookKey string, msg RobotMessage) error {
	key, err := ParseWebhookKey(webhookKey)
	if err != nil {
		return &APIError{Code: 93000, Msg: err.Error() + " (local check)", Op: OpRobot}
	}
	if msg.Content == "" {
		return &APIError{Code: 44004, Msg: "empty content (local check)", Op: OpRobot}
	}
	var body any
	switch msg.MsgType {
	case MsgTypeText, "":
		if len(msg.Content) > RobotTextMaxBytes {
			return &APIError{Code: errcodeRobotContentLong, Op: OpRobot,
				Msg: fmt.Sprintf("text.content exceeds %d bytes (local check)", RobotTextMaxBytes)}
		}
		var o robot.WebhookSendTextOption
		o.MsgType = MsgTypeText
		o.Text.Content = msg.Content
		o.Text.MentionedMobileList = msg.MentionedMobiles
		body = &o
	case MsgTypeMarkdown:
		if len(msg.MentionedMobiles) > 0 {
			return &APIError{Code: 40008, Msg: "markdown cannot mention mobiles (local check)", Op: OpRobot}
		}
		if len(msg.Content) > RobotMarkdownMaxBytes {
			return &APIError{Code: errcodeRobotContentLong, Op: OpRobot,
				Msg: fmt.Sprintf("markdown.content exceeds %d bytes (local check)", RobotMarkdownMaxBytes)}
		}
		var o robot.WebhookSendMarkdownOption
		o.MsgType = MsgTypeMarkdown
		o.Markdown.Content = msg.Content
		body = &o
	default:
		return &APIError{Code: 40008, Msg: fmt.Sprintf("unsupported msgtype %q (local check)", msg.MsgType), Op: OpRobot}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	info, err := c.robot.RobotBroadcast(key, body)
	if err != nil {
		return mapErr(OpRobot, err)
	}
	if info.ErrCode != 0 {
		return &APIError{Code: int(info.ErrCode), Msg: info.ErrMsg, Op: OpRobot}
	}
	return nil
}
