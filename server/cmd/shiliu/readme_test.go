package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The walkthrough runs this test binary as the shiliu command: `go run ./server/cmd/shiliu ARGS`
// in the README becomes "$SHILIU_README_CLI ARGS", with cliEnv set.
const cliEnv = "SHILIU_README_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		main()
		os.Exit(0)
	}
	// Commands run by the tests keep the dev secrets they generate out of the source tree.
	dir, err := os.MkdirTemp("", "shiliu-cli-test")
	if err != nil {
		panic(err)
	}
	if os.Getenv("SHILIU_SECRETS_FILE") == "" {
		os.Setenv("SHILIU_SECRETS_FILE", filepath.Join(dir, "secrets.json"))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// block is one fenced shell block of the README; server blocks run until the end.
type block struct {
	server bool
	text   string
}

var fence = regexp.MustCompile("(?s)```sh( server)?\n(.*?)```")

// walkthrough returns the sh blocks between <!-- walkthrough:LANG … --> and <!-- /walkthrough:LANG -->.
func walkthrough(t *testing.T, readme, lang string) []block {
	t.Helper()
	start := strings.Index(readme, "<!-- walkthrough:"+lang)
	end := strings.Index(readme, "<!-- /walkthrough:"+lang+" -->")
	if start < 0 || end < start {
		t.Fatalf("README.md has no walkthrough:%s section", lang)
	}
	var out []block
	for _, m := range fence.FindAllStringSubmatch(readme[start:end], -1) {
		out = append(out, block{server: m[1] != "", text: m[2]})
	}
	if len(out) == 0 {
		t.Fatalf("the walkthrough:%s section has no sh blocks", lang)
	}
	return out
}

// commands is a block without its comment lines: what the shell runs.
func commands(b block) string {
	var keep []string
	for _, l := range strings.Split(b.text, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestReadmeWalkthrough runs the README's trial walkthrough as a newcomer would, in an empty
// directory with no configuration: the fake WeChat and the server (the "sh server" blocks) in the
// background, then every other block in order, in one bash. Only the ports change (the server's
// through SHILIU_HTTP_ADDR, as the README says), so that parallel runs do not collide. Every API
// call must succeed, and the tip must reach the county's robot group and the officer's WeChat.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and runs the README's commands")
	}
	for _, tool := range []string{"bash", "curl", "jq", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walkthrough needs %s: %v", tool, err)
		}
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	zh, en := walkthrough(t, readme, "zh"), walkthrough(t, readme, "en")
	if len(zh) != len(en) {
		t.Fatalf("the Chinese walkthrough has %d blocks, the English one %d", len(zh), len(en))
	}
	for i := range zh {
		if zh[i].server != en[i].server || commands(zh[i]) != commands(en[i]) {
			t.Fatalf("block %d differs between the Chinese and English walkthroughs:\n%s\n---\n%s", i+1, commands(zh[i]), commands(en[i]))
		}
	}

	api, fake := freePort(t), freePort(t)
	ports := strings.NewReplacer("localhost:8080", "localhost:"+api, "9099", fake)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := []string{cliEnv + "=1", "SHILIU_README_CLI=" + self, "SHILIU_HTTP_ADDR=127.0.0.1:" + api}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHILIU_") {
			env = append(env, kv)
		}
	}
	// `go run ./server/cmd/shiliu` is this binary; any other go command is a README mistake.
	prelude := `go() {
	if [ "$1" = run ] && [ "$2" = ./server/cmd/shiliu ]; then shift 2; "$SHILIU_README_CLI" "$@"; return; fi
	echo "the walkthrough runs 'go $*': only 'go run ./server/cmd/shiliu' is known" >&2; return 127
}
set -euo pipefail
`
	bash := func(script string, out *syncBuffer) *exec.Cmd {
		cmd := exec.Command("bash", "-c", prelude+script)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}

	var script strings.Builder
	var servers []*syncBuffer
	for i, b := range zh {
		if !b.server {
			fmt.Fprintf(&script, "echo '>>> block %d'\n%s\n", i+1, ports.Replace(b.text))
			continue
		}
		out := &syncBuffer{}
		cmd := bash(ports.Replace(b.text), out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		servers = append(servers, out)
		t.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // its own process group: bash and shiliu
			cmd.Wait()
			if t.Failed() {
				t.Logf("output of the background block %d:\n%s", i+1, out.String())
			}
		})
	}
	if len(servers) != 2 {
		t.Fatalf("want the fake WeChat and the server as background blocks, got %d", len(servers))
	}
	waitFor(t, "http://127.0.0.1:"+fake+"/_fake/messages", servers[0])
	waitFor(t, "http://127.0.0.1:"+api+"/readyz", servers[1])

	out := &syncBuffer{}
	if err := bash(script.String(), out).Run(); err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s", err, out.String())
	}
	t.Logf("walkthrough output:\n%s", out.String())

	// Every request the walkthrough made succeeded, and it made the ones the README promises.
	routes := map[string]bool{}
	line := regexp.MustCompile(`msg=http .*?method=(\S+) route=(\S+) status=(\d+)`)
	for _, m := range line.FindAllStringSubmatch(servers[1].String(), -1) {
		if st, _ := strconv.Atoi(m[3]); st >= 400 {
			t.Errorf("%s %s answered %s", m[1], m[2], m[3])
		}
		routes[m[1]+" "+m[2]] = true
	}
	for _, want := range []string{
		"POST /api/v1/auth/password/login", "POST /api/v1/auth/wechat/bind", "POST /api/v1/visits", "POST /api/v1/sentiments",
		"POST /api/v1/tips", "POST /api/v1/mediations", "GET /api/v1/tips", "POST /api/v1/tips/:id/acknowledge",
		"POST /api/v1/auth/refresh",
	} {
		if !routes[want] {
			t.Errorf("the walkthrough never called %s", want)
		}
	}

	// The tip reached the county's robot group and the officer's WeChat through the fake.
	var got struct {
		Messages []struct {
			Channel    string `json:"channel"`
			RobotKey   string `json:"robot_key"`
			Content    string `json:"content"`
			ToUser     string `json:"touser"`
			TemplateID string `json:"template_id"`
		} `json:"messages"`
	}
	deadline := time.Now().Add(2 * time.Minute) // a hang guard, not a speed check: the dispatcher polls
	for {
		got.Messages = nil
		getJSON(t, "http://127.0.0.1:"+fake+"/_fake/messages", &got)
		robot, subscribe := false, false
		for _, m := range got.Messages {
			robot = robot || (m.Channel == "robot" && m.RobotKey == "demo-dachang" && strings.Contains(m.Content, "宅基地边界纠纷"))
			subscribe = subscribe || (m.Channel == "subscribe" && m.ToUser == "o_dachang" && m.TemplateID == "dev-tip_submitted")
		}
		if robot && subscribe {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tip alert did not reach fake-wechat (robot %v, subscribe %v): %+v", robot, subscribe, got.Messages)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if logged := strings.Count(servers[0].String(), "robot message to group key demo-dachang"); logged == 0 {
		t.Errorf("fake-wechat did not log the robot message:\n%s", servers[0].String())
	}
}

func waitFor(t *testing.T, url string, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute) // a hang guard: the first start migrates and loads regions
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v\n%s", url, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
