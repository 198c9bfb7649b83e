// Command shiliu is the Shiliu server and its operator tools.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/shiliu/shiliu/server/app"
	"github.com/shiliu/shiliu/server/auth"
	"github.com/shiliu/shiliu/server/config"
	"github.com/shiliu/shiliu/server/demo"
	"github.com/shiliu/shiliu/server/migrations"
	"github.com/shiliu/shiliu/server/platform/database"
	"github.com/shiliu/shiliu/server/platform/wxfake"
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
  shiliu seed-demo                    create a demo county with units, instructors and staff
  shiliu fake-wechat [--addr :9099]   run the fake WeChat/WeCom API for local trials
  shiliu version                      print the version

Global flag: --config FILE (or SHILIU_CONFIG). Every key can be overridden by SHILIU_* variables;
see configs/shiliu.example.yaml.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shiliu:", err)
		os.Exit(1)
	}
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
		case args[0] == "-h" || args[0] == "--help":
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
		fs := flag.NewFlagSet("fake-wechat", flag.ContinueOnError)
		addr := fs.String("addr", ":9099", "listen address")
		if err := fs.Parse(args); err != nil {
			return err
		}
		base := *addr
		if strings.HasPrefix(base, ":") {
			base = "127.0.0.1" + base
		}
		fmt.Fprintf(os.Stderr, "fake WeChat/WeCom API on %s: set SHILIU_WECHAT_API_BASE and SHILIU_WECOM_API_BASE to http://%s\n", *addr, base)
		errc := make(chan error, 1)
		go func() { errc <- wxfake.New().ListenAndServe(*addr) }()
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return nil
		}
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
		db, err := database.Open(ctx, cfg.Database.DSN, database.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		applied, err := db.Migrate(ctx, migrations.All)
		if err != nil {
			return err
		}
		v, _ := db.Version(ctx)
		fmt.Printf("schema at version %d (applied %v)\n", v, applied)
		return nil
	case "user":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("usage: shiliu user create --username U --role R --region CODE")
		}
		return userCreate(ctx, cfg, args[1:])
	case "seed-demo":
		a, err := app.Open(ctx, cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		return demo.Seed(ctx, a, os.Stdout)
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
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
	a, err := app.Open(ctx, cfg)
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
