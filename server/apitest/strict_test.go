package apitest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

const strictSpec = `
openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Base:
      type: object
      properties:
        id: {type: integer}
        tags:
          type: array
          items:
            type: object
            properties:
              name: {type: string}
    Detail:
      allOf:
        - $ref: '#/components/schemas/Base'
        - type: object
          properties:
            rows: {type: array, items: {$ref: '#/components/schemas/Base'}}
    Open:
      type: object
      additionalProperties: true
      properties:
        id: {type: integer}
    Counts:
      type: object
      additionalProperties:
        type: object
        properties:
          n: {type: integer}
    Either:
      oneOf:
        - type: object
          required: [a]
          properties:
            a: {type: string}
        - type: object
          required: [b]
          properties:
            b: {type: integer}
    Anything:
      description: any JSON value
    Nullable:
      type: object
      properties:
        inner:
          nullable: true
          allOf:
            - $ref: '#/components/schemas/Base'
`

func TestUndocumentedProperties(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(strictSpec))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		schema, body string
		want         []string
	}{
		{"Base", `{"id":1,"tags":[{"name":"x"}]}`, nil},
		{"Base", `{"id":1,"secret":"x"}`, []string{"$.secret"}},
		{"Base", `{"id":1,"tags":[{"name":"x"},{"name":"y","internal":1}]}`, []string{"$.tags[1].internal"}},
		{"Detail", `{"id":1,"rows":[{"id":2}]}`, nil},
		{"Detail", `{"id":1,"rows":[{"id":2,"deleted_at":null}],"extra":true}`, []string{"$.extra", "$.rows[0].deleted_at"}},
		{"Open", `{"id":1,"whatever":{"deep":1}}`, nil},
		{"Counts", `{"x":{"n":1},"y":{"n":2,"m":3}}`, []string{"$.y.m"}},
		{"Either", `{"a":"x"}`, nil},
		{"Either", `{"b":1,"c":2}`, []string{"$.c"}},
		{"Anything", `{"free":{"form":true}}`, nil},
		{"Nullable", `{"inner":null}`, nil},
		{"Nullable", `{"inner":{"id":1,"leak":1}}`, []string{"$.inner.leak"}},
		{"Base", `[1,2]`, nil},
	}
	for _, c := range cases {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		got := undocumentedProperties(v, doc.Components.Schemas[c.schema])
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: undocumented %v, want %v", c.schema, c.body, got, c.want)
		}
	}
}

// TestContractResponsesAreClosed: the check applies to the real contract's response bodies, so a
// field a handler leaks fails the test that receives it.
func TestContractResponsesAreClosed(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	op := c.doc.Paths.Find("/api/v1/units/{id}").Get
	schema := responseSchema(op, &Response{Status: 200})
	if schema == nil {
		t.Fatal("no 200 body schema for GET /api/v1/units/{id}")
	}
	body := decodeJSON([]byte(`{"id":1,"name":"单位","kind":"school","kind_name":"学校","key_task":"","region_code":"130102000000",
		"region_name":"长安区","address":"","active_instructors":0,"created_at":"2026-01-01T00:00:00Z",
		"updated_at":"2026-01-01T00:00:00Z","deleted_at":null}`))
	if got := undocumentedProperties(body, schema); !reflect.DeepEqual(got, []string{"$.deleted_at"}) {
		t.Errorf("undocumented %v, want [$.deleted_at]", got)
	}
	errSchema := responseSchema(op, &Response{Status: 404})
	if got := undocumentedProperties(decodeJSON([]byte(`{"code":"unit_not_found","message":"单位不存在","stack":"x"}`)), errSchema); !reflect.DeepEqual(got, []string{"$.stack"}) {
		t.Errorf("undocumented %v, want [$.stack]", got)
	}
}
