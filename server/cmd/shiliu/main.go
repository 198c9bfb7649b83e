// Command shiliu is the Shiliu server and its operator tools.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/auth"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/demo"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/platform/wxfake"
	"github.com/shiliu/shiliu/server/upload"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `shiliu — 民族团结进步创建指导员工作平台

Usage:
  shiliu [serve]                      start the API server (default)
  shiliu migrate                      apply pending database migrations and exit
  shiliu dispatch                     run only the notification dispatcher (no HTTP); set
                                      notify.dispatch_in_serve: false on the serve instances
  shiliu user create --username U --role R --region CODE [--name N]
                                      create a staff account; the password is read from
                                      standard input, or generated and printed once
  shiliu uploads migrate [--to s3://…] [--remove-local]
                                      copy the uploaded files from uploads.dir into the
                                      object store (resumable: run it again after a stop)
  shiliu seed-demo                    create a demo county with units, instructors and staff
                                      (dev mode only)
  shiliu fake-wechat [--addr :9099]   run the fake WeChat/WeCom API for local trials
  shiliu version                      print the version
  shiliu COMMAND --help               the usage of one command

With no configuration, serve listens on :8080 (SHILIU_HTTP_ADDR) in dev mode and keeps its data
under ./data: the SQLite database sqlite:data/shiliu.db (SHILIU_DATABASE_DSN) and the uploaded
files in data/uploads (SHILIU_UPLOADS_DIR), with an embedded Redis.

Global flag: --config FILE (or SHILIU_CONFIG). Every key can be overridden by SHILIU_* variables;
see configs/shiliu.example.yaml.
`

// commandUsage is what `shiliu COMMAND --help` prints.
var commandUsage = map[string]string{
	"serve": `Usage: shiliu [--config FILE] serve

Starts the API server: migrates the database when database.auto_migrate is on, loads the regions
on first start, serves HTTP on http.addr (SHILIU_HTTP_ADDR, default :8080) and, unless
notify.dispatch_in_serve is off, delivers notifications.
`,
	"migrate": `Usage: shiliu [--config FILE] migrate

Applies the pending database migrations to database.dsn (SHILIU_DATABASE_DSN) and prints the
schema version.
`,
	"dispatch": `Usage: shiliu [--config FILE] dispatch

Runs only the notification dispatcher, without HTTP, until SIGTERM or SIGINT. Set
notify.dispatch_in_serve: false (SHILIU_NOTIFY_DISPATCH_IN_SERVE=false) on the serve instances.
`,
	"user": `Usage: shiliu [--config FILE] user create --username U --role R --region CODE [--name N]

Creates a staff account. R is county_staff, city_staff, province_staff or admin; CODE the region
the account is bound to (e.g. 131028 or 131028000000). The password is the first line of standard
input when it is piped, or generated and printed once.
`,
	"uploads": `Usage: shiliu [--config FILE] uploads migrate [--from DIR] [--to s3://…] [--workers N] [--remove-local] [--create-bucket]

Copies every uploaded file from the directory (--from, default uploads.dir, SHILIU_UPLOADS_DIR)
into the object store (--to, default uploads.storage_url, SHILIU_STORAGE_URL) under the same key,
so the database needs no change. A file the bucket already holds with the same size is skipped:
after an interruption, or to catch the files uploaded while it ran, run it again. Each object is
stored whole or not at all. --remove-local deletes each local file once the bucket holds it with
the same size; --create-bucket makes the bucket if it is missing (trials: a production bucket is
made by its operator, see docs/deploy.md). --workers (default 4) copies run at once. It exits
non-zero when a file could not be copied.
`,
	"seed-demo": `Usage: shiliu [--config FILE] seed-demo

Dev mode only. Creates a demo county (大厂回族自治县, 131028000000) with units and instructors,
staff accounts for each level (their passwords are printed once), a robot group for the county
(webhook key demo-dachang) and links the county officer to the WeChat user o_dachang (login
code "dachang" in fake-wechat), subscribed to tip alerts.
`,
	"fake-wechat": `Usage: shiliu fake-wechat [--addr :9099]

Serves a fake of the WeChat mini-program and WeCom robot APIs for local trials: login code c is
the openid o_c, any appid/secret is accepted. Every message it receives is logged on one line and
listed at GET /_fake/messages.
`,
	"version": `Usage: shiliu version

Prints the version.
`,
	"help": usage,
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shiliu:", err)
		os.Exit(1)
	}
}

// wantsHelp reports a -h/--help among a command's arguments: the command then only prints its
// usage, it never runs (seed-demo --help must not write demo accounts).
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

func run(args []string) error {
	cfgPath := os.Getenv("SHILIU_CONFIG")
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case args[0] == "--config" || args[0] == "-config":
			if len(args) < 2 {
				return errors.New("--config needs a file")
			}
			cfgPath, args = args[1], args[2:]
		case strings.HasPrefix(args[0], "--config="):
			cfgPath, args = strings.TrimPrefix(args[0], "--config="), args[1:]
		case args[0] == "-h" || args[0] == "--help" || args[0] == "-help":
			fmt.Print(usage)
			return nil
		default:
			return fmt.Errorf("unknown flag %s\n%s", args[0], usage)
		}
	}
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	help, known := commandUsage[cmd]
	if !known {
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if wantsHelp(args) {
		fmt.Print(help)
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "version":
		fmt.Println("shiliu", version)
		return nil
	case "help":
		fmt.Print(usage)
		return nil
	case "fake-wechat":
		return fakeWeChat(ctx, args)
	}

	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		a, err := app.Open(ctx, cfg)
		if err != nil {
			return stoppedWhileStarting(ctx, err)
		}
		defer a.Close()
		return a.Run(ctx)
	case "dispatch":
		a, err := app.Open(ctx, cfg)
		if err != nil {
			return stoppedWhileStarting(ctx, err)
		}
		defer a.Close()
		return a.Dispatch(ctx)
	case "migrate":
		db, err := app.OpenDatabase(ctx, cfg.Database, app.NewLogger(cfg.Log))
		if err != nil {
			return err
		}
		defer db.Close()
		applied, err := db.Migrate(ctx, migrations.All)
		if err != nil {
			return err
		}
		v, _ := db.Version(ctx)
		if len(applied) == 0 {
			fmt.Printf("schema at version %d (up to date)\n", v)
		} else {
			fmt.Printf("schema at version %d (applied %v)\n", v, applied)
		}
		return nil
	case "user":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: shiliu user create --username U --role R --region CODE (shiliu user --help)")
		}
		return userCreate(ctx, cfg, args[1:])
	case "uploads":
		if len(args) == 0 || args[0] != "migrate" {
			return errors.New("usage: shiliu uploads migrate [--to s3://…] (shiliu uploads --help)")
		}
		return uploadsMigrate(ctx, cfg, args[1:])
	case "seed-demo":
		if cfg.Mode != "dev" {
			return errors.New("seed-demo runs in dev mode only: it creates accounts with well-known names and prints their passwords (mode is " + cfg.Mode + ")")
		}
		a, err := app.Open(ctx, cfg, app.ForTool())
		if err != nil {
			return err
		}
		defer a.Close()
		return demo.Seed(ctx, a, os.Stdout)
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// fakeWeChat binds its address before it says where it listens, so a failed bind (the port is
// taken) is the only thing printed.
func fakeWeChat(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fake-wechat", flag.ContinueOnError)
	addr := fs.String("addr", ":9099", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("fake-wechat: %w (choose another address with --addr)", err)
	}
	base := l.Addr().String()
	if tcp, ok := l.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		base = net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	logger := log.New(os.Stderr, "", log.LstdFlags)
	fmt.Fprintf(os.Stderr, "fake WeChat/WeCom API listening on %s: set SHILIU_WECHAT_API_BASE and SHILIU_WECOM_API_BASE to http://%s; "+
		"every message it receives is logged here and listed at http://%s/_fake/messages\n", l.Addr(), base, base)
	errc := make(chan error, 1)
	srv := wxfake.New(wxfake.WithMessageLog(logger))
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		l.Close()
		return nil
	}
}

// uploadsMigrate copies the directory's files into the object store; see commandUsage["uploads"].
func uploadsMigrate(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("uploads migrate", flag.ContinueOnError)
	from := fs.String("from", cfg.Uploads.Dir, "directory the files are in")
	to := fs.String("to", cfg.Uploads.StorageURL, "object store: s3://KEY:SECRET@HOST:PORT/BUCKET[/PREFIX]?secure=false")
	workers := fs.Int("workers", 4, "copies at once")
	removeLocal := fs.Bool("remove-local", false, "delete each local file once the bucket holds it")
	createBucket := fs.Bool("create-bucket", false, "make the bucket if it is missing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" {
		return errors.New("no object store: set uploads.storage_url (SHILIU_STORAGE_URL) or give --to s3://KEY:SECRET@HOST:PORT/BUCKET")
	}
	if *workers < 1 || *workers > 64 {
		return errors.New("--workers must be between 1 and 64")
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("uploads directory: %w (give it with --from or SHILIU_UPLOADS_DIR)", err)
	}
	src, err := upload.NewDisk(*from)
	if err != nil {
		return err
	}
	dst, err := upload.NewS3(*to)
	if err != nil {
		return err
	}
	if *createBucket {
		if err := dst.CreateBucket(ctx); err != nil {
			return err
		}
	}
	if err := dst.CheckWritable(ctx); err != nil {
		return err
	}
	fmt.Printf("copying the files of %s to %s\n", src, dst)
	start := time.Now()
	last := start
	res, err := upload.Migrate(ctx, src, dst, *workers, *removeLocal, func(r upload.MigrateResult) {
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			fmt.Printf("… %d copied (%d MiB), %d already there, %d failed\n", r.Copied, r.Bytes>>20, r.Skipped, r.Failed)
		}
	})
	fmt.Printf("%d copied (%d bytes), %d already there, %d failed, %d local files removed, in %s\n",
		res.Copied, res.Bytes, res.Skipped, res.Failed, res.Removed, time.Since(start).Round(time.Millisecond))
	if err != nil {
		return fmt.Errorf("not every file was copied (run the command again): %w", err)
	}
	return nil
}

func userCreate(ctx context.Context, cfg config.Config, args []string) error {
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "", "county_staff, city_staff, province_staff or admin")
	regionCode := fs.String("region", "", "region code the account is bound to (e.g. 131028 or 131028000000)")
	name := fs.String("name", "", "display name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" || *role == "" || *regionCode == "" {
		return errors.New("--username, --role and --region are required")
	}
	password, generated, err := readPassword(os.Stdin)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, app.ForTool())
	if err != nil {
		return err
	}
	defer a.Close()
	acc, err := a.Auth.CreateUser(ctx, *username, *role, *regionCode, password, *name)
	if err != nil {
		return err
	}
	fmt.Printf("created account %d: %s (%s, region %s)\n", acc.ID, *username, acc.Role, acc.RegionCode)
	if generated {
		fmt.Printf("generated password (shown once, keep it safe): %s\n", password)
	}
	return nil
}

// readPassword takes the first line of a piped standard input; with a terminal or nothing piped
// it generates one.
func readPassword(in *os.File) (string, bool, error) {
	if st, err := in.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, err
		}
		if p := strings.TrimRight(line, "\r\n"); p != "" {
			return p, false, nil
		}
	}
	p, err := auth.GeneratePassword()
	return p, true, err
}

// stoppedWhileStarting treats SIGTERM during start-up (a deploy rolling on, a container stopped
// while migrating) as a clean stop rather than a failure.
func stoppedWhileStarting(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
