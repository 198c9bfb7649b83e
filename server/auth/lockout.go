package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/apperr"
	"golang.org/x/crypto/bcrypt"
)

// Password lockout. An attempt is counted before the password is compared, by one conditional
// UPDATE, so guesses sent in parallel are each counted and none gets past the lock: the attempt
// that reaches the limit locks the account, and a locked account compares no password at all.
// The right password clears the count.
//
// A username that does not exist answers exactly as an account would: wrong until the limit,
// then locked for as long, so the answers do not tell which usernames exist.

func errLocked(left time.Duration) error {
	mins := max(int(math.Ceil(left.Minutes())), 1)
	return apperr.New(http.StatusTooManyRequests, "account_locked",
		fmt.Sprintf("密码错误次数过多,账号已锁定,请%d分钟后再试", mins)).WithRetryAfter(time.Duration(mins) * time.Minute)
}

// countAttempt counts a password attempt on account id, or refuses it while the account is locked.
func (s *Service) countAttempt(ctx context.Context, id int64, now time.Time) error {
	until := now.Add(s.opt.LockoutDuration)
	// locked_until is assigned first: MySQL evaluates assignments left to right and would
	// otherwise see the reset count.
	res := s.db.WithContext(ctx).Exec(`UPDATE accounts SET
		locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE NULL END,
		failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END
		WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?)`,
		s.opt.MaxLoginFails, until, s.opt.MaxLoginFails, id, now)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected > 0 {
		return nil
	}
	var a Account
	if err := s.db.WithContext(ctx).Select("id", "locked_until").Where("id = ?", id).Take(&a).Error; err != nil {
		return err
	}
	left := s.opt.LockoutDuration
	if a.LockedUntil != nil && a.LockedUntil.After(now) {
		left = a.LockedUntil.Sub(now)
	}
	return errLocked(left)
}

// unknownUsername answers a login with a username no account has, as countAttempt and a wrong
// password would for one that exists. The count lives in Redis; while Redis is down unknown
// usernames are never locked (logged).
func (s *Service) unknownUsername(ctx context.Context, username, password string) error {
	// As long as comparing a real hash, so timing does not tell either.
	_ = bcrypt.CompareHashAndPassword(s.dummy, []byte(password))
	sum := sha256.Sum256([]byte(strings.ToLower(username)))
	h := hex.EncodeToString(sum[:12])
	// One hash tag: the DEL of both below must find them in one slot of a Redis Cluster.
	lockKey, failKey := s.key("login", "lock", "{"+h+"}"), s.key("login", "fails", "{"+h+"}")
	now := s.clock.Now()
	unavailable := func(err error) error {
		s.log.WarnContext(ctx, "login lockout of unknown usernames unavailable", "err", err)
		return errBadCredentials
	}
	until, err := s.lockedUntil(ctx, lockKey)
	switch {
	case err != nil:
		return unavailable(err)
	case now.Before(until):
		return errLocked(until.Sub(now))
	case !until.IsZero():
		// The lock is over: count afresh.
		s.rdb.Del(ctx, lockKey, failKey)
	}
	// The count decides, not the lock read above, so a burst of parallel guesses is cut at the
	// limit exactly as countAttempt cuts it.
	n, err := s.rdb.Incr(ctx, failKey).Result()
	if err != nil {
		return unavailable(err)
	}
	limit := int64(s.opt.MaxLoginFails)
	switch {
	case n == limit:
		until = now.Add(s.opt.LockoutDuration)
		s.rdb.Set(ctx, lockKey, strconv.FormatInt(until.UnixMilli(), 10), s.opt.LockoutDuration+time.Minute)
		// The count goes a little before the lock, so a later guess never finds a count at the
		// limit without its lock.
		s.rdb.Expire(ctx, failKey, s.opt.LockoutDuration)
	case n > limit:
		if until, err = s.lockedUntil(ctx, lockKey); err != nil || !now.Before(until) {
			until = now.Add(s.opt.LockoutDuration)
		}
		return errLocked(until.Sub(now))
	case n == 1:
		s.rdb.Expire(ctx, failKey, 24*time.Hour)
	}
	return errBadCredentials
}

// lockedUntil reads the lock of an unknown username: zero when there is none.
func (s *Service) lockedUntil(ctx context.Context, lockKey string) (time.Time, error) {
	v, err := s.rdb.Get(ctx, lockKey).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms), nil
}
