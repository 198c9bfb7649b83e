// Package config is Shiliu's typed configuration: a YAML file (configs/shiliu.example.yaml documents
// every key) overridden by SHILIU_* environment variables, validated once at start.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shiliu/shiliu/server/platform/database"
	"gopkg.in/yaml.v3"
)

// Config is everything the binary can be told.
type Config struct {
	Mode      string          `yaml:"mode"` // dev or prod
	HTTP      HTTPConfig      `yaml:"http"`
	Database  DatabaseConfig  `yaml:"database"`
	Redis     RedisConfig     `yaml:"redis"`
	WeChat    WeChatConfig    `yaml:"wechat"`
	Security  SecurityConfig  `yaml:"security"`
	Uploads   UploadsConfig   `yaml:"uploads"`
	Notify    NotifyConfig    `yaml:"notify"`
	Records   RecordsConfig   `yaml:"records"`
	Meetings  MeetingsConfig  `yaml:"meetings"`
	Bulletins BulletinsConfig `yaml:"bulletins"`
	Training  TrainingConfig  `yaml:"training"`
	// Adjustment is the central three-year adjustment.
	Adjustment AdjustmentConfig `yaml:"adjustment"`
	// Filing is the reminder of rosters changed after their last accepted filing.
	Filing    FilingConfig    `yaml:"filing"`
	Retention RetentionConfig `yaml:"retention"`
	Log       LogConfig       `yaml:"log"`
}

type HTTPConfig struct {
	Addr            string        `yaml:"addr"`
	ReadTimeout     time.Duration `yaml:"read_timeout"`
	WriteTimeout    time.Duration `yaml:"write_timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	MaxBodyBytes    int64         `yaml:"max_body_bytes"`
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed (rate limits by IP).
	TrustedProxies []string `yaml:"trusted_proxies"`
}

type DatabaseConfig struct {
	DSN          string        `yaml:"dsn"`
	MaxOpenConns int           `yaml:"max_open_conns"`
	MaxIdleConns int           `yaml:"max_idle_conns"`
	ConnMaxLife  time.Duration `yaml:"conn_max_lifetime"`
	// AutoMigrate runs pending migrations when serve starts; when false, serve refuses a schema
	// that is behind and `shiliu migrate` must be run first.
	AutoMigrate bool `yaml:"auto_migrate"`
	LoadRegions bool `yaml:"load_regions"`
	// SlowQuery is how long a statement runs before it is logged as slow (its SQL, never its
	// arguments); 0 logs no slow statements.
	SlowQuery time.Duration `yaml:"slow_query"`
	// ConnectWait is how long start-up keeps trying a database that does not answer yet (one
	// started beside the server, a host rebooting) before it gives up.
	ConnectWait time.Duration `yaml:"connect_wait"`
	// AllowSQLiteInProd lets prod mode run on a SQLite file (one writer, one instance only).
	AllowSQLiteInProd bool `yaml:"allow_sqlite_in_prod"`
}

type RedisConfig struct {
	URL    string `yaml:"url"`
	Prefix string `yaml:"prefix"`
}

type WeChatConfig struct {
	AppID            string        `yaml:"appid"`
	Secret           string        `yaml:"secret"`
	APIBase          string        `yaml:"api_base"`
	WeComAPIBase     string        `yaml:"wecom_api_base"`
	Timeout          time.Duration `yaml:"timeout"`
	MiniprogramState string        `yaml:"miniprogram_state"`
}

type SecurityConfig struct {
	// TokenSecret signs access tokens (HMAC-SHA256); at least 32 bytes.
	TokenSecret string `yaml:"token_secret"`
	// DataKey encrypts phone and ID numbers (AES-256-GCM): 32 bytes, base64.
	DataKey         string        `yaml:"data_key"`
	AccessTokenTTL  time.Duration `yaml:"access_token_ttl"`
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl"`
	InviteTTL       time.Duration `yaml:"invite_ttl"`
	BcryptCost      int           `yaml:"bcrypt_cost"`
	MaxLoginFails   int           `yaml:"max_login_failures"`
	LockoutDuration time.Duration `yaml:"lockout_duration"`
	LoginPerMinute  int           `yaml:"login_attempts_per_minute"`
	// Invite-code binding: tries per bind ticket before it is burnt, and wrong codes allowed per
	// WeChat user and per client address within BindFailureWindow.
	BindTriesPerTicket    int           `yaml:"bind_tries_per_ticket"`
	BindFailuresPerOpenID int           `yaml:"bind_failures_per_openid"`
	BindFailuresPerIP     int           `yaml:"bind_failures_per_ip"`
	BindFailureWindow     time.Duration `yaml:"bind_failure_window"`
	// SecretsFile is where a dev-mode server keeps the token secret and data key it generates on
	// first start when none is configured (prod mode never reads it).
	SecretsFile string `yaml:"secrets_file"`

	secretsGenerated bool
}

type UploadsConfig struct {
	// Dir is where the local-disk store keeps files (when StorageURL is empty), and where
	// `shiliu uploads migrate` takes them from.
	Dir string `yaml:"dir"`
	// StorageURL, when set, keeps the files in an S3-compatible object store instead of Dir:
	// s3://ACCESS_KEY:SECRET_KEY@HOST:PORT/BUCKET[/PREFIX]?region=R&secure=false&lookup=path
	// (docs/deploy.md). Several instances need it (or one shared directory).
	StorageURL string `yaml:"storage_url"`
	// MaxBytes caps one file.
	MaxBytes int64 `yaml:"max_bytes"`
	// URLSecret signs download links; empty derives a key from security.token_secret.
	URLSecret string `yaml:"url_secret"`
	// URLTTL is how long a signed download link works.
	URLTTL time.Duration `yaml:"url_ttl"`
	// TransferTimeout replaces http.read_timeout/write_timeout for uploads and downloads, which
	// take long on a weak village network.
	TransferTimeout time.Duration `yaml:"transfer_timeout"`
	// MaxConcurrent is how many uploads one instance receives at once (each is held in memory,
	// up to MaxBytes); QueueWait is how long another waits for a place before a 503.
	MaxConcurrent int           `yaml:"max_concurrent"`
	QueueWait     time.Duration `yaml:"queue_wait"`
	// MaxPerAccount is how many of those places one account may hold at once, so that one phone
	// (or one script) sending slowly cannot take every place; at most MaxConcurrent.
	MaxPerAccount int `yaml:"max_per_account"`
	// StallTimeout cuts an upload (or roster import) whose body sends nothing for that long, so a
	// stalled or trickling client gives its place back long before TransferTimeout.
	StallTimeout time.Duration `yaml:"stall_timeout"`
	// ImportMaxConcurrent is how many roster imports (Excel workbooks, read and checked whole) one
	// instance handles at once.
	ImportMaxConcurrent int `yaml:"import_max_concurrent"`
	// OrphanAfter is how long an upload no record (or task, bulletin) has taken is kept;
	// SweepInterval is how often each instance deletes older ones, 0 disables the sweep (then
	// another instance must run it).
	OrphanAfter   time.Duration `yaml:"orphan_after"`
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"` // text or json
}

// Values published in the source: prod refuses to start with any of them, and dev no longer uses
// them (it generates its own, see fillDevSecrets); they stay so that a configuration copied from
// an old example is refused.
const (
	DevTokenSecret = "shiliu-dev-token-secret-not-for-production"
	devDataKeySeed = "shiliu-dev-data-key-not-for-production"
)

// DevDataKey is the published base64 data key older versions used in dev. Tests may use it for
// data they encrypt themselves.
func DevDataKey() string {
	k := sha256.Sum256([]byte(devDataKeySeed))
	return base64.StdEncoding.EncodeToString(k[:])
}

// Default returns the configuration used when nothing is set: a trial server on SQLite and an
// embedded Redis.
func Default() Config {
	return Config{
		Mode: "dev",
		HTTP: HTTPConfig{
			Addr:            ":8080",
			ReadTimeout:     15 * time.Second,
			WriteTimeout:    30 * time.Second,
			ShutdownTimeout: 20 * time.Second,
			MaxBodyBytes:    1 << 20,
		},
		Database: DatabaseConfig{
			DSN:          "sqlite:data/shiliu.db",
			MaxOpenConns: 20,
			// As many as may be open: under a load that keeps more than the idle limit busy,
			// every connection given back above it is closed and the next request opens a new one
			// (TCP, handshake, session setup), which halved submissions at 64 concurrent phones.
			MaxIdleConns: 20,
			ConnMaxLife:  30 * time.Minute,
			AutoMigrate:  true,
			LoadRegions:  true,
			SlowQuery:    500 * time.Millisecond,
			ConnectWait:  30 * time.Second,
		},
		Redis: RedisConfig{Prefix: "shiliu:"},
		WeChat: WeChatConfig{
			Timeout:          10 * time.Second,
			MiniprogramState: "formal",
		},
		Security: SecurityConfig{
			AccessTokenTTL:  15 * time.Minute,
			RefreshTokenTTL: 30 * 24 * time.Hour,
			InviteTTL:       7 * 24 * time.Hour,
			BcryptCost:      11,
			MaxLoginFails:   5,
			LockoutDuration: 15 * time.Minute,
			LoginPerMinute:  20,
			// An 8-character code has 31^8 values, but thousands are outstanding at once: a
			// WeChat user gets 10 wrong codes an hour, an address (a county office's NAT) 50.
			BindTriesPerTicket:    5,
			BindFailuresPerOpenID: 10,
			BindFailuresPerIP:     50,
			BindFailureWindow:     time.Hour,
			SecretsFile:           "data/secrets.json",
		},
		Uploads: UploadsConfig{
			Dir:             "data/uploads",
			MaxBytes:        10 << 20,
			URLTTL:          10 * time.Minute,
			TransferTimeout: 2 * time.Minute,
			MaxConcurrent:   8,
			QueueWait:       3 * time.Second,
			// Below MaxConcurrent: a phone sends its photos one or two at a time.
			MaxPerAccount: 2,
			// A phone on a weak network pauses for seconds, not half a minute.
			StallTimeout:        30 * time.Second,
			ImportMaxConcurrent: 2,
			OrphanAfter:         7 * 24 * time.Hour,
			SweepInterval:       10 * time.Minute,
		},
		Notify:     defaultNotify(),
		Records:    defaultRecords(),
		Meetings:   defaultMeetings(),
		Bulletins:  defaultBulletins(),
		Training:   defaultTraining(),
		Adjustment: defaultAdjustment(),
		Filing:     defaultFiling(),
		Retention:  defaultRetention(),
		Log:        LogConfig{Level: "info", Format: "text"},
	}
}

// Load reads path (if non-empty) over the defaults, then applies the environment.
func Load(path string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("parse config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(os.LookupEnv); err != nil {
		return c, err
	}
	if err := c.fillDevSecrets(); err != nil {
		return c, err
	}
	return c, c.Validate()
}

type lookup func(string) (string, bool)

func (c *Config) applyEnv(get lookup) error {
	str := func(name string, dst *string) {
		if v, ok := get(name); ok {
			*dst = v
		}
	}
	var errs []error
	dur := func(name string, dst *time.Duration) {
		if v, ok := get(name); ok && v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = d
		}
	}
	num := func(name string, dst *int) {
		if v, ok := get(name); ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = n
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := get(name); ok && v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = b
		}
	}
	str("SHILIU_MODE", &c.Mode)
	str("SHILIU_HTTP_ADDR", &c.HTTP.Addr)
	str("SHILIU_DATABASE_DSN", &c.Database.DSN)
	boolean("SHILIU_DATABASE_AUTO_MIGRATE", &c.Database.AutoMigrate)
	dur("SHILIU_DATABASE_SLOW_QUERY", &c.Database.SlowQuery)
	boolean("SHILIU_ALLOW_SQLITE_IN_PROD", &c.Database.AllowSQLiteInProd)
	str("SHILIU_REDIS_URL", &c.Redis.URL)
	str("SHILIU_REDIS_PREFIX", &c.Redis.Prefix)
	str("SHILIU_WECHAT_APPID", &c.WeChat.AppID)
	str("SHILIU_WECHAT_SECRET", &c.WeChat.Secret)
	str("SHILIU_WECHAT_API_BASE", &c.WeChat.APIBase)
	str("SHILIU_WECOM_API_BASE", &c.WeChat.WeComAPIBase)
	str("SHILIU_WECHAT_MINIPROGRAM_STATE", &c.WeChat.MiniprogramState)
	str("SHILIU_TOKEN_SECRET", &c.Security.TokenSecret)
	str("SHILIU_DATA_KEY", &c.Security.DataKey)
	str("SHILIU_SECRETS_FILE", &c.Security.SecretsFile)
	dur("SHILIU_ACCESS_TOKEN_TTL", &c.Security.AccessTokenTTL)
	num("SHILIU_BCRYPT_COST", &c.Security.BcryptCost)
	str("SHILIU_UPLOADS_DIR", &c.Uploads.Dir)
	str("SHILIU_STORAGE_URL", &c.Uploads.StorageURL)
	if v, ok := get("SHILIU_UPLOADS_MAX_BYTES"); ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("SHILIU_UPLOADS_MAX_BYTES: %w", err))
		}
		c.Uploads.MaxBytes = n
	}
	str("SHILIU_UPLOADS_URL_SECRET", &c.Uploads.URLSecret)
	num("SHILIU_UPLOADS_MAX_CONCURRENT", &c.Uploads.MaxConcurrent)
	num("SHILIU_UPLOADS_MAX_PER_ACCOUNT", &c.Uploads.MaxPerAccount)
	dur("SHILIU_UPLOADS_STALL_TIMEOUT", &c.Uploads.StallTimeout)
	num("SHILIU_UPLOADS_IMPORT_MAX_CONCURRENT", &c.Uploads.ImportMaxConcurrent)
	dur("SHILIU_UPLOADS_ORPHAN_AFTER", &c.Uploads.OrphanAfter)
	str("SHILIU_LOG_LEVEL", &c.Log.Level)
	str("SHILIU_LOG_FORMAT", &c.Log.Format)
	errs = append(errs, c.Notify.applyEnv(get))
	errs = append(errs, c.Retention.applyEnv(get))
	return errors.Join(errs...)
}

// Least entropy (by weakness's estimate) prod accepts: a text secret of 32 random hex or base64
// characters scores 110–200 bits; 32 random bytes have about 30 distinct values, about 150 bits,
// and fewer than 20 distinct values is astronomically unlikely (20 values twice or more is 136).
const (
	minTextBits = 96
	minKeyBits  = 136
)

// Validate checks the configuration: secrets must be set (Load fills them in dev mode from
// security.secrets_file) and, in prod, strong and not published.
func (c *Config) Validate() error {
	var errs []error
	switch c.Mode {
	case "dev":
		c.Notify.devTemplateIDs()
	case "prod":
		if c.Security.TokenSecret == "" {
			errs = append(errs, errors.New("prod: security.token_secret (SHILIU_TOKEN_SECRET) must be set to a secret of your own"))
		} else if why := weakness([]byte(c.Security.TokenSecret), minTextBits, []byte(DevTokenSecret)); why != "" {
			errs = append(errs, fmt.Errorf("prod: security.token_secret (SHILIU_TOKEN_SECRET) is refused: %s", why))
		}
		if c.Security.DataKey == "" {
			errs = append(errs, errors.New("prod: security.data_key (SHILIU_DATA_KEY) must be set to your own 32-byte base64 key"))
		} else if k, err := base64.StdEncoding.DecodeString(c.Security.DataKey); err == nil && len(k) == 32 {
			dev, _ := base64.StdEncoding.DecodeString(DevDataKey())
			if why := weakness(k, minKeyBits, dev); why != "" {
				errs = append(errs, fmt.Errorf("prod: security.data_key (SHILIU_DATA_KEY) is refused: %s", why))
			}
		}
		if c.Uploads.URLSecret != "" {
			if why := weakness([]byte(c.Uploads.URLSecret), minTextBits); why != "" {
				errs = append(errs, fmt.Errorf("prod: uploads.url_secret (SHILIU_UPLOADS_URL_SECRET) is refused: %s", why))
			}
		}
		if c.WeChat.AppID == "" || c.WeChat.Secret == "" {
			errs = append(errs, errors.New("prod: wechat.appid and wechat.secret (SHILIU_WECHAT_APPID, SHILIU_WECHAT_SECRET) must be set"))
		}
		if c.Redis.URL == "" {
			errs = append(errs, errors.New("prod: redis.url (SHILIU_REDIS_URL) must be set: the embedded Redis is for trials only"))
		}
	default:
		errs = append(errs, fmt.Errorf("mode must be dev or prod, got %q", c.Mode))
	}
	if len(c.Security.TokenSecret) < 32 {
		errs = append(errs, errors.New("security.token_secret must be at least 32 bytes"))
	}
	if k, err := base64.StdEncoding.DecodeString(c.Security.DataKey); err != nil || len(k) != 32 {
		errs = append(errs, errors.New("security.data_key must be 32 bytes encoded in base64"))
	}
	if c.HTTP.Addr == "" {
		errs = append(errs, errors.New("http.addr must be set"))
	}
	if dialect, _, err := database.Parse(c.Database.DSN); err != nil {
		errs = append(errs, fmt.Errorf("database.dsn (SHILIU_DATABASE_DSN): %w", err))
	} else if c.Mode == "prod" && dialect == database.SQLite && !c.Database.AllowSQLiteInProd {
		errs = append(errs, errors.New("prod: database.dsn (SHILIU_DATABASE_DSN) must be MySQL/MariaDB (mysql://USER:PASSWORD@HOST:3306/DATABASE): "+
			"a SQLite file takes one writer and one instance; set SHILIU_ALLOW_SQLITE_IN_PROD=true to run on it anyway"))
	}
	if c.Database.ConnectWait < 0 || c.Database.ConnectWait > 10*time.Minute {
		errs = append(errs, errors.New("database.connect_wait must be between 0 and 10m"))
	}
	if c.Security.AccessTokenTTL <= 0 || c.Security.RefreshTokenTTL <= 0 || c.Security.InviteTTL <= 0 {
		errs = append(errs, errors.New("security token and invite lifetimes must be positive"))
	}
	if c.Security.BcryptCost < 4 || c.Security.BcryptCost > 16 {
		errs = append(errs, errors.New("security.bcrypt_cost must be between 4 and 16"))
	}
	if c.Security.BindTriesPerTicket < 1 || c.Security.BindFailuresPerOpenID < 1 || c.Security.BindFailuresPerIP < 1 {
		errs = append(errs, errors.New("security.bind_tries_per_ticket, bind_failures_per_openid and bind_failures_per_ip must be at least 1"))
	}
	if c.Security.BindFailureWindow < time.Minute {
		errs = append(errs, errors.New("security.bind_failure_window must be at least 1m"))
	}
	if c.HTTP.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("http.max_body_bytes must be positive"))
	}
	if c.Uploads.Dir == "" && c.Uploads.StorageURL == "" {
		errs = append(errs, errors.New("uploads.dir must be set"))
	}
	if c.Uploads.StorageURL != "" {
		if err := checkStorageURL(c.Uploads.StorageURL); err != nil {
			errs = append(errs, fmt.Errorf("uploads.storage_url (SHILIU_STORAGE_URL): %w", err))
		}
	}
	if c.Uploads.MaxBytes <= 0 || c.Uploads.MaxBytes > 100<<20 {
		errs = append(errs, errors.New("uploads.max_bytes must be between 1 and 104857600 (100 MiB)"))
	}
	if c.Uploads.URLSecret != "" && len(c.Uploads.URLSecret) < 32 {
		errs = append(errs, errors.New("uploads.url_secret must be at least 32 bytes (or empty to derive it from security.token_secret)"))
	}
	if c.Uploads.URLTTL < time.Minute || c.Uploads.URLTTL > 24*time.Hour {
		errs = append(errs, errors.New("uploads.url_ttl must be between 1m and 24h"))
	}
	if c.Uploads.TransferTimeout <= 0 {
		errs = append(errs, errors.New("uploads.transfer_timeout must be positive"))
	}
	if c.Uploads.MaxConcurrent < 1 || c.Uploads.MaxConcurrent > 1000 {
		errs = append(errs, errors.New("uploads.max_concurrent must be between 1 and 1000"))
	}
	if c.Uploads.MaxPerAccount < 1 || c.Uploads.MaxPerAccount > c.Uploads.MaxConcurrent {
		errs = append(errs, fmt.Errorf("uploads.max_per_account must be between 1 and uploads.max_concurrent (%d)", c.Uploads.MaxConcurrent))
	}
	if c.Uploads.StallTimeout <= 0 || c.Uploads.StallTimeout > c.Uploads.TransferTimeout {
		errs = append(errs, errors.New("uploads.stall_timeout must be positive and at most uploads.transfer_timeout"))
	}
	if c.Uploads.ImportMaxConcurrent < 1 || c.Uploads.ImportMaxConcurrent > 100 {
		errs = append(errs, errors.New("uploads.import_max_concurrent must be between 1 and 100"))
	}
	if c.Uploads.QueueWait < 0 || c.Uploads.QueueWait > time.Minute {
		errs = append(errs, errors.New("uploads.queue_wait must be between 0 and 1m"))
	}
	if c.Uploads.OrphanAfter < time.Hour {
		errs = append(errs, errors.New("uploads.orphan_after must be at least 1h"))
	}
	errs = append(errs, sweepInterval("uploads.sweep_interval", c.Uploads.SweepInterval)...)
	errs = append(errs, c.Notify.validate(c.WeChat.Timeout)...)
	errs = append(errs, c.Records.validate()...)
	errs = append(errs, c.Meetings.validate()...)
	errs = append(errs, c.Bulletins.validate()...)
	errs = append(errs, c.Training.validate()...)
	errs = append(errs, c.Adjustment.validate()...)
	errs = append(errs, c.Filing.validate()...)
	errs = append(errs, c.Retention.validate()...)
	return errors.Join(errs...)
}

// Redacted is the configuration as it may be logged: secrets masked, credentials cut from URLs.
func (c Config) Redacted() map[string]any {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	return map[string]any{
		"mode":            c.Mode,
		"http_addr":       c.HTTP.Addr,
		"database":        RedactDSN(c.Database.DSN),
		"redis":           RedactDSN(c.Redis.URL),
		"wechat_appid":    c.WeChat.AppID,
		"wechat_secret":   mask(c.WeChat.Secret),
		"wechat_api_base": c.WeChat.APIBase,
		"wecom_api_base":  c.WeChat.WeComAPIBase,
		"token_secret":    mask(c.Security.TokenSecret),
		"data_key":        mask(c.Security.DataKey),
		"uploads_dir":     c.Uploads.Dir,
		"uploads_storage": RedactDSN(c.Uploads.StorageURL),
		"uploads_secret":  mask(c.Uploads.URLSecret),
		"notify_base_url": c.Notify.PublicBaseURL,
	}
}

// checkStorageURL is the shape of uploads.storage_url (upload.ParseS3URL reads the rest):
// s3://KEY:SECRET@HOST[:PORT]/BUCKET[/PREFIX].
func checkStorageURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL: s3://KEY:SECRET@HOST:PORT/BUCKET")
	case u.Scheme != "s3":
		return errors.New("must start with s3://, as in s3://KEY:SECRET@HOST:PORT/BUCKET")
	case u.Host == "":
		return errors.New("has no host: s3://KEY:SECRET@HOST:PORT/BUCKET")
	case strings.Trim(u.Path, "/") == "":
		return errors.New("has no bucket: s3://KEY:SECRET@HOST:PORT/BUCKET")
	case u.User == nil || u.User.Username() == "":
		return errors.New("has no access key: s3://KEY:SECRET@HOST:PORT/BUCKET")
	}
	if _, ok := u.User.Password(); !ok {
		return errors.New("has no secret key: s3://KEY:SECRET@HOST:PORT/BUCKET")
	}
	return nil
}

// RedactDSN hides the password in a DSN or URL ("user:pass@" → "user:***@").
func RedactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return dsn
	}
	head := dsn[:at]
	start := strings.Index(head, "://")
	if start >= 0 {
		start += 3
	} else {
		start = 0
	}
	colon := strings.Index(head[start:], ":")
	if colon < 0 {
		return dsn
	}
	return head[:start+colon+1] + "***" + dsn[at:]
}
