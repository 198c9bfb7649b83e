package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain keeps the secrets that Load generates in dev mode out of the source tree.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shiliu-config-test")
	if err != nil {
		panic(err)
	}
	os.Setenv("SHILIU_SECRETS_FILE", filepath.Join(dir, "secrets.json"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// devDefault is the default configuration with the secrets Load would have filled in dev mode.
func devDefault() Config {
	c := Default()
	c.Security.TokenSecret, c.Security.DataKey = NewSecrets()
	return c
}
