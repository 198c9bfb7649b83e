package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// ContractFile is the API contract, relative to the module root.
const ContractFile = "miniprogram-api/openapi.yaml"

type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	contractOnce sync.Once
	loaded       *contract
	loadErr      error

	exercisedMu sync.Mutex
	exercised   = map[string]bool{}
)

// loadContract reads and validates the contract once per test binary.
func loadContract() (*contract, error) {
	contractOnce.Do(func() { loaded, loadErr = readContract() })
	return loaded, loadErr
}

func readContract() (*contract, error) {
	path, err := ContractPath()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", ContractFile, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", ContractFile, err)
	}
	// The chunks of a resumable upload (tus) are raw bytes.
	openapi3filter.RegisterBodyDecoder("application/offset+octet-stream", openapi3filter.FileBodyDecoder)
	// Match requests to any host and port (tests listen on :0): only the path matters.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", ContractFile, err)
	}
	return &contract{doc: doc, router: r}, nil
}

// ContractPath finds the contract by walking up from the working directory to the module root.
func ContractPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(ContractFile)), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("apitest: no go.mod above the working directory, cannot find " + ContractFile)
		}
		dir = parent
	}
}

// ContractRoutes lists every operation of the contract as "METHOD /path/{param}", sorted.
func ContractRoutes() ([]string, error) {
	c, err := loadContract()
	if err != nil {
		return nil, err
	}
	var out []string
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Exercised returns the operations ("GET /api/v1/units/{id}") the tests of this binary have sent
// a request to so far.
func Exercised() map[string]bool {
	exercisedMu.Lock()
	defer exercisedMu.Unlock()
	out := make(map[string]bool, len(exercised))
	for k, v := range exercised {
		out[k] = v
	}
	return out
}

func markExercised(op string) {
	exercisedMu.Lock()
	exercised[op] = true
	exercisedMu.Unlock()
}

// checkContract validates one exchange against miniprogram-api/openapi.yaml: the route must be in
// the contract, a request the server accepted must match it, and every response must match the
// documented status and body. Requests the server refused are not checked: tests send those
// malformed on purpose.
func checkContract(t testing.TB, req *http.Request, body []byte, resp *Response) {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Errorf("API contract: %v", err) // not Fatalf: clients may run in goroutines of their own
		return
	}
	ctx := context.Background()
	method, path := req.Method, req.URL.Path

	// The request was sent and its body spent; validate a copy carrying the body again.
	vreq := req.Clone(ctx)
	vreq.Body, vreq.ContentLength = http.NoBody, 0
	if body != nil {
		vreq.Body, vreq.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}

	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		switch {
		case isUnknownRoute(resp):
			// A deliberately unknown path: the server's NoRoute answer must still be a proper error.
			checkErrorBody(t, c, method, path, resp)
		case errors.Is(err, routers.ErrMethodNotAllowed) && resp.Status == http.StatusMethodNotAllowed:
			checkErrorBody(t, c, method, path, resp)
		default:
			t.Errorf("API contract: %s %s (answered %d) is not described in %s: %v", method, path, resp.Status, ContractFile, err)
		}
		return
	}
	markExercised(method + " " + route.Path)

	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc, // who may call what is the server's job
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if resp.Status < 400 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("API contract: the server accepted (%d) a request to %s %s that %s does not allow: %v\nrequest body: %s",
				resp.Status, method, route.Path, ContractFile, err, truncate(body))
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.Status,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(resp.Body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("API contract: response %d of %s %s (%s) does not match %s: %v\nresponse body: %s",
			resp.Status, method, path, route.Path, ContractFile, err, truncate(resp.Body))
	}
	if extra := undocumentedProperties(decodeJSON(resp.Body), responseSchema(route.Operation, resp)); len(extra) > 0 {
		t.Errorf("API contract: response %d of %s %s (%s) has properties %s does not describe: %s\nresponse body: %s",
			resp.Status, method, path, route.Path, ContractFile, strings.Join(extra, ", "), truncate(resp.Body))
	}
}

// responseSchema is the documented JSON body schema of resp's status (or the default response),
// nil when there is none.
func responseSchema(op *openapi3.Operation, resp *Response) *openapi3.SchemaRef {
	if op == nil || op.Responses == nil {
		return nil
	}
	r := op.Responses.Status(resp.Status)
	if r == nil {
		r = op.Responses.Default()
	}
	if r == nil || r.Value == nil {
		return nil
	}
	mt := r.Value.Content.Get("application/json")
	if mt == nil {
		return nil
	}
	return mt.Schema
}

// decodeJSON is body decoded as JSON, nil when it is not JSON.
func decodeJSON(body []byte) any {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	return v
}

// isUnknownRoute reports whether resp is the router's answer to a path it does not have.
func isUnknownRoute(resp *Response) bool {
	if resp.Status != http.StatusNotFound {
		return false
	}
	var e struct{ Code, Message string }
	return json.Unmarshal(resp.Body, &e) == nil && e.Code == "not_found" && e.Message == "接口不存在"
}

// checkErrorBody validates a response outside any documented operation against the error schema.
func checkErrorBody(t testing.TB, c *contract, method, path string, resp *Response) {
	t.Helper()
	ref := c.doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		t.Errorf("API contract: %s has no Error schema", ContractFile)
		return
	}
	var v any
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		t.Errorf("API contract: response %d of %s %s is not JSON: %v: %s", resp.Status, method, path, err, truncate(resp.Body))
		return
	}
	if err := ref.Value.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
		t.Errorf("API contract: response %d of %s %s does not match the Error schema: %v\nresponse body: %s",
			resp.Status, method, path, err, truncate(resp.Body))
	}
	if extra := undocumentedProperties(v, ref); len(extra) > 0 {
		t.Errorf("API contract: response %d of %s %s has properties the Error schema does not describe: %s\nresponse body: %s",
			resp.Status, method, path, strings.Join(extra, ", "), truncate(resp.Body))
	}
}
