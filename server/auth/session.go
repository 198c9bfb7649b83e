package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/platform/cache"
	"github.com/shiliu/shiliu/server/platform/secret"
	"github.com/shiliu/shiliu/server/roster"
	"gorm.io/gorm"
)

// Revocations live in the database (sessions.revoked_at for a login, accounts.tokens_valid_after
// for every login of an account), so a Redis that is flushed, restarted or down never brings a
// dead token back. Redis only caches what the database says, both ways (live and dead), so the
// check on each request is one round trip; a key that is missing is read from the database again.
// A Redis that does not answer within a short timeout trips a breaker, and requests go to the
// database directly until it answers again.

// Client is who sends a login or refresh: its address and user agent tell a retry of the same
// client from a copy of the token used elsewhere.
type Client struct {
	IP        string
	UserAgent string
}

func (c Client) hash() string { return hashToken(c.IP + "\n" + c.UserAgent) }

const (
	cacheRevoked = "1"
	cacheLive    = "0"
)

func (s *Service) familyKey(family string) string { return s.key("sess", "fam", family) }
func (s *Service) accountKey(id int64) string {
	return s.key("sess", "va", strconv.FormatInt(id, 10))
}

// liveTTL is how long a "still valid" answer is cached; a dead one is kept while the access
// tokens it kills could live.
func (s *Service) liveTTL() time.Duration { return min(5*time.Minute, s.opt.AccessTTL) }
func (s *Service) deadTTL() time.Duration { return s.opt.AccessTTL + time.Minute }

// redisCall runs one Redis call of the per-request check under the breaker and the short
// timeout. ok is false when the breaker is open or the call failed: the caller asks the database.
func (s *Service) redisCall(ctx context.Context, call func(ctx context.Context) error) bool {
	if !s.breaker.Allow() {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, s.opt.CheckTimeout)
	err := call(cctx)
	cancel()
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	if err != nil && ctx.Err() != nil {
		// The request itself was cancelled (the client went away): says nothing about Redis.
		s.breaker.Report(nil)
		return false
	}
	s.breaker.Report(err)
	return err == nil
}

// tokenAlive reports whether a verified access token has not been revoked: its login not ended
// and its account's sessions not ended after it was issued.
func (s *Service) tokenAlive(ctx context.Context, pt parsed) (bool, error) {
	id := pt.principal.AccountID
	ak, fk := s.accountKey(id), s.familyKey(pt.family)
	var aval, fval string
	var haveA, haveF bool
	s.redisCall(ctx, func(ctx context.Context) error {
		// Two GETs in one pipeline rather than MGET: in a Redis Cluster the two keys live in
		// different slots (a family is revoked without knowing its account), and the cluster
		// client splits a pipeline by node where MGET would fail with CROSSSLOT.
		var a, f *redis.StringCmd
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			a, f = p.Get(ctx, ak), p.Get(ctx, fk)
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		aval, haveA = result(a)
		fval, haveF = result(f)
		return nil
	})
	fill := map[string]fillEntry{}
	if !haveA {
		var a Account
		err := s.db.WithContext(ctx).Select("id", "tokens_valid_after").Where("id = ?", id).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		aval = "0"
		if a.TokensValidAfter != nil {
			aval = strconv.FormatInt(a.TokensValidAfter.UnixMilli(), 10)
		}
		fill[ak] = fillEntry{aval, s.deadTTL()}
	}
	if !haveF {
		var n int64
		if err := s.db.WithContext(ctx).Model(&Session{}).Where("family_id = ? AND revoked_at IS NOT NULL", pt.family).
			Limit(1).Count(&n).Error; err != nil {
			return false, err
		}
		fval = cacheLive
		ttl := s.liveTTL()
		if n > 0 {
			fval, ttl = cacheRevoked, s.deadTTL()
		}
		fill[fk] = fillEntry{fval, ttl}
	}
	if len(fill) > 0 {
		// SET NX: a revocation written meanwhile is never overwritten by what we read before it.
		s.redisCall(ctx, func(ctx context.Context) error {
			_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for k, e := range fill {
					p.SetNX(ctx, k, e.value, e.ttl)
				}
				return nil
			})
			return err
		})
	}
	if fval == cacheRevoked {
		return false, nil
	}
	validAfter, _ := strconv.ParseInt(aval, 10, 64)
	return pt.issuedMs >= validAfter, nil
}

// result is a pipelined GET's value, and whether there was one.
func result(c *redis.StringCmd) (string, bool) {
	v, err := c.Result()
	return v, err == nil
}

type fillEntry struct {
	value string
	ttl   time.Duration
}

// revokeFamily ends one login: its refresh tokens in the database, its access tokens through the
// cached revocation.
func (s *Service) revokeFamily(ctx context.Context, family string) error {
	now := s.clock.Now()
	if err := s.db.WithContext(ctx).Model(&Session{}).Where("family_id = ? AND revoked_at IS NULL", family).
		Update("revoked_at", now).Error; err != nil {
		return err
	}
	s.cacheRevocation(ctx, 0, time.Time{}, []string{family})
	return nil
}

// endSessions ends every login of an account at once, inside the caller's transaction: its
// refresh tokens are revoked and access tokens issued before now are refused. The cache is
// written at once (before the commit): should the transaction fail, the account merely logs in
// again, and a check reading the database meanwhile cannot put the old state back.
func (s *Service) endSessions(ctx context.Context, tx *gorm.DB, accountID int64) error {
	now := s.clock.Now()
	var families []string
	if err := tx.WithContext(ctx).Model(&Session{}).Distinct("family_id").
		Where("account_id = ? AND revoked_at IS NULL AND expires_at > ?", accountID, now).Pluck("family_id", &families).Error; err != nil {
		return err
	}
	if err := tx.WithContext(ctx).Model(&Session{}).Where("account_id = ? AND revoked_at IS NULL", accountID).
		Update("revoked_at", now).Error; err != nil {
		return err
	}
	return s.expireAccessTokens(ctx, tx, accountID, families)
}

// expireAccessTokens refuses the access tokens of an account issued before now, inside the
// caller's transaction, and the cached state of families with them. Alone (no family), it leaves
// the logins alive: the next request refreshes, and the refresh re-reads the account.
func (s *Service) expireAccessTokens(ctx context.Context, tx *gorm.DB, accountID int64, families []string) error {
	now := s.clock.Now()
	if err := tx.WithContext(ctx).Model(&Account{}).Where("id = ?", accountID).
		Update("tokens_valid_after", now).Error; err != nil {
		return err
	}
	s.cacheRevocation(ctx, accountID, now, families)
	return nil
}

// cacheRevocation overwrites the cached state of an account (when accountID > 0) and of
// families. A failure is logged: the database already holds the revocation, and the stale entry
// expires within liveTTL.
func (s *Service) cacheRevocation(ctx context.Context, accountID int64, validAfter time.Time, families []string) {
	// Not under the breaker: a revocation is rare and worth the wait, and an open breaker would
	// skip exactly the write that makes the revocation visible to the cache.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	// Each key is written and then waited for on its own master (cache.Replicated): behind
	// Sentinel or in a cluster with replicas, a revocation acknowledged here survives the loss of
	// the master. Lost, it would leave the cached "live" of the family for up to liveTTL.
	set := map[string]string{}
	if accountID > 0 {
		set[s.accountKey(accountID)] = strconv.FormatInt(validAfter.UnixMilli(), 10)
	}
	for _, f := range families {
		set[s.familyKey(f)] = cacheRevoked
	}
	for k, v := range set {
		if s.retry.takes(k, v) {
			continue // an earlier write of k is still being retried: it writes this newer value in order
		}
		if err := s.writeRevocation(cctx, k, v, cache.ReplicaWait); err != nil {
			s.log.WarnContext(ctx, "revocation stored in the database but not (or not durably) in the cache; retrying", "err", err)
			s.retry.add(s, k, v)
		}
	}
}

// writeRevocation writes one key of a revocation and waits up to wait for a replica to hold it.
func (s *Service) writeRevocation(ctx context.Context, k, v string, wait time.Duration) error {
	return cache.Replicated(ctx, s.rdb, s.opt.RedisReplicas, wait, k, func(c *redis.Conn) error {
		return c.Set(ctx, k, v, s.deadTTL()).Err()
	})
}

// revocationRetry keeps writing the revocations that Redis did not take (down, or failing over)
// or did not replicate in time, until it does. Without it, a logout answered during a Sentinel
// failover left the family's cached "live" on the new master, and the logged-out token was
// accepted for up to liveTTL. The database holds every revocation already; this only closes the
// cache's window.
//
// A key Redis did not take is retried until any cached "live" it overrides has expired
// (liveTTL). A key on the master that no replica acknowledged (cache.ErrNotReplicated) already
// refuses the token; it is retried, waiting longer for a replica, for durableTries rounds: a
// master left without replicas (its replica was the one lost) would otherwise keep it forever.
type revocationRetry struct {
	mu      sync.Mutex
	pending map[string]*pendingRevocation
	running bool
}

type pendingRevocation struct {
	value  string
	until  time.Time
	onlyOn int // rounds the value has been on the master without a replica's acknowledgement
}

const (
	// revocationRetryEvery is the pause between rounds: a failover takes 2–3 s here.
	revocationRetryEvery = 250 * time.Millisecond
	// revocationRetryWait is how long a retry waits for a replica: longer than a request's
	// cache.ReplicaWait, as nobody waits for the answer.
	revocationRetryWait = time.Second
	// durableTries is how many rounds a value already on the master is retried for a replica.
	durableTries = 10
	// retryParallel bounds the keys written at once: each may wait revocationRetryWait, and a
	// logout storm during an outage must not make the last key wait for all the others.
	retryParallel = 16
)

// takes gives k's newer value to the retrier when an earlier value of k is still pending there,
// so that an older value retried later never overwrites it.
func (r *revocationRetry) takes(k, v string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pending[k]
	if ok {
		p.value = v
	}
	return ok
}

func (r *revocationRetry) add(s *Service, k, v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]*pendingRevocation{}
	}
	// Real time, not s.clock: how long Redis stays away is not the application's clock.
	r.pending[k] = &pendingRevocation{value: v, until: time.Now().Add(s.liveTTL())}
	if !r.running {
		r.running = true
		go r.run(s)
	}
}

// run retries the pending keys, several at once, round after round until none is left.
func (r *revocationRetry) run(s *Service) {
	for {
		time.Sleep(revocationRetryEvery)
		r.mu.Lock()
		batch := make(map[string]string, len(r.pending))
		for k, p := range r.pending {
			batch[k] = p.value
		}
		r.mu.Unlock()
		sem := make(chan struct{}, retryParallel)
		var wg sync.WaitGroup
		for k, v := range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				err := s.writeRevocation(ctx, k, v, revocationRetryWait)
				cancel()
				r.settle(s, k, v, err)
			})
		}
		wg.Wait()
		r.mu.Lock()
		if len(r.pending) == 0 {
			r.running = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
}

// settle records one retry of k with value v.
func (r *revocationRetry) settle(s *Service, k, v string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[k]
	switch {
	case p.value != v:
		// a newer value came meanwhile: written next round
	case err == nil:
		s.log.Info("revocation written to the cache on a retry", "key", k)
		delete(r.pending, k)
	case errors.Is(err, cache.ErrNotReplicated):
		if p.onlyOn++; p.onlyOn >= durableTries {
			s.log.Warn("revocation is on the Redis master, but no replica acknowledged it: a failover now would lose it from the cache", "key", k)
			delete(r.pending, k)
		}
	case time.Now().After(p.until):
		s.log.Warn("revocation never reached the cache; any cached entry it overrides has expired", "key", k, "err", err)
		delete(r.pending, k)
	}
}

// EndAccountSessions ends every login of an account at once (an administrator disabling it, say).
func (s *Service) EndAccountSessions(ctx context.Context, tx *gorm.DB, accountID int64) error {
	return s.endSessions(ctx, tx, accountID)
}

// FollowInstructor keeps an instructor's account in step with the roster, inside the roster's
// transaction (roster.Service.OnChange). One who left office is logged out everywhere. One who
// moved to another region (a transfer to another county, say) has the account's region changed,
// and the access tokens that carry the old region refused: the mini-program refreshes on the 401,
// the refresh re-reads the account, and the new county's scope applies from the next request.
func (s *Service) FollowInstructor(ctx context.Context, tx *gorm.DB, c roster.Change) error {
	var ids []int64
	if err := tx.WithContext(ctx).Model(&Account{}).Where("instructor_id = ?", c.InstructorID).Pluck("id", &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	if c.RegionCode != "" {
		if err := tx.WithContext(ctx).Model(&Account{}).Where("id IN ?", ids).
			Updates(map[string]any{"region_code": c.RegionCode, "updated_at": s.clock.Now()}).Error; err != nil {
			return err
		}
	}
	for _, id := range ids {
		var err error
		switch {
		case c.LeftOffice || c.Unbound:
			err = s.endSessions(ctx, tx, id)
		case c.RegionCode != "":
			err = s.expireAccessTokens(ctx, tx, id, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- the pair a refresh produced, for a retry of the same client ----

type sealedPair struct {
	Access    string    `json:"a"`
	Refresh   string    `json:"r"`
	ExpiresAt time.Time `json:"e"`
}

// pairBox is a box keyed by the spent refresh token: only its holder can open what was sealed
// with it, and the database holds neither the token nor the pair in the clear.
func pairBox(spent string) (*secret.Box, error) {
	k := sha256.Sum256([]byte("shiliu/reissue/v1\n" + spent))
	return secret.NewBox(base64.StdEncoding.EncodeToString(k[:]))
}

func sealPair(spent string, t Tokens, expires time.Time) (string, error) {
	b, err := pairBox(spent)
	if err != nil {
		return "", err
	}
	raw, _ := json.Marshal(sealedPair{Access: t.AccessToken, Refresh: t.RefreshToken, ExpiresAt: expires})
	return b.Encrypt(string(raw))
}

func openPair(spent, sealed string) (sealedPair, error) {
	var p sealedPair
	b, err := pairBox(spent)
	if err != nil {
		return p, err
	}
	raw, err := b.Decrypt(sealed)
	if err != nil {
		return p, err
	}
	err = json.Unmarshal([]byte(raw), &p)
	return p, err
}
