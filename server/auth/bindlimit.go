package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/shiliu/shiliu/server/apperr"
)

// Binding with an invite code is limited, or a ticket could try codes until one of the many
// outstanding ones fits: each ticket gets a few tries and is then burnt, and failures are counted
// per WeChat user and per client address over a window, after which binding waits (429 with
// Retry-After). An attempt is counted before the code is tried, so parallel guesses count too; an
// attempt that did not fail on the code is forgiven.

// BindLimits bound invite-code binding.
type BindLimits struct {
	PerTicket int           // tries one bind ticket gets before it is burnt
	PerOpenID int           // failed tries of one WeChat user per Window
	PerIP     int           // failed tries from one client address per Window
	Window    time.Duration // how long failures are remembered
}

var errTicketBurnt = apperr.New(http.StatusUnauthorized, "bind_ticket_invalid",
	"邀请码错误次数过多,请核对邀请码后重新进入小程序登录再试").WithField("bind_ticket", "邀请码错误次数过多,绑定凭证已作废")

// bindAttempt is one counted try of an invite code; settle says how it went.
type bindAttempt struct {
	s                      *Service
	ticket, openid, client string
}

// startBind counts a try of an invite code with ticket, or refuses it.
func (s *Service) startBind(ctx context.Context, ticket, openid, ip string) (*bindAttempt, error) {
	l := s.opt.Bind
	a := &bindAttempt{s: s, ticket: s.key("bind", "tries", hashToken(ticket)),
		openid: s.key("bind", "fails", "openid", openid), client: s.key("bind", "fails", "ip", ip)}
	n, err := s.rdb.Incr(ctx, a.ticket).Result()
	if err != nil {
		s.log.ErrorContext(ctx, "count bind attempt", "err", err)
		return nil, errRedisDown
	}
	if n == 1 {
		s.rdb.Expire(ctx, a.ticket, bindTTL)
	}
	if n > int64(l.PerTicket) {
		s.rdb.Del(ctx, s.key("bind", hashToken(ticket)))
		return nil, errTicketBurnt
	}
	for _, c := range []struct {
		key   string
		limit int
	}{{a.openid, l.PerOpenID}, {a.client, l.PerIP}} {
		n, err := s.rdb.Incr(ctx, c.key).Result()
		if err != nil {
			s.log.ErrorContext(ctx, "count bind attempt", "err", err)
			return nil, errRedisDown
		}
		if n == 1 {
			s.rdb.Expire(ctx, c.key, l.Window)
		}
		if n > int64(c.limit) {
			wait, err := s.rdb.PTTL(ctx, c.key).Result()
			if err != nil || wait <= 0 {
				wait = l.Window
			}
			return nil, apperr.RateLimited("邀请码错误次数过多,请稍后再试,或联系县级民族工作部门核对邀请码").WithRetryAfter(wait)
		}
	}
	return a, nil
}

// settle records how the try went: a wrong, used or expired code stays counted (and burns the
// ticket at its last try); anything else is forgiven.
func (a *bindAttempt) settle(ctx context.Context, ticket string, err error) {
	if apperr.Is(err, "invite_invalid") || apperr.Is(err, "invite_expired") || apperr.Is(err, "invite_used") {
		if n, rerr := a.s.rdb.Get(ctx, a.ticket).Int(); rerr == nil && n >= a.s.opt.Bind.PerTicket {
			a.s.rdb.Del(ctx, a.s.key("bind", hashToken(ticket)))
		}
		return
	}
	a.s.rdb.Decr(ctx, a.openid)
	a.s.rdb.Decr(ctx, a.client)
}
