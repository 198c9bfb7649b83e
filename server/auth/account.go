// Package auth is accounts and sessions: staff password login with lockout, WeChat mini-program
// login and binding to the roster, short-lived access tokens with rotating refresh tokens, and the
// Principal every request is scoped by.
package auth

import (
	"time"

	"github.com/shiliu/shiliu/server/access"
	"github.com/shiliu/shiliu/server/platform/clock"
)

// Account statuses.
const (
	AccountActive   = "active"
	AccountDisabled = "disabled"
)

// Account is a staff login or a bound instructor's WeChat identity.
type Account struct {
	ID           int64
	Username     *string
	PasswordHash string
	Role         string
	RegionCode   string
	InstructorID *int64
	OpenID       *string `gorm:"column:openid"`
	UnionID      string  `gorm:"column:unionid"`
	DisplayName  string
	Status       string
	FailedLogins int
	LockedUntil  *time.Time
	LastLoginAt  *time.Time
	// OnDuty: staff alerts go to those on duty, or to everyone of the level when nobody is.
	OnDuty bool
	// TokensValidAfter: access tokens issued before it are refused (the account was disabled,
	// its instructor left office, its WeChat moved to a new phone, its password changed).
	TokensValidAfter *time.Time
	// MustChangePassword: the password was set by someone else (a new account, a reset); the
	// account may do nothing but change it.
	MustChangePassword bool
	PasswordChangedAt  *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

func (Account) TableName() string { return "accounts" }

// Session is one refresh token. Tokens of one login form a family; a refresh spends the token
// and issues the next one in the family.
type Session struct {
	ID        int64
	FamilyID  string
	AccountID int64
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	// Kind is the kind of login: KindApp (the mini-program) or KindConsole (a browser, with
	// the refresh token in a cookie and an idle limit).
	Kind string
	// ClientHash identifies the client that spent the token; Reissue is the pair that refresh
	// produced, sealed with the spent token, handed out again to the same client for a few
	// seconds (its answer may have been lost).
	ClientHash string
	Reissue    string
	CreatedAt  time.Time
}

// Kinds of login.
const (
	KindApp     = "app"
	KindConsole = "console"
)

func (Session) TableName() string { return "sessions" }

func (a Account) principal() *access.Principal {
	p := &access.Principal{AccountID: a.ID, Role: access.Role(a.Role), RegionCode: a.RegionCode, MustChangePassword: a.MustChangePassword}
	if a.InstructorID != nil {
		p.InstructorID = *a.InstructorID
	}
	return p
}

// AccountView is an account as /me and login responses show it.
type AccountView struct {
	ID           int64      `json:"id"`
	Role         string     `json:"role"`
	Username     string     `json:"username,omitempty"`
	DisplayName  string     `json:"display_name"`
	RegionCode   string     `json:"region_code,omitempty"`
	InstructorID int64      `json:"instructor_id,omitempty"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
	// OnDuty is shown for county, city and province staff only.
	OnDuty *bool `json:"on_duty,omitempty"`
	// MustChangePassword: shown (true) when the account must change its initial or reset
	// password before anything else.
	MustChangePassword bool `json:"must_change_password,omitempty"`
}

func (a Account) View() AccountView {
	v := AccountView{ID: a.ID, Role: a.Role, DisplayName: a.DisplayName, RegionCode: a.RegionCode, LastLoginAt: clock.LocalPtr(a.LastLoginAt),
		MustChangePassword: a.MustChangePassword}
	if a.Username != nil {
		v.Username = *a.Username
	}
	if a.InstructorID != nil {
		v.InstructorID = *a.InstructorID
	}
	if r := access.Role(a.Role); r.StaffLevel() > 0 && !r.IsAdministrator() {
		on := a.OnDuty
		v.OnDuty = &on
	}
	return v
}

// Tokens is what a successful login or refresh returns.
type Tokens struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    int         `json:"expires_in"`
	User         AccountView `json:"user"`
}
