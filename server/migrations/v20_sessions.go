package migrations

import (
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gorm.io/gorm"
)

// v20Account adds what ends an account's sessions at once and what a first login must do:
// tokens issued before tokens_valid_after are refused on every request (disabling, dismissal,
// a new phone, a password change); must_change_password holds an account with an initial or
// reset password to changing it.
type v20Account struct {
	TokensValidAfter   *time.Time
	MustChangePassword bool `gorm:"not null;default:false"`
	PasswordChangedAt  *time.Time
}

func (v20Account) TableName() string { return "accounts" }

// v20Session adds the kind of a login (the mini-program's, or the console's with its idle
// limit), the client that spent a refresh token and, for a few seconds after, the pair that
// refresh produced, sealed with the spent token: a client whose answer was lost gets the same
// pair again instead of losing its session.
type v20Session struct {
	Kind       string `gorm:"size:16;not null;default:'app'"`
	ClientHash string `gorm:"size:64;not null;default:''"`
	Reissue    string `gorm:"size:2000;not null;default:''"`
}

func (v20Session) TableName() string { return "sessions" }

func v20(tx *gorm.DB, _ database.Dialect) error {
	// MySQL DDL commits at once: check first so a step re-run after a crash does not fail.
	m := tx.Migrator()
	for _, c := range []string{"TokensValidAfter", "MustChangePassword", "PasswordChangedAt"} {
		if !m.HasColumn(&v20Account{}, c) {
			if err := m.AddColumn(&v20Account{}, c); err != nil {
				return err
			}
		}
	}
	for _, c := range []string{"Kind", "ClientHash", "Reissue"} {
		if !m.HasColumn(&v20Session{}, c) {
			if err := m.AddColumn(&v20Session{}, c); err != nil {
				return err
			}
		}
	}
	return nil
}
