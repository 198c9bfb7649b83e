// Package wechat is the server's single gateway to WeChat (mini-program login,
// phone number, subscribe messages) and WeCom (group robots), built on
// github.com/silenceper/wechat/v2.
//
// The SDK sends every request through the package variable
// util.DefaultHTTPClient. New installs, once per process, a client whose
// transport sends api.weixin.qq.com and qyapi.weixin.qq.com to the configured
// bases, applies the timeout and keeps secrets out of error strings. That
// routing is process-wide: the most recent Client not yet closed wins (see routing).
package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/miniprogram"
	mpconfig "github.com/silenceper/wechat/v2/miniprogram/config"
	"github.com/silenceper/wechat/v2/miniprogram/subscribe"
	workconfig "github.com/silenceper/wechat/v2/work/config"
	workcontext "github.com/silenceper/wechat/v2/work/context"
	"github.com/silenceper/wechat/v2/work/robot"
)

// Config configures a Client.
type Config struct {
	AppID        string
	Secret       string
	APIBase      string // default https://api.weixin.qq.com
	WeComAPIBase string // default https://qyapi.weixin.qq.com
	Timeout      time.Duration
	// MiniprogramState is sent with every subscribe message: developer, trial
	// or formal (default formal; the SDK alone would send "").
	MiniprogramState string
}

// Defaults.
const (
	DefaultAPIBase      = "https://api.weixin.qq.com"
	DefaultWeComAPIBase = "https://qyapi.weixin.qq.com"
	DefaultTimeout      = 10 * time.Second
)

// ErrNotConfigured is returned by mini-program calls when AppID or Secret is
// empty (a Client may be used for robots only).
var ErrNotConfigured = errors.New("wechat: AppID and Secret are not configured")

// Session is the result of a login. SessionKey must never leave the server.
type Session struct {
	OpenID     string
	UnionID    string
	SessionKey string
}

// SubscribeMessage is a one-person notification. Data maps template keywords
// (e.g. "thing1") to values already cut to the keyword's limit.
type SubscribeMessage struct {
	ToUser     string
	TemplateID string
	Page       string
	Data       map[string]string
}

// Client calls WeChat and WeCom. It is safe for concurrent use.
type Client struct {
	cfg      Config
	mp       *miniprogram.MiniProgram
	robot    *robot.Client
	store    tokenStore
	tokenKey string
	routing  *routing
}

// New builds a Client. The access_token is cached in rdb under keyPrefix so
// that several server instances share it, with a copy in this process that
// serves while Redis fails; with a nil rdb it is cached in this process only.
func New(cfg Config, rdb redis.UniversalClient, keyPrefix string) (*Client, error) {
	api, err := parseBase(cfg.APIBase, DefaultAPIBase)
	if err != nil {
		return nil, fmt.Errorf("wechat: APIBase: %w", err)
	}
	qy, err := parseBase(cfg.WeComAPIBase, DefaultWeComAPIBase)
	if err != nil {
		return nil, fmt.Errorf("wechat: WeComAPIBase: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch cfg.MiniprogramState {
	case "":
		cfg.MiniprogramState = "formal"
	case "developer", "trial", "formal":
	default:
		return nil, fmt.Errorf("wechat: MiniprogramState %q: want developer, trial or formal", cfg.MiniprogramState)
	}

	var store tokenStore = newMemoryCache()
	if rdb != nil {
		store = newSharedCache(rdb, keyPrefix)
	}
	c := &Client{
		cfg:   cfg,
		store: store,
		// Stable tokens: every instance gets the same token while it is valid,
		// instead of each fetch ending the previous one.
		mp: miniprogram.NewMiniProgram(&mpconfig.Config{
			AppID: cfg.AppID, AppSecret: cfg.Secret, Cache: store, UseStableAK: true,
		}),
		// The robot needs no token; the context only satisfies the SDK.
		robot: robot.NewClient(&workcontext.Context{Config: &workconfig.Config{Cache: store}}),
		// Must match credential.StableAccessToken's key format.
		tokenKey: fmt.Sprintf("%s_stable_access_token_%s", credential.CacheKeyMiniProgramPrefix, cfg.AppID),
	}
	c.routing = &routing{
		bases:   map[string]*url.URL{apiHost: api, qyapiHost: qy},
		timeout: cfg.Timeout,
	}
	install(c.routing)
	return c, nil
}

// Close hands the process-wide routing back to the Client built before this
// one (see routing). Calls made through c after Close are not routed by it.
func (c *Client) Close() {
	uninstall(c.routing)
}

var codePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// Code2Session exchanges a wx.login code for the user's openid. The SDK puts
// the code into the URL unescaped, so anything but [A-Za-z0-9_-]{1,128} is
// refused locally with 40029. A -1 (system busy) is retried once.
func (c *Client) Code2Session(ctx context.Context, code string) (Session, error) {
	if err := c.needApp(); err != nil {
		return Session{}, err
	}
	if !codePattern.MatchString(code) {
		return Session{}, &APIError{Code: 40029, Msg: "invalid code format (local check)", Op: OpCode2Session}
	}
	auth := c.mp.GetAuth()
	for attempt := 0; ; attempt++ {
		res, err := auth.Code2SessionContext(ctx, code)
		if res.ErrCode != 0 {
			// The SDK reports errcodes as plain strings; the result has them.
			if res.ErrCode == -1 && attempt == 0 && pause(ctx, retryPause) {
				continue
			}
			return Session{}, &APIError{Code: int(res.ErrCode), Msg: res.ErrMsg, Op: OpCode2Session}
		}
		if err != nil {
			return Session{}, mapErr(OpCode2Session, err)
		}
		if res.OpenID == "" {
			return Session{}, &APIError{Code: -1, Msg: "empty openid in answer", Op: OpCode2Session}
		}
		return Session{OpenID: res.OpenID, UnionID: res.UnionID, SessionKey: res.SessionKey}, nil
	}
}

const retryPause = 100 * time.Millisecond

// PhoneNumber exchanges a getPhoneNumber code for the phone number without
// country code (purePhoneNumber).
func (c *Client) PhoneNumber(ctx context.Context, code string) (string, error) {
	if err := c.needApp(); err != nil {
		return "", err
	}
	if code == "" {
		return "", &APIError{Code: 40029, Msg: "empty code (local check)", Op: OpPhone}
	}
	var phone string
	err := c.withToken(ctx, OpPhone, func() error {
		res, err := c.mp.GetAuth().GetPhoneNumberContext(ctx, code)
		if err != nil {
			return err
		}
		phone = res.PhoneInfo.PurePhoneNumber
		return nil
	})
	if err != nil {
		return "", err
	}
	if phone == "" {
		return "", &APIError{Code: -1, Msg: "empty phone number in answer", Op: OpPhone}
	}
	return phone, nil
}

// SendSubscribe sends a subscribe message with miniprogram_state from Config
// and lang zh_CN. 43101 (not subscribed) comes back as a permanent *APIError.
//
// The SDK's Send takes no context: ctx bounds only the token fetch, and the
// send itself is bounded by Config.Timeout.
func (c *Client) SendSubscribe(ctx context.Context, msg SubscribeMessage) error {
	if err := c.needApp(); err != nil {
		return err
	}
	switch {
	case msg.ToUser == "":
		return &APIError{Code: 40003, Msg: "empty touser (local check)", Op: OpSubscribe}
	case msg.TemplateID == "":
		return &APIError{Code: 40037, Msg: "empty template_id (local check)", Op: OpSubscribe}
	case len(msg.Data) == 0:
		return &APIError{Code: 47003, Msg: "empty data (local check)", Op: OpSubscribe}
	}
	data := make(map[string]*subscribe.DataItem, len(msg.Data))
	for k, v := range msg.Data {
		data[k] = &subscribe.DataItem{Value: v}
	}
	m := &subscribe.Message{
		ToUser:           msg.ToUser,
		TemplateID:       msg.TemplateID,
		Page:             msg.Page,
		Data:             data,
		MiniprogramState: c.cfg.MiniprogramState,
		Lang:             "zh_CN",
	}
	return c.withToken(ctx, OpSubscribe, func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return c.mp.GetSubscribe().Send(m)
	})
}

// withToken runs call with a valid token in the cache. On 40001/42001 it drops
// the token it saw (only if still cached, so that concurrent callers do not
// drop a fresh one) and retries once. The refetch is not forced: the stable
// API then returns the token currently valid, without ending it for the other
// instances.
func (c *Client) withToken(ctx context.Context, op string, call func() error) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.mp.GetContext().GetAccessTokenContext(ctx)
		if err != nil {
			return mapErr(op, err)
		}
		err = mapErr(op, call())
		ae, ok := errors.AsType[*APIError](err)
		if attempt == 0 && ok && ae.Op == op && (ae.Code == 40001 || ae.Code == 42001) {
			if derr := c.store.deleteIfEqual(ctx, c.tokenKey, tok); derr != nil {
				return errors.Join(err, derr)
			}
			continue
		}
		return err
	}
}

func (c *Client) needApp() error {
	if c.cfg.AppID == "" || c.cfg.Secret == "" {
		return ErrNotConfigured
	}
	return nil
}

func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
