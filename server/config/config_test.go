package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestEnvironmentOverridesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("http:\n  addr: \":9000\"\ndatabase:\n  dsn: sqlite:file.db\nsecurity:\n  access_token_ttl: 5m\n"), 0o600)
	t.Setenv("SHILIU_HTTP_ADDR", ":9100")
	t.Setenv("SHILIU_REDIS_URL", "redis://127.0.0.1:6379/2")
	t.Setenv("SHILIU_SECRETS_FILE", filepath.Join(t.TempDir(), "secrets.json"))
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":9100" || c.Database.DSN != "sqlite:file.db" || c.Redis.URL != "redis://127.0.0.1:6379/2" || c.Security.AccessTokenTTL != 5*time.Minute {
		t.Fatalf("config: %+v", c)
	}
	if c.Security.TokenSecret == "" || c.Security.DataKey == "" {
		t.Fatal("dev mode should fill the secrets")
	}
}

// A dev server makes its own secrets on first start, keeps them (owner-only) in its data
// directory and reads the same ones on the next start; it never uses the published values.
func TestDevModeGeneratesSecretsOnceAndKeepsThem(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "secrets.json")
	t.Setenv("SHILIU_SECRETS_FILE", file)
	first, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Security.SecretsGenerated() {
		t.Fatal("the first start did not say it generated secrets")
	}
	if first.Security.TokenSecret == DevTokenSecret || first.Security.DataKey == DevDataKey() {
		t.Fatal("dev mode still uses the published secrets")
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v %v", st, err)
	}
	second, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if second.Security.SecretsGenerated() || second.Security.TokenSecret != first.Security.TokenSecret || second.Security.DataKey != first.Security.DataKey {
		t.Fatal("the second start did not reuse the kept secrets")
	}
	// Another installation gets other secrets.
	t.Setenv("SHILIU_SECRETS_FILE", filepath.Join(t.TempDir(), "secrets.json"))
	other, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if other.Security.TokenSecret == first.Security.TokenSecret || other.Security.DataKey == first.Security.DataKey {
		t.Fatal("two installations share secrets")
	}
	// A damaged file stops the start instead of silently making new keys.
	os.WriteFile(file, []byte("{"), 0o600)
	t.Setenv("SHILIU_SECRETS_FILE", file)
	if _, err := Load(""); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged secrets file: %v", err)
	}
}

// Prod refuses secrets that are long enough but guessable, not only the published ones.
func TestProdRefusesWeakSecrets(t *testing.T) {
	token, key := NewSecrets()
	base := map[string]string{"SHILIU_MODE": "prod", "SHILIU_TOKEN_SECRET": token, "SHILIU_DATA_KEY": key,
		"SHILIU_WECHAT_APPID": "wx1", "SHILIU_WECHAT_SECRET": "s", "SHILIU_REDIS_URL": "redis://r:6379/0",
		"SHILIU_DATABASE_DSN": "mysql://shiliu:pw@db:3306/shiliu"}
	for _, tc := range []struct{ name, key, value, want string }{
		{"32 × a", "SHILIU_TOKEN_SECRET", strings.Repeat("a", 32), "token_secret"},
		{"a repeated pattern", "SHILIU_TOKEN_SECRET", strings.Repeat("ab12", 10), "token_secret"},
		{"a short one", "SHILIU_TOKEN_SECRET", "s3cr3t-Pa55word", "token_secret"},
		{"an all-zero data key", "SHILIU_DATA_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "data_key"},
		{"a counting data key", "SHILIU_DATA_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "data_key"},
		{"a weak download-link secret", "SHILIU_UPLOADS_URL_SECRET", strings.Repeat("x", 40), "url_secret"},
	} {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		m[tc.key] = tc.value
		c := Default()
		if err := c.applyEnv(env(m)); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: prod accepted it: %v", tc.name, err)
		}
	}
}

func TestUnknownKeysAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("htp:\n  addr: x\n"), 0o600)
	if _, err := Load(path); err == nil {
		t.Fatal("a misspelt key must not be ignored")
	}
}

func TestProdRefusesMissingOrDefaultSecrets(t *testing.T) {
	c := Default()
	if err := c.applyEnv(env(map[string]string{"SHILIU_MODE": "prod"})); err != nil {
		t.Fatal(err)
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("prod started without secrets")
	}
	for _, want := range []string{"token_secret", "data_key", "wechat.appid", "redis.url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
	c = Default()
	c.applyEnv(env(map[string]string{"SHILIU_MODE": "prod", "SHILIU_TOKEN_SECRET": DevTokenSecret, "SHILIU_DATA_KEY": DevDataKey(),
		"SHILIU_WECHAT_APPID": "wx1", "SHILIU_WECHAT_SECRET": "s", "SHILIU_REDIS_URL": "redis://r:6379/0"}))
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "token_secret") {
		t.Fatalf("prod accepted the public dev secrets: %v", err)
	}
	c = Default()
	token, key := NewSecrets()
	c.applyEnv(env(map[string]string{"SHILIU_MODE": "prod", "SHILIU_TOKEN_SECRET": token,
		"SHILIU_DATA_KEY":     key,
		"SHILIU_WECHAT_APPID": "wx1", "SHILIU_WECHAT_SECRET": "s", "SHILIU_REDIS_URL": "redis://r:6379/0",
		"SHILIU_DATABASE_DSN": "mysql://shiliu:pw@db:3306/shiliu"}))
	if err := c.Validate(); err != nil {
		t.Fatalf("good prod config refused: %v", err)
	}
}

func TestBadEnvironmentValues(t *testing.T) {
	c := Default()
	if err := c.applyEnv(env(map[string]string{"SHILIU_ACCESS_TOKEN_TTL": "soon", "SHILIU_BCRYPT_COST": "x"})); err == nil {
		t.Fatal("bad values accepted")
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	c := Default()
	c.Database.DSN = "mysql://shiliu:hunter2@db:3306/shiliu"
	c.Redis.URL = "redis://:redispw@cache:6379/0"
	c.WeChat.Secret = "wxsecret"
	c.Validate()
	s := strings.Join(func() []string {
		var out []string
		for k, v := range c.Redacted() {
			out = append(out, k+"="+v.(string))
		}
		return out
	}(), " ")
	for _, secret := range []string{"hunter2", "redispw", "wxsecret", DevTokenSecret} {
		if strings.Contains(s, secret) {
			t.Errorf("redacted config shows %q: %s", secret, s)
		}
	}
}

// TestExampleConfigLoads keeps configs/shiliu.example.yaml in step with the code: a key the code
// no longer knows fails the load (KnownFields), and the documented values must validate.
func TestExampleConfigLoads(t *testing.T) {
	t.Setenv("SHILIU_SECRETS_FILE", filepath.Join(t.TempDir(), "secrets.json"))
	c, err := Load(filepath.Join("..", "..", "configs", "shiliu.example.yaml"))
	if err != nil {
		t.Fatalf("the example configuration does not load: %v", err)
	}
	d := devDefault()
	d.Validate()
	if c.HTTP.Addr != d.HTTP.Addr || c.Database.DSN != d.Database.DSN || c.Security.AccessTokenTTL != d.Security.AccessTokenTTL {
		t.Fatalf("the example's values differ from the defaults it documents: %+v", c.HTTP)
	}
}

// A mistyped DSN is refused with the accepted forms instead of becoming a SQLite file named after
// it; the default is an explicit sqlite: path.
func TestDatabaseDSNForms(t *testing.T) {
	if d := Default().Database.DSN; d != "sqlite:data/shiliu.db" {
		t.Fatalf("default dsn %q", d)
	}
	for dsn, ok := range map[string]bool{
		"sqlite:data/shiliu.db":            true,
		"mysql://shiliu:pw@db:3306/shiliu": true,
		"shiliu:pw@tcp(db:3306)/shiliu":    true,
		"shiliu:pw@db:3306/shiliu":         false,
		"postgres://shiliu:pw@db/shiliu":   false,
		"data/shiliu.db":                   false,
		"":                                 false,
	} {
		c := devDefault()
		c.Database.DSN = dsn
		err := c.Validate()
		if ok != (err == nil) {
			t.Errorf("dsn %q: %v", dsn, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "SHILIU_DATABASE_DSN") || !strings.Contains(err.Error(), "sqlite:PATH") ||
			!strings.Contains(err.Error(), "mysql://USER:PASSWORD@HOST:3306/DATABASE")) {
			t.Errorf("dsn %q: the error does not show the accepted forms: %v", dsn, err)
		}
	}
}

// Prod runs on MySQL unless SQLite is asked for in so many words.
func TestProdRequiresMySQLUnlessAllowed(t *testing.T) {
	prod := map[string]string{"SHILIU_MODE": "prod", "SHILIU_DATABASE_DSN": "sqlite:/var/lib/shiliu/shiliu.db"}
	c := Default()
	if err := c.applyEnv(env(prod)); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "SHILIU_ALLOW_SQLITE_IN_PROD") {
		t.Fatalf("prod on SQLite: %v", err)
	}
	prod["SHILIU_ALLOW_SQLITE_IN_PROD"] = "true"
	c = Default()
	if err := c.applyEnv(env(prod)); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil && strings.Contains(err.Error(), "database.dsn") {
		t.Fatalf("prod on SQLite, allowed: %v", err)
	}
}

// Dev mode has a template id for every subscribe message, which the fake WeChat accepts; prod
// leaves unset ones empty (not sent).
func TestDevModeHasTemplateIDs(t *testing.T) {
	c := devDefault()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if id := c.Notify.Templates["tip_submitted"].ID; id != "dev-tip_submitted" {
		t.Fatalf("dev tip_submitted template %q", id)
	}
	c = Default()
	c.applyEnv(env(map[string]string{"SHILIU_MODE": "prod", "SHILIU_NOTIFY_TEMPLATE_TIP_SUBMITTED": "REAL"}))
	c.Validate()
	if c.Notify.Templates["tip_submitted"].ID != "REAL" || c.Notify.Templates["tip_escalated"].ID != "" {
		t.Fatalf("prod templates: %+v", c.Notify.Templates)
	}
}

// Read replicas: a comma-separated list of MySQL DSNs on a MySQL primary, with a read-your-writes
// window that covers the lag allowed; anything else is refused with the setting named.
func TestDatabaseReplicas(t *testing.T) {
	tok, key := NewSecrets()
	c := Default()
	c.Security.TokenSecret, c.Security.DataKey = tok, key
	if err := c.applyEnv(env(map[string]string{"SHILIU_DATABASE_DSN": "mysql://app:pw@db1:3306/shiliu",
		"SHILIU_DATABASE_REPLICAS": " mysql://app:pw@db2:3306/shiliu, app:pw@tcp(db3:3306)/shiliu ,"})); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Database.Replicas) != 2 || c.Database.ReplicaMaxLag != 2*time.Second || c.Database.ReadYourWrites != 5*time.Second {
		t.Fatalf("%+v", c.Database)
	}
	if r := fmt.Sprint(c.Redacted()["database_replicas"]); strings.Contains(r, "pw") {
		t.Errorf("replica passwords logged: %s", r)
	}
	for _, tc := range []struct{ name, key, value, want string }{
		{"a SQLite replica", "SHILIU_DATABASE_REPLICAS", "sqlite:r.db", "database.replicas[0]"},
		{"a window shorter than the lag", "SHILIU_DATABASE_READ_YOUR_WRITES", "3s", "read_your_writes"},
		{"a lag under a second", "SHILIU_DATABASE_REPLICA_MAX_LAG", "500ms", "replica_max_lag"},
		{"replicas of SQLite", "SHILIU_DATABASE_DSN", "sqlite:data/x.db", "SQLite has no replicas"},
	} {
		c := Default()
		c.Security.TokenSecret, c.Security.DataKey = tok, key
		m := map[string]string{"SHILIU_DATABASE_DSN": "mysql://app:pw@db1:3306/shiliu", "SHILIU_DATABASE_REPLICAS": "mysql://app:pw@db2:3306/shiliu"}
		m[tc.key] = tc.value
		if err := c.applyEnv(env(m)); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
