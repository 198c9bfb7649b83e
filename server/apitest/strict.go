package apitest

import (
	"sort"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
)

// undocumentedProperties lists the properties of value (a decoded JSON body) that schema does not
// name, as "$.path.name". JSON Schema lets such properties through unless a schema says
// additionalProperties: false, and the contract does not say that everywhere; the mini-program's
// checker (miniprogram-api/spec/helpers/contract.js) rejects them, and so does this one, by the same
// rule: an object schema is closed unless it declares additionalProperties, and the names it
// allows are its own properties together with those of its allOf parts and of the anyOf/oneOf
// branches the value matches. A field the server sends and the contract does not describe is
// either a leak or something the client cannot rely on; both should fail a test.
func undocumentedProperties(value any, schema *openapi3.SchemaRef) []string {
	var out []string
	walkStrict(value, schema, "$", &out)
	sort.Strings(out)
	return out
}

func walkStrict(value any, ref *openapi3.SchemaRef, at string, out *[]string) {
	if ref == nil || ref.Value == nil {
		return
	}
	parts := schemaParts(ref.Value, value)
	switch v := value.(type) {
	case map[string]any:
		open, named := false, map[string][]*openapi3.SchemaRef{}
		var extra []*openapi3.SchemaRef
		for _, s := range parts {
			if s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has {
				open = true
			}
			if s.AdditionalProperties.Schema != nil {
				extra = append(extra, s.AdditionalProperties.Schema)
			}
			for name, p := range s.Properties {
				named[name] = append(named[name], p)
			}
		}
		if isAnything(parts) {
			return
		}
		for name, field := range v {
			where := at + "." + name
			subs, ok := named[name]
			switch {
			case ok:
			case len(extra) > 0:
				subs = extra
			case open:
				continue
			default:
				*out = append(*out, where)
				continue
			}
			for _, sub := range subs {
				walkStrict(field, sub, where, out)
			}
		}
	case []any:
		for _, s := range parts {
			if s.Items == nil {
				continue
			}
			for i, item := range v {
				walkStrict(item, s.Items, at+"["+strconv.Itoa(i)+"]", out)
			}
		}
	}
}

// schemaParts flattens s into itself, its allOf parts, and the anyOf/oneOf branches value
// matches (a branch it does not match says nothing about the value's names).
func schemaParts(s *openapi3.Schema, value any) []*openapi3.Schema {
	out := []*openapi3.Schema{s}
	for _, p := range s.AllOf {
		if p != nil && p.Value != nil {
			out = append(out, schemaParts(p.Value, value)...)
		}
	}
	for _, branches := range []openapi3.SchemaRefs{s.AnyOf, s.OneOf} {
		for _, p := range branches {
			if p == nil || p.Value == nil {
				continue
			}
			if p.Value.VisitJSON(value, openapi3.VisitAsResponse()) == nil {
				out = append(out, schemaParts(p.Value, value)...)
			}
		}
	}
	return out
}

// isAnything reports whether the schema parts say nothing about an object's shape: no type, no
// properties and no composition, as `{}` (any value) is written.
func isAnything(parts []*openapi3.Schema) bool {
	for _, s := range parts {
		if s.Type != nil || len(s.Properties) > 0 || len(s.AllOf) > 0 || len(s.AnyOf) > 0 || len(s.OneOf) > 0 ||
			s.AdditionalProperties.Has != nil || s.AdditionalProperties.Schema != nil {
			return false
		}
	}
	return true
}
