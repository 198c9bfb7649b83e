package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/shiliu/shiliu/server/access"
)

// accessClaims are carried by an access token: enough to build the Principal without a database
// read on every request. Tokens live minutes, so a role or region change takes effect at the
// next refresh, which re-reads the account.
type accessClaims struct {
	Role         string `json:"role"`
	Region       string `json:"region,omitempty"`
	InstructorID int64  `json:"iid,omitempty"`
	Family       string `json:"fam"`
	// IssuedMs is the issue time in milliseconds, compared with the account's tokens-valid-after
	// (iat has whole seconds only).
	IssuedMs int64 `json:"ims,omitempty"`
	// MustChange: the token only lets the account change its password.
	MustChange bool `json:"pwc,omitempty"`
	jwt.RegisteredClaims
}

type signer struct {
	key []byte
	ttl time.Duration
}

const issuer = "shiliu"

func (s signer) sign(a Account, family string, now time.Time) (string, string, error) {
	jti, err := randomToken(12)
	if err != nil {
		return "", "", err
	}
	p := a.principal()
	c := accessClaims{
		Role: a.Role, Region: p.RegionCode, InstructorID: p.InstructorID, Family: family,
		IssuedMs: now.UnixMilli(), MustChange: a.MustChangePassword,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   strconv.FormatInt(a.ID, 10),
			ID:        jti,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.key)
	return tok, jti, err
}

// parsed is a verified access token.
type parsed struct {
	principal *access.Principal
	jti       string
	family    string
	issuedMs  int64
	expires   time.Time
}

func (s signer) parse(tok string, now time.Time) (parsed, error) {
	var c accessClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(issuer), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return parsed{}, err
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 || !access.ValidRole(c.Role) {
		return parsed{}, errors.New("token: bad subject or role")
	}
	ims := c.IssuedMs
	if ims == 0 && c.IssuedAt != nil {
		ims = c.IssuedAt.UnixMilli()
	}
	return parsed{
		principal: &access.Principal{AccountID: id, Role: access.Role(c.Role), RegionCode: c.Region, InstructorID: c.InstructorID,
			MustChangePassword: c.MustChange},
		jti: c.ID, family: c.Family, issuedMs: ims, expires: c.ExpiresAt.Time,
	}, nil
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// GeneratePassword makes a 16-character password without look-alike characters, with lower
// case, upper case and digits (the password rule), for one-time passwords and the CLI.
func GeneratePassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
	for {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		for i := range b {
			b[i] = alphabet[int(b[i])%len(alphabet)]
		}
		if passwordKinds(string(b)) == 3 {
			return string(b), nil
		}
	}
}
