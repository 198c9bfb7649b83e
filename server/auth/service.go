package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/platform/breaker"
	"github.com/shiliu/shiliu/server/platform/clock"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/wechat"
	"github.com/shiliu/shiliu/server/region"
	"github.com/shiliu/shiliu/server/roster"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// WeChat is what auth needs from the WeChat gateway.
type WeChat interface {
	Code2Session(ctx context.Context, code string) (wechat.Session, error)
	PhoneNumber(ctx context.Context, code string) (string, error)
}

// Options configure the service.
type Options struct {
	TokenSecret     string
	AccessTTL       time.Duration
	RefreshTTL      time.Duration
	BcryptCost      int
	MaxLoginFails   int
	LockoutDuration time.Duration
	LoginPerMinute  int
	RedisPrefix     string
	// RedisReplicas is how many Redis replicas a revocation written to the cache waits for
	// (cache.Redis.WaitReplicas).
	RedisReplicas int
	// CheckTimeout bounds the Redis read of the revocation check on each request (default
	// 150 ms); BreakerCooldown is how long a Redis that did not answer is left alone (default 5 s).
	CheckTimeout    time.Duration
	BreakerCooldown time.Duration
	// RefreshGrace is how long a spent refresh token, presented again by the client that spent
	// it, gets the same new pair instead of ending the login (default 10 s).
	RefreshGrace time.Duration
	// ConsoleIdle ends a console login that has not refreshed for this long (default 30 min).
	ConsoleIdle time.Duration
	Bind        BindLimits
}

// Service authenticates callers.
type Service struct {
	db      *gorm.DB
	rdb     redis.UniversalClient
	roster  *roster.Service
	regions *region.Store
	wx      WeChat
	clock   clock.Clock
	log     *slog.Logger
	signer  signer
	opt     Options
	dummy   []byte
	breaker *breaker.Breaker
	retry   revocationRetry
}

// NewService wires auth.
func NewService(db *gorm.DB, rdb redis.UniversalClient, rs *roster.Service, regions *region.Store, wx WeChat, clk clock.Clock, log *slog.Logger, opt Options) *Service {
	// A hash to compare against when the username does not exist, so a wrong username takes as
	// long as a wrong password and does not reveal which accounts exist.
	dummy, _ := bcrypt.GenerateFromPassword([]byte("shiliu-dummy-password"), opt.BcryptCost)
	if opt.CheckTimeout <= 0 {
		opt.CheckTimeout = 150 * time.Millisecond
	}
	if opt.BreakerCooldown <= 0 {
		opt.BreakerCooldown = 5 * time.Second
	}
	if opt.RefreshGrace <= 0 {
		opt.RefreshGrace = 10 * time.Second
	}
	if opt.ConsoleIdle <= 0 {
		opt.ConsoleIdle = 30 * time.Minute
	}
	// Wall time, not the injectable clock: the breaker measures how long Redis was left alone.
	br := breaker.New("redis (token revocation check)", 3, opt.BreakerCooldown, nil, log)
	return &Service{db: db, rdb: rdb, roster: rs, regions: regions, wx: wx, clock: clk, log: log,
		signer: signer{key: []byte(opt.TokenSecret), ttl: opt.AccessTTL}, opt: opt, dummy: dummy, breaker: br}
}

var (
	errBadCredentials = apperr.New(http.StatusUnauthorized, "invalid_credentials", "用户名或密码错误")
	errTokenInvalid   = apperr.New(http.StatusUnauthorized, "token_invalid", "登录已失效,请重新登录")
	errRefreshInvalid = apperr.New(http.StatusUnauthorized, "refresh_invalid", "登录已过期,请重新登录")
	errRefreshReused  = apperr.New(http.StatusUnauthorized, "refresh_reused", "登录凭证已在别处使用,为安全起见请重新登录")
	errDisabled       = apperr.New(http.StatusForbidden, "account_disabled", "账号已停用,请联系管理员")
	errSessionIdle    = apperr.New(http.StatusUnauthorized, "session_idle", "长时间未操作,请重新输入密码登录")
	errRedisDown      = apperr.Unavailable("服务暂时不可用(缓存服务异常),请稍后重试")
)

func (s *Service) key(parts ...string) string {
	return s.opt.RedisPrefix + strings.Join(parts, ":")
}

// ---- password login ----

// PasswordLogin logs a staff member in from the mini-program. Repeated failures lock the account
// for a while; attempts per client address are rate limited.
func (s *Service) PasswordLogin(ctx context.Context, username, password, clientIP string) (Tokens, error) {
	return s.passwordLogin(ctx, username, password, clientIP, KindApp)
}

// ConsoleLogin logs a staff member or administrator into the web console: the same checks, a
// login of the console kind (refresh token in a cookie, idle limit).
func (s *Service) ConsoleLogin(ctx context.Context, username, password, clientIP string) (Tokens, error) {
	return s.passwordLogin(ctx, username, password, clientIP, KindConsole)
}

func (s *Service) passwordLogin(ctx context.Context, username, password, clientIP, kind string) (Tokens, error) {
	if username == "" || password == "" {
		e := apperr.Invalid("请输入用户名和密码")
		if username == "" {
			e = e.WithField("username", "用户名不能为空")
		}
		if password == "" {
			e = e.WithField("password", "密码不能为空")
		}
		return Tokens{}, e
	}
	if len(username) > 64 || len(password) > 128 {
		return Tokens{}, errBadCredentials
	}
	if err := s.limitAttempts(ctx, clientIP); err != nil {
		return Tokens{}, err
	}
	var a Account
	err := s.db.WithContext(ctx).Where("username = ?", username).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Tokens{}, s.unknownUsername(ctx, username, password)
	}
	if err != nil {
		return Tokens{}, err
	}
	now := s.clock.Now()
	if err := s.countAttempt(ctx, a.ID, now); err != nil {
		return Tokens{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil {
		return Tokens{}, errBadCredentials
	}
	if a.Status != AccountActive {
		return Tokens{}, errDisabled
	}
	if err := s.db.WithContext(ctx).Model(&Account{}).Where("id = ?", a.ID).
		Updates(map[string]any{"failed_logins": 0, "locked_until": nil, "last_login_at": now}).Error; err != nil {
		return Tokens{}, err
	}
	a.LastLoginAt = &now
	return s.issue(ctx, s.db, a, "", kind)
}

// limitAttempts counts password attempts per client address per minute. Without Redis the limit
// is skipped (logged): the per-account lockout in the database still holds.
func (s *Service) limitAttempts(ctx context.Context, ip string) error {
	if s.opt.LoginPerMinute <= 0 {
		return nil
	}
	k := s.key("login", ip, s.clock.Now().Format("200601021504"))
	n, err := s.rdb.Incr(ctx, k).Result()
	if err != nil {
		s.log.WarnContext(ctx, "login rate limit unavailable", "err", err)
		return nil
	}
	if n == 1 {
		s.rdb.Expire(ctx, k, 2*time.Minute)
	}
	if n > int64(s.opt.LoginPerMinute) {
		return apperr.RateLimited("登录尝试过于频繁,请稍后再试")
	}
	return nil
}

// ---- tokens ----

func (s *Service) issue(ctx context.Context, db *gorm.DB, a Account, family, kind string) (Tokens, error) {
	now := s.clock.Now()
	if family == "" {
		f, err := randomToken(12)
		if err != nil {
			return Tokens{}, err
		}
		family = f
	}
	refresh, err := randomToken(32)
	if err != nil {
		return Tokens{}, err
	}
	if err := db.WithContext(ctx).Create(&Session{FamilyID: family, AccountID: a.ID, TokenHash: hashToken(refresh),
		ExpiresAt: now.Add(s.opt.RefreshTTL), Kind: kind, CreatedAt: now}).Error; err != nil {
		return Tokens{}, err
	}
	at, _, err := s.signer.sign(a, family, now)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: at, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: int(s.opt.AccessTTL.Seconds()), User: a.View()}, nil
}

// Authenticate verifies an access token and returns its principal. A token whose login ended, or
// issued before its account's sessions were ended, is refused, whatever Redis remembers.
func (s *Service) Authenticate(ctx context.Context, token string) (*access.Principal, error) {
	pt, err := s.signer.parse(token, s.clock.Now())
	if err != nil {
		return nil, errTokenInvalid
	}
	alive, err := s.tokenAlive(ctx, pt)
	if err != nil {
		return nil, err
	}
	if !alive {
		return nil, errTokenInvalid
	}
	return pt.principal, nil
}

// Refresh spends a mini-program refresh token and returns new tokens. A token spent twice means
// it was copied: the whole family is revoked; except that the client that spent it, presenting it
// again within seconds (its answer was lost), gets the same new pair.
func (s *Service) Refresh(ctx context.Context, refresh string, client Client) (Tokens, error) {
	return s.refresh(ctx, refresh, client, KindApp)
}

// ConsoleRefresh is Refresh for the console's cookie; a console login that has not refreshed for
// the idle limit ends, and the password is needed again.
func (s *Service) ConsoleRefresh(ctx context.Context, refresh string, client Client) (Tokens, error) {
	return s.refresh(ctx, refresh, client, KindConsole)
}

func (s *Service) refresh(ctx context.Context, refresh string, client Client, kind string) (Tokens, error) {
	if refresh == "" {
		return Tokens{}, apperr.Field("refresh_token", "refresh_token不能为空")
	}
	var out Tokens
	var revoke string
	err := database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		revoke = "" // a retried attempt starts afresh
		var sess Session
		// Locked: a concurrent retry of the same token waits here and then sees it spent, with
		// the pair to hand out again.
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("token_hash = ?", hashToken(refresh)).Take(&sess).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errRefreshInvalid
		}
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || sess.Kind != kind {
			// An open console whose account was disabled meanwhile says so: the officer
			// should call the administrator, not retype the password.
			if sess.RevokedAt != nil && sess.Kind == KindConsole && kind == KindConsole {
				var status string
				if err := tx.Model(&Account{}).Where("id = ?", sess.AccountID).Pluck("status", &status).Error; err == nil && status == AccountDisabled {
					return errDisabled
				}
			}
			return errRefreshInvalid
		}
		if sess.UsedAt != nil {
			again, ok, err := s.reissued(ctx, tx, sess, refresh, client, now)
			if err != nil {
				return err
			}
			if ok {
				out = again
				return nil
			}
			revoke = sess.FamilyID
			return errRefreshReused
		}
		if kind == KindConsole && now.Sub(sess.CreatedAt) > s.opt.ConsoleIdle {
			revoke = sess.FamilyID
			return errSessionIdle
		}
		res := tx.Model(&Session{}).Where("id = ? AND used_at IS NULL", sess.ID).
			Updates(map[string]any{"used_at": now, "client_hash": client.hash()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			revoke = sess.FamilyID
			return errRefreshReused
		}
		var a Account
		if err := tx.Where("id = ?", sess.AccountID).Take(&a).Error; err != nil {
			return err
		}
		if a.Status != AccountActive {
			return errDisabled
		}
		if err := checkInstructorActive(ctx, tx, a); err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, a, sess.FamilyID, kind)
		if err != nil {
			return err
		}
		sealed, err := sealPair(refresh, out, now.Add(s.opt.AccessTTL))
		if err != nil {
			return err
		}
		return tx.Model(&Session{}).Where("id = ?", sess.ID).Update("reissue", sealed).Error
	})
	if revoke != "" {
		if rerr := s.revokeFamily(ctx, revoke); rerr != nil {
			return Tokens{}, rerr
		}
	}
	return out, err
}

// reissued is the pair a spent token produced, when the same client presents it again within the
// grace period and that pair has not been used or ended since.
func (s *Service) reissued(ctx context.Context, tx *gorm.DB, sess Session, refresh string, client Client, now time.Time) (Tokens, bool, error) {
	if sess.Reissue == "" || sess.ClientHash != client.hash() || now.Sub(*sess.UsedAt) > s.opt.RefreshGrace {
		return Tokens{}, false, nil
	}
	pair, err := openPair(refresh, sess.Reissue)
	if err != nil {
		return Tokens{}, false, nil
	}
	var next Session
	err = tx.Where("token_hash = ?", hashToken(pair.Refresh)).Take(&next).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Tokens{}, false, nil
	}
	if err != nil {
		return Tokens{}, false, err
	}
	if next.UsedAt != nil || next.RevokedAt != nil {
		return Tokens{}, false, nil
	}
	var a Account
	if err := tx.Where("id = ?", sess.AccountID).Take(&a).Error; err != nil {
		return Tokens{}, false, err
	}
	if a.Status != AccountActive {
		return Tokens{}, false, errDisabled
	}
	return Tokens{AccessToken: pair.Access, RefreshToken: pair.Refresh, TokenType: "Bearer",
		ExpiresIn: max(0, int(pair.ExpiresAt.Sub(now).Seconds())), User: a.View()}, true, nil
}

// Logout ends the session family of the given access token.
func (s *Service) Logout(ctx context.Context, token string) error {
	pt, err := s.signer.parse(token, s.clock.Now())
	if err != nil {
		return errTokenInvalid
	}
	return s.revokeFamily(ctx, pt.family)
}

// ConsoleLogout ends the console login of a refresh cookie, or failing that (the cookie is gone
// or stale) of an access token. Neither is an error: the browser is logged out either way.
func (s *Service) ConsoleLogout(ctx context.Context, refresh, token string) error {
	if refresh != "" {
		var sess Session
		err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(refresh)).Take(&sess).Error
		if err == nil {
			return s.revokeFamily(ctx, sess.FamilyID)
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
	}
	if pt, err := s.signer.parse(token, s.clock.Now()); err == nil {
		return s.revokeFamily(ctx, pt.family)
	}
	return nil
}

// Account returns the account of a principal.
func (s *Service) Account(ctx context.Context, id int64) (Account, error) {
	var a Account
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return a, errTokenInvalid
	}
	return a, err
}

// checkInstructorActive refuses a login of an instructor who is no longer in office. It reads
// through db, the caller's transaction when there is one: on SQLite's single connection a query
// outside the transaction would wait for it forever.
func checkInstructorActive(ctx context.Context, db *gorm.DB, a Account) error {
	if a.InstructorID == nil {
		return nil
	}
	var ins roster.Instructor
	if err := db.WithContext(ctx).Select("id", "status").Where("id = ?", *a.InstructorID).Take(&ins).Error; err != nil {
		return err
	}
	if ins.Status != roster.StatusActive {
		return apperr.New(http.StatusForbidden, "instructor_inactive", "您已不在任,无法登录,请联系县级民族工作部门")
	}
	return nil
}

// ---- accounts (CLI and admin) ----

// CreateUser creates a staff or admin account with a password.
func (s *Service) CreateUser(ctx context.Context, username, role, regionCode, password, displayName string) (Account, error) {
	r := access.Role(role)
	switch {
	case !access.ValidRole(role) || r == access.RoleInstructor:
		return Account{}, apperr.Field("role", "角色应为 county_staff、city_staff、province_staff、admin、security_admin 或 audit_admin")
	case len(username) < 3 || len(username) > 64:
		return Account{}, apperr.Field("username", "用户名应为3到64个字符")
	}
	if err := CheckPassword("password", password, username); err != nil {
		return Account{}, err
	}
	code, ok := region.Normalize(regionCode)
	if !ok {
		return Account{}, apperr.Field("region", "行政区划代码无效")
	}
	if _, err := s.regions.Get(ctx, code); err != nil {
		return Account{}, apperr.Field("region", "行政区划不存在")
	}
	if region.LevelOf(code) != r.StaffLevel() {
		return Account{}, apperr.Field("region", fmt.Sprintf("%s应绑定到%s级行政区划", role, region.LevelName(r.StaffLevel())))
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.opt.BcryptCost)
	if err != nil {
		return Account{}, err
	}
	if displayName == "" {
		displayName = username
	}
	now := s.clock.Now()
	a := Account{Username: &username, PasswordHash: string(hash), Role: role, RegionCode: code,
		DisplayName: displayName, Status: AccountActive, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&a).Error; err != nil {
		if database.IsUniqueViolation(err) {
			return Account{}, apperr.New(http.StatusConflict, "username_taken", "用户名已存在").WithField("username", "用户名已存在")
		}
		return Account{}, err
	}
	return a, nil
}

// ---- WeChat login and binding ----

// LoginResult is either tokens (a bound user) or a bind ticket (an unknown WeChat user).
type LoginResult struct {
	Tokens     *Tokens
	BindTicket string
	ExpiresIn  int
}

type bindState struct {
	OpenID  string `json:"openid"`
	UnionID string `json:"unionid"`
}

const bindTTL = 15 * time.Minute

// WeChatLogin exchanges a wx.login code. The session_key stays on the server.
func (s *Service) WeChatLogin(ctx context.Context, code string) (LoginResult, error) {
	if strings.TrimSpace(code) == "" {
		return LoginResult{}, apperr.Field("code", "登录凭证code不能为空")
	}
	sess, err := s.wx.Code2Session(ctx, code)
	if err != nil {
		return LoginResult{}, wechatError(err, "code")
	}
	var a Account
	err = s.db.WithContext(ctx).Where("openid = ?", sess.OpenID).Take(&a).Error
	if err == nil {
		if a.Status != AccountActive {
			return LoginResult{}, errDisabled
		}
		if err := checkInstructorActive(ctx, s.db, a); err != nil {
			return LoginResult{}, err
		}
		now := s.clock.Now()
		if err := s.db.WithContext(ctx).Model(&Account{}).Where("id = ?", a.ID).Update("last_login_at", now).Error; err != nil {
			return LoginResult{}, err
		}
		a.LastLoginAt = &now
		t, err := s.issue(ctx, s.db, a, "", KindApp)
		if err != nil {
			return LoginResult{}, err
		}
		s.keepSessionKey(ctx, sess)
		return LoginResult{Tokens: &t}, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return LoginResult{}, err
	}
	ticket, err := randomToken(24)
	if err != nil {
		return LoginResult{}, err
	}
	b, _ := json.Marshal(bindState{OpenID: sess.OpenID, UnionID: sess.UnionID})
	if err := s.rdb.Set(ctx, s.key("bind", hashToken(ticket)), b, bindTTL).Err(); err != nil {
		s.log.ErrorContext(ctx, "store bind ticket", "err", err)
		return LoginResult{}, errRedisDown
	}
	s.keepSessionKey(ctx, sess)
	return LoginResult{BindTicket: ticket, ExpiresIn: int(bindTTL.Seconds())}, nil
}

// keepSessionKey keeps the session_key server-side for the old encrypted-data flows; it is never
// sent to the client or logged.
func (s *Service) keepSessionKey(ctx context.Context, sess wechat.Session) {
	if sess.SessionKey == "" {
		return
	}
	if err := s.rdb.Set(ctx, s.key("wxsk", sess.OpenID), sess.SessionKey, 72*time.Hour).Err(); err != nil {
		s.log.WarnContext(ctx, "could not keep session key", "err", err)
	}
}

// ticket reads the WeChat identity behind a bind ticket without spending it.
func (s *Service) ticket(ctx context.Context, ticket string) (bindState, error) {
	if ticket == "" {
		return bindState{}, errTicket
	}
	raw, err := s.rdb.Get(ctx, s.key("bind", hashToken(ticket))).Bytes()
	if errors.Is(err, redis.Nil) {
		return bindState{}, errTicket
	}
	if err != nil {
		s.log.ErrorContext(ctx, "read bind ticket", "err", err)
		return bindState{}, errRedisDown
	}
	if string(raw) == usedTicket {
		return bindState{}, errTicketUsed
	}
	var st bindState
	if err := json.Unmarshal(raw, &st); err != nil || st.OpenID == "" {
		return bindState{}, errTicket
	}
	return st, nil
}

// TicketOpenID returns the openid of the WeChat user behind a bind ticket, leaving the ticket
// valid: a WeChat user who is not on the roster nominates themselves with it and binds later.
func (s *Service) TicketOpenID(ctx context.Context, ticket string) (string, error) {
	st, err := s.ticket(ctx, ticket)
	return st.OpenID, err
}

// BindStaffWeChat links a logged-in staff account to the WeChat user behind a wx.login code, so
// tip alerts can reach the officer as subscribe messages and the officer can later log in to the
// mini-program with WeChat alone. Binding again with another WeChat user replaces the link.
func (s *Service) BindStaffWeChat(ctx context.Context, p *access.Principal, code string) (AccountView, error) {
	if !p.IsStaff() {
		return AccountView{}, apperr.Forbidden("指导员请通过邀请码或手机号绑定微信")
	}
	if strings.TrimSpace(code) == "" {
		return AccountView{}, apperr.Field("code", "登录凭证code不能为空")
	}
	sess, err := s.wx.Code2Session(ctx, code)
	if err != nil {
		return AccountView{}, wechatError(err, "code")
	}
	openid := sess.OpenID
	err = s.db.WithContext(ctx).Model(&Account{}).Where("id = ?", p.AccountID).
		Updates(map[string]any{"openid": &openid, "unionid": sess.UnionID, "updated_at": s.clock.Now()}).Error
	if err != nil {
		return AccountView{}, s.bindConflict(err)
	}
	s.keepSessionKey(ctx, sess)
	a, err := s.Account(ctx, p.AccountID)
	if err != nil {
		return AccountView{}, err
	}
	return a.View(), nil
}

// BindInput binds a WeChat user to the roster with an invite code or a phone code.
type BindInput struct {
	BindTicket string
	InviteCode string
	PhoneCode  string
	// ClientIP is where the request came from, for the limit on wrong invite codes.
	ClientIP string
}

var errTicket = apperr.New(http.StatusUnauthorized, "bind_ticket_invalid", "绑定已超时,请重新进入小程序登录").WithField("bind_ticket", "绑定凭证无效或已过期")

// errTicketUsed answers a ticket that already bound someone: timing out is not what happened.
var errTicketUsed = apperr.New(http.StatusUnauthorized, "bind_ticket_invalid", "该绑定凭证已使用,请重新进入小程序登录").WithField("bind_ticket", "绑定凭证已使用")

// usedTicket replaces a spent ticket's identity until the ticket would have expired.
const usedTicket = "used"

// Bind attaches the WeChat identity behind a bind ticket to an instructor and logs them in.
func (s *Service) Bind(ctx context.Context, in BindInput) (_ Tokens, err error) {
	var v []apperr.FieldError
	if in.BindTicket == "" {
		v = append(v, apperr.FieldError{Field: "bind_ticket", Message: "绑定凭证不能为空"})
	}
	if (in.InviteCode == "") == (in.PhoneCode == "") {
		v = append(v, apperr.FieldError{Field: "invite_code", Message: "请填写邀请码,或使用手机号快捷绑定(二选一)"})
	}
	if len(v) > 0 {
		e := apperr.Invalid("提交的内容有误:" + v[0].Message)
		e.Details = v
		return Tokens{}, e
	}
	st, err := s.ticket(ctx, in.BindTicket)
	if err != nil {
		return Tokens{}, err
	}
	if in.PhoneCode == "" {
		try, terr := s.startBind(ctx, in.BindTicket, st.OpenID, in.ClientIP)
		if terr != nil {
			return Tokens{}, terr
		}
		defer func() { try.settle(ctx, in.BindTicket, err) }()
	}

	var phoneIns *roster.Instructor
	if in.PhoneCode != "" {
		phone, err := s.wx.PhoneNumber(ctx, in.PhoneCode)
		if err != nil {
			return Tokens{}, wechatError(err, "phone_code")
		}
		ins, err := s.roster.UnscopedActiveByPhone(ctx, phone)
		if err != nil {
			return Tokens{}, err
		}
		phoneIns = &ins
	}

	var out Tokens
	err = database.Transact(ctx, s.db, func(tx *gorm.DB) error {
		var ins roster.Instructor
		if phoneIns != nil {
			ins = *phoneIns
		} else {
			var err error
			if ins, err = s.roster.RedeemInvite(tx, in.InviteCode); err != nil {
				return err
			}
		}
		now := s.clock.Now()
		var a Account
		err := tx.Where("instructor_id = ?", ins.ID).Take(&a).Error
		switch {
		case err == nil && a.OpenID != nil && *a.OpenID == st.OpenID:
			// Already bound to this very WeChat user (a retried bind): just log in.
		case err == nil && phoneIns != nil && a.OpenID != nil:
			return apperr.New(http.StatusConflict, "instructor_already_bound", "该指导员已绑定其他微信号,更换微信请向县级民族工作部门申请新的邀请码")
		case err == nil:
			// A fresh invite code for a bound instructor moves the binding to a new WeChat
			// account (a new phone): the old one's sessions end. An instructor the county
			// unbound keeps the account without a link, and binds it again here.
			openid := st.OpenID
			if err := tx.Model(&Account{}).Where("id = ?", a.ID).Updates(map[string]any{
				"openid": &openid, "unionid": st.UnionID, "updated_at": now}).Error; err != nil {
				return s.bindConflict(err)
			}
			if err := s.endSessions(ctx, tx, a.ID); err != nil {
				return err
			}
			a.OpenID = &openid
		case errors.Is(err, gorm.ErrRecordNotFound):
			openid, iid := st.OpenID, ins.ID
			a = Account{Role: string(access.RoleInstructor), RegionCode: ins.RegionCode, InstructorID: &iid,
				OpenID: &openid, UnionID: st.UnionID, DisplayName: ins.Name, Status: AccountActive,
				CreatedAt: now, UpdatedAt: now, LastLoginAt: &now}
			if err := tx.Create(&a).Error; err != nil {
				return s.bindConflict(err)
			}
		default:
			return err
		}
		var ierr error
		out, ierr = s.issue(ctx, tx, a, "", KindApp)
		return ierr
	})
	if err != nil {
		return Tokens{}, err
	}
	s.rdb.Set(ctx, s.key("bind", hashToken(in.BindTicket)), usedTicket, redis.KeepTTL)
	return out, nil
}

func (s *Service) bindConflict(err error) error {
	if database.IsUniqueViolation(err) {
		return apperr.New(http.StatusConflict, "wechat_already_bound", "该微信号已绑定其他账号")
	}
	return err
}

// wechatError turns a WeChat failure into what the phone should show.
func wechatError(err error, field string) error {
	var ae *wechat.APIError
	if errors.As(err, &ae) {
		switch ae.Code {
		case 40029, 40163:
			return apperr.New(http.StatusBadRequest, "wechat_code_invalid", "微信登录凭证无效或已使用,请重新操作").WithField(field, "凭证无效或已过期").Wrap(err)
		case 45011:
			return apperr.RateLimited("微信接口调用过于频繁,请稍后再试").Wrap(err)
		case 40226:
			return apperr.New(http.StatusForbidden, "wechat_user_blocked", "微信账号存在风险,暂时无法登录").Wrap(err)
		}
	}
	if errors.Is(err, wechat.ErrNotConfigured) {
		return errWeChatNotConfigured.Wrap(err)
	}
	return apperr.New(http.StatusBadGateway, "wechat_unavailable", "微信服务暂时不可用,请稍后重试").Wrap(err)
}

// errWeChatNotConfigured is a server set up without a mini-program: waiting will not help, the
// operator must configure it.
var errWeChatNotConfigured = apperr.New(http.StatusServiceUnavailable, "wechat_not_configured",
	"服务器未配置微信小程序(wechat.appid、wechat.secret,即 SHILIU_WECHAT_APPID、SHILIU_WECHAT_SECRET),暂不能微信登录,请联系管理员")
