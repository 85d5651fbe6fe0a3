package schemareg

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
)

// jsonSchemaFor is the JSON Schema (draft-07) of the objects the json codec
// writes for schema (docs/types.md): what a sink registers. A nullable
// column's type also allows null; a non-nullable one is required.
func jsonSchemaFor(schema *arrow.Schema, title string) (string, error) {
	obj, err := jsonObject(schema.Fields())
	if err != nil {
		return "", err
	}
	obj["$schema"] = "http://json-schema.org/draft-07/schema#"
	obj["title"] = title
	b, err := json.Marshal(obj)
	return string(b), err
}

func jsonObject(fields []arrow.Field) (map[string]any, error) {
	props := map[string]any{}
	required := []string{}
	for _, f := range fields {
		t, err := jsonType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		if f.Nullable {
			t["type"] = []any{t["type"], "null"}
		} else {
			required = append(required, f.Name)
		}
		props[f.Name] = t
	}
	return map[string]any{"type": "object", "properties": props, "required": required}, nil
}

// jsonType is the JSON Schema of the values the json codec writes for dt.
func jsonType(dt arrow.DataType) (map[string]any, error) {
	switch dt := dt.(type) {
	case *arrow.BooleanType:
		return map[string]any{"type": "boolean"}, nil
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type:
		return map[string]any{"type": "integer"}, nil
	case *arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type:
		return map[string]any{"type": "number"}, nil
	case *arrow.StringType, *arrow.LargeStringType:
		return map[string]any{"type": "string"}, nil
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return map[string]any{"type": "string", "contentEncoding": "base64"}, nil
	case *arrow.Date32Type:
		return map[string]any{"type": "string", "format": "date"}, nil
	case *arrow.TimestampType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case *arrow.Decimal128Type:
		return map[string]any{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]+)?$`}, nil
	case *arrow.ListType:
		items, err := jsonType(dt.Elem())
		if err != nil {
			return nil, err
		}
		if dt.ElemField().Nullable {
			items["type"] = []any{items["type"], "null"}
		}
		return map[string]any{"type": "array", "items": items}, nil
	case *arrow.StructType:
		return jsonObject(dt.Fields())
	}
	return nil, fmt.Errorf("%s has no JSON Schema the json codec reads back", dt)
}

// jsonAccepts lists the JSON types a column of dt reads (docs/types.md).
// nil: any value (utf8 keeps any JSON value's text).
func jsonAccepts(dt arrow.DataType) []string {
	switch dt.(type) {
	case *arrow.BooleanType:
		return []string{"boolean"}
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type:
		return []string{"integer"}
	case *arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type:
		return []string{"number", "integer"}
	case *arrow.StringType, *arrow.LargeStringType:
		return nil
	case *arrow.Decimal128Type:
		return []string{"string", "number", "integer"}
	case *arrow.ListType:
		return []string{"array"}
	case *arrow.StructType:
		return []string{"object"}
	}
	return []string{"string"} // binary, dates, timestamps
}

// checkJSONSchema checks that the objects a registered JSON Schema
// describes decode into target: each column's property, where the schema
// declares its type, may only hold JSON types the column reads, and a
// column the schema does not declare (while it closes the object with
// additionalProperties: false) must be nullable. Properties the pipeline
// lacks are skipped, as the json codec skips unknown keys. Only a
// property's own "type" is checked, not $ref or combinators.
func checkJSONSchema(text string, target *arrow.Schema) error {
	var s struct {
		Type                 any                        `json:"type"`
		Properties           map[string]json.RawMessage `json:"properties"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
	}
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return fmt.Errorf("not a JSON Schema: %w", err)
	}
	if t := jsonTypes(s.Type); t != nil && !slices.Contains(t, "object") {
		return fmt.Errorf("its type is %v, not an object", t)
	}
	closed := s.AdditionalProperties != nil && !*s.AdditionalProperties
	for _, f := range target.Fields() {
		raw, ok := s.Properties[f.Name]
		if !ok {
			if closed && !f.Nullable {
				return fmt.Errorf("it has no property %q, and the pipeline's column is not nullable", f.Name)
			}
			continue
		}
		var p struct {
			Type any `json:"type"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("property %q: %w", f.Name, err)
		}
		accepts := jsonAccepts(f.Type)
		if accepts == nil {
			continue
		}
		for _, t := range jsonTypes(p.Type) {
			if t != "null" && !slices.Contains(accepts, t) {
				return fmt.Errorf("property %q may be %s, which a %s column does not read", f.Name, t, f.Type)
			}
		}
	}
	return nil
}

// jsonTypes is a JSON Schema "type": one name or a list; nil when absent.
func jsonTypes(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, t := range v {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
