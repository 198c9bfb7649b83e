package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// Secrets a dev-mode server keeps in its data directory. A trial server is often reachable from
// a network: secrets published in the source would let anyone sign a province officer's token
// there, so each installation makes its own on first start and keeps them across restarts (the
// data key must not change, or the encrypted phone and ID numbers become unreadable).
type devSecrets struct {
	TokenSecret string `json:"token_secret"`
	DataKey     string `json:"data_key"`
}

// NewSecrets returns a random token secret and data key, as a dev server generates on first
// start and as `shiliu` tells an operator to put into a prod configuration.
func NewSecrets() (tokenSecret, dataKey string) {
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:32]), base64.StdEncoding.EncodeToString(b[32:])
}

// fillDevSecrets fills empty secrets in dev mode from the secrets file, creating it (0600) with
// fresh secrets when it does not exist. Configured secrets are left alone.
func (c *Config) fillDevSecrets() error {
	if c.Mode != "dev" || (c.Security.TokenSecret != "" && c.Security.DataKey != "") {
		return nil
	}
	path := c.Security.SecretsFile
	if path == "" {
		return errors.New("dev mode: security.token_secret and security.data_key are empty and security.secrets_file (SHILIU_SECRETS_FILE) " +
			"is not set: set the secrets, or a file where shiliu may keep generated ones")
	}
	var s devSecrets
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil || s.TokenSecret == "" || s.DataKey == "" {
			return fmt.Errorf("security.secrets_file %s is damaged (%v): restore it from a backup; deleting it makes the stored phone and ID numbers unreadable", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		s.TokenSecret, s.DataKey = NewSecrets()
		if err := writeNew(path, s); err != nil {
			return fmt.Errorf("security.secrets_file: cannot keep the generated secrets in %s: %w; "+
				"give the user running shiliu write access to its directory or set SHILIU_SECRETS_FILE", path, err)
		}
		c.Security.secretsGenerated = true
	default:
		return fmt.Errorf("security.secrets_file: %w", err)
	}
	if c.Security.TokenSecret == "" {
		c.Security.TokenSecret = s.TokenSecret
	}
	if c.Security.DataKey == "" {
		c.Security.DataKey = s.DataKey
	}
	return nil
}

// writeNew creates path with s, readable by its owner only, and fails if it exists (two servers
// starting at once must not each write their own).
func writeNew(path string, s devSecrets) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// SecretsGenerated reports whether this start created the dev secrets file.
func (s SecurityConfig) SecretsGenerated() bool { return s.secretsGenerated }

// weakness says why a secret is too weak for prod, or "" when it is not: long enough, not a
// published value, and not guessable from its own repetition (32 × "a" is 32 bytes of nothing).
// Entropy is estimated from the secret's own character frequencies: a random text secret of 32
// characters (hex, base64) scores above 100 bits and 32 random bytes about 150; a repeated
// pattern or a phrase scores far below.
func weakness(secret []byte, minBits float64, published ...[]byte) string {
	for _, p := range published {
		if string(secret) == string(p) {
			return "it is the development value published in the source"
		}
	}
	if len(secret) < 32 {
		return "it is shorter than 32 bytes"
	}
	if bits := shannonBits(secret); bits < minBits {
		return fmt.Sprintf("it is too predictable (about %.0f bits of entropy, at least %.0f needed): generate it, e.g. `openssl rand -base64 32`", bits, minBits)
	}
	return ""
}

// shannonBits is len(b) × the Shannon entropy of b's byte frequencies.
func shannonBits(b []byte) float64 {
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	var h float64
	n := float64(len(b))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h * n
}
