package config

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The mini-program is in the same repository; these tests read it from there.
var miniprogramDir = filepath.Join("..", "..", "miniprogram-api", "miniprogram")

func miniprogramPages(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(miniprogramDir, "app.json"))
	if err != nil {
		t.Fatal(err)
	}
	var app struct {
		Pages []string `json:"pages"`
	}
	if err := json.Unmarshal(raw, &app); err != nil {
		t.Fatalf("app.json: %v", err)
	}
	if len(app.Pages) == 0 {
		t.Fatal("app.json lists no pages")
	}
	pages := map[string]bool{}
	for _, p := range app.Pages {
		pages[p] = true
	}
	return pages
}

// A tapped subscribe message opens its template's page: every page configured, by default and
// in the example configuration, must be a page of the mini-program (app.json), named as WeChat
// wants it (no leading "/", query after "?").
func TestTemplatePagesExist(t *testing.T) {
	pages := miniprogramPages(t)
	example, err := Load(filepath.Join("..", "..", "configs", "shiliu.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for source, templates := range map[string]map[string]TemplateConfig{
		"default": Default().Notify.Templates, "shiliu.example.yaml": example.Notify.Templates,
	} {
		for name, tpl := range templates {
			if tpl.Page == "" {
				continue // no page: the message opens the mini-program's home page
			}
			path, query, _ := strings.Cut(tpl.Page, "?")
			if !pages[path] {
				t.Errorf("%s: notify.templates.%s.page %q: %q is not a page of the mini-program (app.json)", source, name, tpl.Page, path)
			}
			for param := range strings.SplitSeq(query, "&") {
				if query != "" && !strings.Contains(param, "=") {
					t.Errorf("%s: notify.templates.%s.page %q: query %q is not key=value", source, name, tpl.Page, param)
				}
			}
		}
	}
}

// The example configuration documents the default templates as they are.
func TestExampleTemplatesMatchDefaults(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "configs", "shiliu.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := Default().Notify.Templates
	if got, want := slices.Sorted(maps.Keys(c.Notify.Templates)), slices.Sorted(maps.Keys(d)); !slices.Equal(got, want) {
		t.Fatalf("example templates %v, defaults %v", got, want)
	}
	for name, tpl := range d {
		ex := c.Notify.Templates[name]
		if ex.Page != tpl.Page || !maps.Equal(ex.Data, tpl.Data) || ex.LongTerm != tpl.LongTerm {
			t.Errorf("notify.templates.%s: example %+v, default %+v", name, ex, tpl)
		}
	}
}

// Every template the mini-program asks the user to accept (config.js templates) is one the
// server sends with: a template the server does not know would spend the user's grants on nothing.
func TestMiniprogramTemplatesAreKnown(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(miniprogramDir, "config.js"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	start := strings.Index(src, "templates: {")
	if start < 0 {
		t.Fatal("config.js: no templates object")
	}
	block, _, ok := strings.Cut(src[start+len("templates: {"):], "}")
	if !ok {
		t.Fatal("config.js: templates object not closed")
	}
	key := regexp.MustCompile(`^\s*([a-z_]+)\s*:`)
	d := Default().Notify.Templates
	var names []string
	for line := range strings.SplitSeq(block, "\n") {
		if m := key.FindStringSubmatch(line); m != nil && !strings.HasPrefix(strings.TrimSpace(line), "//") {
			names = append(names, m[1])
			if _, ok := d[m[1]]; !ok {
				t.Errorf("config.js asks for template %q, which notify.templates does not have", m[1])
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("config.js: no template names found")
	}
}
