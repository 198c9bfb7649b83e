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

// RetryAfter is how long a busy answer tells the phone to wait before sending the file again.
const RetryAfter = 5 * time.Second

// gate bounds how many uploads one instance receives at once: each is held in memory whole (up
// to maxBytes, and a cleaned copy beside it), so a burst of phones must queue, not exhaust memory.
type gate struct {
	slots chan struct{}
	wait  time.Duration
}

// Admit takes a place for receiving one upload from p, waiting up to the configured queue wait
// for one to free up; ErrBusy when none does. The caller reads the file only after Admit and
// calls release when done with it. Callers who may not upload are refused first, so they never
// take a place.
func (s *Service) Admit(ctx context.Context, p *access.Principal) (release func(), err error) {
	if err := mayUpload(p); err != nil {
		return nil, err
	}
	release = sync.OnceFunc(func() { <-s.gate.slots })
	select {
	case s.gate.slots <- struct{}{}:
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
		return release, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// InFlight is how many uploads this instance is receiving now.
func (s *Service) InFlight() int { return len(s.gate.slots) }
