package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/shiliu/shiliu/server/apperr"
	"github.com/shiliu/shiliu/server/validate"
)

var errTooLarge = apperr.New(http.StatusRequestEntityTooLarge, "payload_too_large", "提交的内容过大")

// decode reads a JSON body into dst, turning every way it can be wrong into a 4xx that names the
// field where it can. Every text value in it is cleaned first (see cleanText), so no route stores
// control characters or blank text.
func decode(c *gin.Context, dst any) error {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return apperr.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "请以JSON格式提交(Content-Type: application/json)")
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return jsonError(err, nil)
	}
	if raw, err = cleanText(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, reflect.TypeOf(dst))
	}
	return nil
}

// multiLine are the fields, by their JSON name wherever they appear, where a person writes
// paragraphs (a textarea on the phone): newlines and tabs are kept there and refused elsewhere.
var multiLine = map[string]bool{
	"content": true, "description": true, "process": true, "agreement": true, "answer": true,
	"suggestion": true, "statement": true, "text": true, "body": true, "agenda": true,
	"goals": true, "summary": true, "note": true, "reason": true, "review_note": true,
	"return_reason": true, "reject_reason": true, "rsvp_note": true,
}

// cleanText applies validate.Text to every string of a JSON document, whatever route it came
// to and whatever its shape (a typed request or a record body read field by field), and returns
// the document with the cleaned values. Passwords are taken as typed: a space may be part of one.
func cleanText(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, jsonError(err, nil)
	}
	if dec.More() {
		return nil, apperr.Invalid("请求体只能包含一个JSON对象")
	}
	var v validate.Checker
	doc = cleanValue(doc, "", "", &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

func cleanValue(x any, path, key string, v *validate.Checker) any {
	switch x := x.(type) {
	case string:
		if strings.Contains(key, "password") {
			return x
		}
		s, msg := validate.Text(x, multiLine[key])
		if msg != "" {
			v.Fail(path, msg)
		}
		return s
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			x[k] = cleanValue(e, p, k, v)
		}
	case []any:
		for i, e := range x {
			x[i] = cleanValue(e, fmt.Sprintf("%s[%d]", path, i), key, v)
		}
	}
	return x
}

func jsonError(err error, dst reflect.Type) error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return errTooLarge
	case errors.Is(err, io.EOF):
		return apperr.New(http.StatusBadRequest, "invalid_json", "请求体不能为空")
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(http.StatusBadRequest, "invalid_json", "请求体不是有效的JSON")
	case errors.As(err, &typeErr):
		field := wirePath(dst, typeErr.Field)
		if field == "" {
			return apperr.New(http.StatusBadRequest, "invalid_json", "请求体应为JSON对象")
		}
		return apperr.Invalid("提交的内容有误:"+field+"的类型不正确").WithField(field, fmt.Sprintf("应为%s", typeName(typeErr.Type.Kind().String())))
	default:
		if strings.HasPrefix(err.Error(), "json: ") {
			return apperr.New(http.StatusBadRequest, "invalid_json", "请求体不是有效的JSON")
		}
		return err
	}
}

func typeName(kind string) string {
	switch kind {
	case "string":
		return "字符串"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "数字"
	case "bool":
		return "布尔值"
	case "slice":
		return "数组"
	case "struct", "map":
		return "对象"
	}
	return kind
}

// pathID reads a positive integer path parameter.
func pathID(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound("资源不存在")
	}
	return id, nil
}

// queryID reads an optional positive integer query parameter.
func queryID(c *gin.Context, name string) (int64, error) {
	s := c.Query(name)
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.Field(name, name+"应为正整数")
	}
	return id, nil
}

// queryBool reads an optional true/false query parameter.
func queryBool(c *gin.Context, name string) (*bool, error) {
	switch c.Query(name) {
	case "":
		return nil, nil
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	}
	return nil, apperr.Field(name, name+"应为true或false")
}

// wirePath is a type error's field path as the client wrote it. encoding/json names a field
// promoted from an embedded struct with the embedded field's Go name in front
// ("personRequest.unit_id"); the body has no such key, so those segments go.
func wirePath(t reflect.Type, path string) string {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t != nil && t.Kind() == reflect.Struct {
			if f, ok := t.FieldByName(seg); ok && f.Anonymous {
				t = f.Type
				continue
			}
			t = fieldByJSONName(t, seg)
		} else {
			t = nil
		}
		out = append(out, seg)
	}
	return strings.Join(out, ".")
}

// fieldByJSONName is the type of the struct field (promoted ones included) a JSON key fills.
func fieldByJSONName(t reflect.Type, key string) reflect.Type {
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == key || (name == "" && strings.EqualFold(f.Name, key)) {
			return f.Type
		}
	}
	return nil
}

// maxStatuses bounds how many statuses a list is asked for: no list has more.
const maxStatuses = 12

// queryStatuses reads a list's status filter: the parameter repeated for each status asked for
// (status=submitted&status=acknowledged), any of them; an empty value asks for nothing more. Each
// list checks the values against its own statuses.
func queryStatuses(c *gin.Context) ([]string, error) {
	var out []string
	for _, s := range c.QueryArray("status") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) > maxStatuses {
		return nil, apperr.Field("status", fmt.Sprintf("状态最多%d个", maxStatuses))
	}
	return out, nil
}
