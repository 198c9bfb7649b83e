// Package secret protects personal data at rest: AES-256-GCM for values we must read back (phone,
// ID number) and a keyed hash beside each so they stay searchable (phone binding, duplicate checks)
// without decrypting every row.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Box encrypts and hashes with keys derived from one configured data key.
type Box struct {
	aead    cipher.AEAD
	hashKey []byte
}

// NewBox takes the base64 32-byte data key from config.
func NewBox(dataKeyB64 string) (*Box, error) {
	key, err := base64.StdEncoding.DecodeString(dataKeyB64)
	if err != nil || len(key) != 32 {
		return nil, errors.New("data key must be 32 bytes in base64")
	}
	// Separate keys for encryption and hashing, so a leak of one use does not weaken the other.
	encKey := derive(key, "shiliu/encrypt/v1")
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, hashKey: derive(key, "shiliu/blind-index/v1")}, nil
}

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Encrypt returns "v1:" + base64(nonce|ciphertext); empty stays empty.
func (b *Box) Encrypt(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), nil)
	return "v1:" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Decrypt reverses Encrypt.
func (b *Box) Decrypt(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", errors.New("secret: unknown ciphertext version")
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	ns := b.aead.NonceSize()
	if len(data) < ns {
		return "", errors.New("secret: ciphertext too short")
	}
	plain, err := b.aead.Open(nil, data[:ns], data[ns:], nil)
	if err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	return string(plain), nil
}

// Hash is the keyed blind index of a value (hex HMAC-SHA256); empty stays empty so that a NULL-able
// unique index ignores missing values.
func (b *Box) Hash(value string) string {
	if value == "" {
		return ""
	}
	m := hmac.New(sha256.New, b.hashKey)
	m.Write([]byte(strings.ToUpper(strings.TrimSpace(value))))
	return hex.EncodeToString(m.Sum(nil))
}

// MaskPhone shows a mobile number as 138****5678.
func MaskPhone(p string) string {
	if len(p) < 7 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// MaskIDNumber keeps the first 6 and last 4 characters of an ID number.
func MaskIDNumber(s string) string {
	if len(s) < 10 {
		return strings.Repeat("*", len(s))
	}
	return s[:6] + strings.Repeat("*", len(s)-10) + s[len(s)-4:]
}

// MaskName keeps the first character of a Chinese name (张**) for logs.
func MaskName(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return ""
	}
	return string(r) + strings.Repeat("*", utf8.RuneCountInString(s[size:]))
}
