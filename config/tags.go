package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TagFilter is one Tag.N filter: groups carrying this key with this value.
type TagFilter struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

// TagFilters are the Tag.N filters, in the order they are sent. The API
// takes a list, so one key may appear with several values; the file may
// give a list of {key, value} or, when every key is distinct, a mapping.
type TagFilters []TagFilter

// UnmarshalYAML accepts a mapping (sent in key order) or a list.
func (t *TagFilters) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return n.Decode((*[]TagFilter)(t))
	}
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return err
	}
	*t = (*t)[:0]
	for _, k := range slices.Sorted(maps.Keys(m)) {
		*t = append(*t, TagFilter{Key: k, Value: m[k]})
	}
	return nil
}

// TagLabel puts a group tag on the group's series as label tag_<label>.
type TagLabel struct {
	Key   string `yaml:"key"`
	Label string `yaml:"label"` // empty: derived from Key
}

// UnmarshalYAML accepts a bare tag key ("department") or {key, label}.
func (t *TagLabel) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&t.Key)
	}
	type plain TagLabel
	return n.Decode((*plain)(t))
}

// TagLabelsOf lists plain tag_labels entries, one per key.
func TagLabelsOf(keys ...string) []TagLabel {
	out := make([]TagLabel, len(keys))
	for i, k := range keys {
		out[i] = TagLabel{Key: k}
	}
	return out
}

// Where tag labels go (tag_labels_on).
const (
	TagLabelsOnAll  = "all"  // on every group and pool series
	TagLabelsOnInfo = "info" // only on aliyun_appstream_group_tags
)

var (
	labelUnsafe    = regexp.MustCompile(`[^a-zA-Z0-9_]`)
	labelName      = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	mappableTagKey = regexp.MustCompile(`^[\x20-\x7e]*[a-zA-Z0-9][\x20-\x7e]*$`)
)

// Name is the label the tag becomes: tag_<label>, or for a plain key
// tag_<key> with every character outside [a-zA-Z0-9_] replaced by "_".
func (t TagLabel) Name() string {
	if t.Label != "" {
		return "tag_" + t.Label
	}
	return "tag_" + labelUnsafe.ReplaceAllString(t.Key, "_")
}

func (c *Config) validateTagLabels(bad report) {
	switch c.TagLabelsOn {
	case TagLabelsOnAll, TagLabelsOnInfo:
	default:
		bad("tag_labels_on", "%q: use %q (tag labels on every group and pool series, the default) or %q (only on aliyun_appstream_group_tags, joined by group_id and region)",
			c.TagLabelsOn, TagLabelsOnAll, TagLabelsOnInfo)
	}
	keyAt := map[string]int{}
	nameOf := map[string]string{}
	for i, t := range c.TagLabels {
		p := fmt.Sprintf("tag_labels[%d]", i)
		if strings.TrimSpace(t.Key) == "" {
			bad(p, "a tag key must not be empty")
			continue
		}
		if j, dup := keyAt[t.Key]; dup {
			bad(p, "tag key %q is already listed at tag_labels[%d]; keep one", t.Key, j)
			continue
		}
		keyAt[t.Key] = i
		switch {
		case t.Label != "" && !labelName.MatchString(t.Label):
			bad(p+".label", "%q is not a label name: use letters, digits and _, not starting with a digit (it becomes tag_<label>)", t.Label)
			continue
		case t.Label == "" && !mappableTagKey.MatchString(t.Key):
			bad(p, "tag key %q has characters a label name cannot hold; name the label with the rename form: - {key: %s, label: dept} (becomes tag_dept)",
				t.Key, t.Key)
			continue
		}
		name := t.Name()
		if prev, dup := nameOf[name]; dup {
			bad(p, "tag keys %q and %q both become label %q; give one a label with the rename form {key: ..., label: ...}", prev, t.Key, name)
		}
		nameOf[name] = t.Key
	}
}
