package app_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shiliu/shiliu/server/apitest"
	"github.com/shiliu/shiliu/server/config"
	"github.com/xuri/excelize/v2"
)

// slowPost is a request whose body the test sends by hand, as a phone on a weak network does:
// send writes more of it, and done answers the status and error code once the server replies.
type slowPost struct {
	pw   *io.PipeWriter
	done chan slowResult
}

type slowResult struct {
	status int
	code   string
	err    error
}

func startSlowPost(t *testing.T, e *apitest.Env, path, token, contentType string) *slowPost {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(context.Background(), "POST", e.URL+path, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	s := &slowPost{pw: pw, done: make(chan slowResult, 1)}
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.done <- slowResult{err: err}
			return
		}
		defer resp.Body.Close()
		var eb struct {
			Code string `json:"code"`
		}
		body, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(body, &eb)
		s.done <- slowResult{status: resp.StatusCode, code: eb.Code}
	}()
	t.Cleanup(func() { pw.Close() })
	return s
}

func (s *slowPost) send(t *testing.T, b []byte) {
	t.Helper()
	if _, err := s.pw.Write(b); err != nil {
		t.Fatal(err)
	}
}

// wait returns the answer, failing the test if none comes within d.
func (s *slowPost) wait(t *testing.T, d time.Duration) slowResult {
	t.Helper()
	select {
	case r := <-s.done:
		return r
	case <-time.After(d):
		t.Fatalf("no answer within %s", d)
		return slowResult{}
	}
}

// trickle sends a request on a connection of its own, its body one byte every so often, and
// reads the answer while still sending (net/http's client gives up on an answer that comes
// while it writes).
func trickle(t *testing.T, e *apitest.Env, path, token, contentType string, body []byte, every time.Duration) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: shiliu.test\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		path, token, contentType, len(body))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for _, b := range body {
			select {
			case <-stop:
				return
			case <-time.After(every):
			}
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the trickling request: %v", err)
	}
	defer resp.Body.Close()
	var eb struct {
		Code string `json:"code"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&eb)
	return resp.StatusCode, eb.Code
}

// waitFor polls cond until it holds, failing after 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("never: " + what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// bombWorkbook is the import template whose roster sheet holds, after the header row, mb
// megabytes of identical rows: a few hundred kilobytes packed, mb megabytes unpacked.
func bombWorkbook(t *testing.T, staff *apitest.Client, mb int) []byte {
	t.Helper()
	tpl := raWorkbook(t, staff, nil)
	zr, err := zip.NewReader(bytes.NewReader(tpl), int64(len(tpl)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, f := range zr.File {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if f.Name != "xl/worksheets/sheet1.xml" {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(w, rc)
			rc.Close()
			continue
		}
		var head strings.Builder
		head.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`)
		for i, h := range []string{"单位名称", "单位类型", "区划代码", "姓名", "性别", "民族", "手机号", "选聘范围"} {
			fmt.Fprintf(&head, `<c r="%c1" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+i, h)
		}
		head.WriteString(`</row>`)
		io.WriteString(w, head.String())
		row := `<row><c t="inlineStr"><is><t>炸弹村</t></is></c><c t="inlineStr"><is><t>村</t></is></c></row>`
		chunk := []byte(strings.Repeat(row, (1<<20)/len(row)))
		for range mb {
			w.Write(chunk)
		}
		io.WriteString(w, `</sheetData></worksheet>`)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestImportBombIsRefusedUnparsed: a workbook of a few hundred kilobytes that unpacks to over
// 100 MB is refused from its zip directory, at once, with its own code and the field: it is
// never parsed (before, such a file took 41 s of CPU and 300 MB of memory).
func TestImportBombIsRefusedUnparsed(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	bomb := bombWorkbook(t, staff, 120)
	zr, err := zip.NewReader(bytes.NewReader(bomb), int64(len(bomb)))
	if err != nil {
		t.Fatal(err)
	}
	var unpacked uint64
	for _, f := range zr.File {
		unpacked += f.UncompressedSize64
	}
	if len(bomb) > 1<<20 || unpacked < 100<<20 {
		t.Fatalf("not a bomb: %d bytes packed, %d unpacked", len(bomb), unpacked)
	}
	start := time.Now()
	r := raUpload(t, staff, "/api/v1/roster/import", bomb)
	took := time.Since(start)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("bomb: %d %.300s (after %s)", r.Status, r.Body, took)
	}
	eb := r.Err(t)
	if eb.Code != "workbook_too_large" || len(eb.Details) != 1 || eb.Details[0].Field != "file" || !strings.Contains(eb.Message, "64MB") {
		t.Fatalf("bomb answer: %+v", eb)
	}
	if took > 3*time.Second {
		t.Fatalf("refusing the bomb took %s", took)
	}
}

// TestImportOverRowLimitIsRefused: a sheet with one data row more than an import takes is refused
// with its own code and the limit in the message, as soon as the row is counted.
func TestImportOverRowLimitIsRefused(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"单位名称", "单位类型", "区划代码", "姓名", "性别", "民族", "手机号", "选聘范围"})
	for i := range 20001 {
		sw.SetRow(fmt.Sprintf("A%d", i+2), []any{"超限村"})
	}
	sw.Flush()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	r := raUpload(t, staff, "/api/v1/roster/import", buf.Bytes())
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("20,001 rows: %d %.300s", r.Status, r.Body)
	}
	if eb := r.Err(t); eb.Code != "too_many_rows" || eb.Details[0].Field != "file" || !strings.Contains(eb.Message, "20000行") {
		t.Fatalf("row limit answer: %+v", eb)
	}
}

// TestConcurrentImportsAreCapped: with room for one import, a second one while the first is still
// being received gets 503 with Retry-After at once; the first completes, and the place is free
// again afterwards.
func TestConcurrentImportsAreCapped(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	capped := apitest.Another(t, e.Clock, func(c *config.Config) { c.Uploads.ImportMaxConcurrent = 1 })
	staff := capped.As(t, e.Staff(t, "county_staff", apitest.CountyA1).Token)
	file := raWorkbook(t, staff, [][]string{raRow("限流村"+apitest.Unique(), apitest.TownshipA1)})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "名册.xlsx")
	fw.Write(file)
	mw.Close()

	first := startSlowPost(t, capped, "/api/v1/roster/import", staff.Token, mw.FormDataContentType())
	half := body.Len() / 2
	first.send(t, body.Bytes()[:half])
	// The first import takes its place once its request arrives; until then a second one would
	// get through (and be refused as not a workbook).
	var busy *apitest.Response
	waitFor(t, "a second import is refused as busy", func() bool {
		busy = raUpload(t, staff, "/api/v1/roster/import", []byte("not a workbook"))
		return busy.Status == http.StatusServiceUnavailable
	})
	if eb := busy.Err(t); eb.Code != "unavailable" || !strings.Contains(eb.Message, "导入") || !strings.Contains(eb.Message, "稍后") {
		t.Fatalf("busy answer: %+v", eb)
	}
	if ra := busy.Header.Get("Retry-After"); ra != "10" {
		t.Fatalf("Retry-After %q", ra)
	}
	first.send(t, body.Bytes()[half:])
	first.pw.Close()
	if res := first.wait(t, 30*time.Second); res.err != nil || res.status != http.StatusCreated {
		t.Fatalf("the held import: %+v", res)
	}
	if r := raUpload(t, staff, "/api/v1/roster/import", []byte("not a workbook")).Err(t); r.Code != "invalid_file" {
		t.Fatalf("after the first import: %+v", r)
	}
}

// TestUploadsAreCappedPerAccount: one account holding its share of the upload places with slow
// uploads gets 429 with Retry-After for one more, while another account's upload goes through.
func TestUploadsAreCappedPerAccount(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	capped := apitest.Another(t, e.Clock, func(c *config.Config) {
		c.Uploads.MaxConcurrent = 4
		c.Uploads.MaxPerAccount = 2
	})
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	greedy, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))
	other, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))

	var slow []*slowPost
	var bodies [][]byte
	for i := range 2 {
		ct, body := uploadForm(t, apitest.ClientID(), true, fmt.Sprintf("slow%d.png", i), pngImage(t))
		s := startSlowPost(t, capped, "/api/v1/uploads", greedy.Token, ct)
		s.send(t, body[:len(body)/2])
		slow, bodies = append(slow, s), append(bodies, body)
	}
	waitFor(t, "two slow uploads hold their places", func() bool { return capped.App.Uploads.InFlight() == 2 })

	r := uploadFile(t, capped.As(t, greedy.Token), "third.png", pngImage(t))
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("third upload of the same account: %d %s", r.Status, r.Body)
	}
	if eb := r.Err(t); eb.Code != "rate_limited" || !strings.Contains(eb.Message, "同时上传") {
		t.Fatalf("per-account answer: %+v", eb)
	}
	if ra := r.Header.Get("Retry-After"); ra != "5" {
		t.Fatalf("Retry-After %q", ra)
	}
	mustUpload(t, capped.As(t, other.Token), "other.png", pngImage(t))

	for i, s := range slow {
		s.send(t, bodies[i][len(bodies[i])/2:])
		s.pw.Close()
		if res := s.wait(t, 30*time.Second); res.err != nil || res.status != http.StatusCreated {
			t.Fatalf("slow upload %d: %+v", i, res)
		}
	}
	mustUpload(t, capped.As(t, greedy.Token), "fourth.png", pngImage(t))
}

// TestStalledUploadsAreCutOff: an upload whose body stops arriving is answered 408 after the
// stall timeout and gives its place back; one that trickles a byte at a time is cut off at the
// transfer timeout the same way; a stalled roster import too.
func TestStalledUploadsAreCutOff(t *testing.T) {
	t.Parallel()
	e := apitest.Shared(t)
	quick := apitest.Another(t, e.Clock, func(c *config.Config) {
		c.Uploads.StallTimeout = 300 * time.Millisecond
		c.Uploads.TransferTimeout = 2 * time.Second
	})
	staff := e.Staff(t, "county_staff", apitest.CountyA1)
	ins, _ := e.InstructorClient(t, staff, staff.Unit("village", apitest.TownshipA1))

	ct, body := uploadForm(t, apitest.ClientID(), true, "stalled.png", pngImage(t))
	stalled := startSlowPost(t, quick, "/api/v1/uploads", ins.Token, ct)
	stalled.send(t, body[:len(body)/2])
	start := time.Now()
	if res := stalled.wait(t, 10*time.Second); res.status != http.StatusRequestTimeout || res.code != "upload_timeout" {
		t.Fatalf("stalled upload: %+v", res)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Fatalf("the stalled upload was cut off after %s", took)
	}
	waitFor(t, "the stalled upload's place is free", func() bool { return quick.App.Uploads.InFlight() == 0 })

	// A byte every 100 ms never stalls for 300 ms, but does not finish within the transfer timeout.
	if status, code := trickle(t, quick, "/api/v1/uploads", ins.Token, ct, body, 100*time.Millisecond); status != http.StatusRequestTimeout || code != "upload_timeout" {
		t.Fatalf("trickling upload: %d %s", status, code)
	}

	imp := startSlowPost(t, quick, "/api/v1/roster/import", staff.Token, ct)
	imp.send(t, body[:len(body)/2])
	if res := imp.wait(t, 10*time.Second); res.status != http.StatusRequestTimeout || res.code != "upload_timeout" {
		t.Fatalf("stalled import: %+v", res)
	}
	mustUpload(t, quick.As(t, ins.Token), "after.png", pngImage(t))
}
