package upload

import (
	"context"
	"sync"
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
)

// ErrBusy refuses an upload while the instance already receives as many as it may hold.
var ErrBusy = apperr.Unavailable("当前上传的人较多,服务器繁忙,请稍后重试").WithRetryAfter(RetryAfter)

// ErrAccountBusy refuses an upload while the same account already sends as many as it may at
// once: it is that caller's doing, so 429, not the instance's 503.
var ErrAccountBusy = apperr.RateLimited("您同时上传的文件过多,请等正在上传的文件完成后再试").WithRetryAfter(RetryAfter)

// RetryAfter is how long a busy answer tells the phone to wait before sending the file again.
const RetryAfter = 5 * time.Second

// gate bounds how many uploads one instance receives at once: each is held in memory whole (up
// to maxBytes, and a cleaned copy beside it), so a burst of phones must queue, not exhaust memory.
// perAccount bounds the places one account holds, so that one phone sending slowly (or one
// script) cannot take them all and turn every other upload away.
type gate struct {
	slots      chan struct{}
	wait       time.Duration
	perAccount int
	mu         sync.Mutex
	held       map[int64]int // account → places it holds
}

// hold counts one more place for an account, or reports that it holds its share already.
func (g *gate) hold(account int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held[account] >= g.perAccount {
		return false
	}
	g.held[account]++
	return true
}

func (g *gate) unhold(account int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held[account]--; g.held[account] <= 0 {
		delete(g.held, account)
	}
}

// Admit takes a place for receiving one upload from p, waiting up to the configured queue wait
// for one to free up; ErrBusy when none does, ErrAccountBusy at once when p already holds its
// share. The caller reads the file only after Admit and calls release when done with it. Callers
// who may not upload are refused first, so they never take a place.
func (s *Service) Admit(ctx context.Context, p *access.Principal) (release func(), err error) {
	if err := mayUpload(p); err != nil {
		return nil, err
	}
	if !s.gate.hold(p.AccountID) {
		return nil, ErrAccountBusy
	}
	held := false
	defer func() {
		if !held {
			s.gate.unhold(p.AccountID)
		}
	}()
	release = sync.OnceFunc(func() {
		<-s.gate.slots
		s.gate.unhold(p.AccountID)
	})
	select {
	case s.gate.slots <- struct{}{}:
		held = true
		return release, nil
	default:
	}
	if s.gate.wait <= 0 {
		return nil, ErrBusy
	}
	t := time.NewTimer(s.gate.wait)
	defer t.Stop()
	select {
	case s.gate.slots <- struct{}{}:
		held = true
		return release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// InFlight is how many uploads this instance is receiving now.
func (s *Service) InFlight() int { return len(s.gate.slots) }
