package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkKnownKeys walks the YAML tree against the Go struct tags so an unknown
// key is reported with its line and a suggestion, and records the line of
// every key so later errors can point at it.
func checkKnownKeys(n *yaml.Node, t reflect.Type, path string, lines map[string]int) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.ScalarNode && reflect.PointerTo(t).Implements(yamlUnmarshaler):
		// A short form (tag_labels: [department]); its decoder reads it.
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			return fmt.Errorf("line %d: %s: expected a mapping of keys", n.Line, displayPath(path))
		}
		fields, names := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[key.Value]
			if !ok {
				msg := fmt.Sprintf("line %d: unknown key %q", key.Line, key.Value)
				if path != "" {
					msg += " in " + path
				}
				if _, top := topLevelKeys()[key.Value]; top && strings.HasPrefix(path, "accounts[") {
					msg += " (it is a top-level key, for all accounts at once)"
				} else if i >= 2 && belongsUnder(n.Content[i-2], n.Content[i-1], fields, key.Value) {
					msg += fmt.Sprintf(" (if it belongs under %s, indent it more than line %d)", n.Content[i-2].Value, n.Content[i-2].Line)
				} else if s := closest(key.Value, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				} else {
					msg += fmt.Sprintf(" (valid keys: %s)", strings.Join(names, ", "))
				}
				return errors.New(msg)
			}
			child := joinPath(path, key.Value)
			lines[child] = key.Line
			if err := checkKnownKeys(val, ft, child, lines); err != nil {
				return err
			}
		}
	case isPlainInt(t) && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float":
		// yaml.v3 would silently truncate 7.9 to 7.
		return fmt.Errorf("line %d: %s: expected an integer, got %s", n.Line, displayPath(path), n.Value)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			child := fmt.Sprintf("%s[%d]", path, i)
			lines[child] = item.Line
			if err := checkKnownKeys(item, t.Elem(), child, lines); err != nil {
				return err
			}
		}
	case (t.Kind() == reflect.Map || t.Kind() == reflect.Slice) && n.Kind == yaml.MappingNode:
		// A map, or a list that also takes a mapping (filters.tags).
		for i := 0; i+1 < len(n.Content); i += 2 {
			lines[joinPath(path, n.Content[i].Value)] = n.Content[i].Line
		}
	}
	return nil
}

// yamlFields lists a struct's keys, in order, with their types.
func yamlFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = f.Type
		names = append(names, tag)
	}
	return fields, names
}

// topLevelKeys are the keys of the file's top level.
func topLevelKeys() map[string]reflect.Type {
	fields, _ := yamlFields(reflect.TypeOf(Config{}))
	return fields
}

// belongsUnder spots a key indented too little: it follows a key left
// empty ("credentials:") that would accept it.
func belongsUnder(prevKey, prevVal *yaml.Node, fields map[string]reflect.Type, key string) bool {
	t, ok := fields[prevKey.Value]
	if !ok || prevVal.Kind != yaml.ScalarNode || prevVal.ShortTag() != "!!null" {
		return false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map:
	case reflect.Slice:
		if t != reflect.TypeOf(TagFilters(nil)) { // the one list that takes a mapping
			return false
		}
	case reflect.Struct:
		if f, _ := yamlFields(t); f[key] == nil {
			return false
		}
	default:
		return false
	}
	return true
}

var yamlUnmarshaler = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// isPlainInt is an integer key decoded by yaml.v3 itself (not a Duration).
func isPlainInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return !reflect.PointerTo(t).Implements(yamlUnmarshaler)
	}
	return false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func displayPath(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// closest suggests a known key within a small edit distance of a typo.
func closest(word string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
