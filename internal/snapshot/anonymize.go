package snapshot

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The answer fields whose values a snapshot replaces, by how.
var (
	// idFields keep their prefix ("aig-", "rg-", ...) and get a number:
	// the same ID is the same replacement wherever it appears.
	idFields = []string{"AppInstanceGroupId", "AppCenterImageId", "SpecId", "AppPolicyId", "NodePoolId", "AppId",
		"TaskId", "AppInstanceId", "NetworkInterfaceId", "NodeId"}
	// nameFields become <word>-<n>.
	nameFields = map[string]string{"AppInstanceGroupName": "group", "AppName": "app", "EndUserId": "user"}
	// tagArrays hold {Key, Value} objects: the keys stay (tag_labels name
	// them), the values are replaced.
	tagArrays = []string{"Tags", "ResourceTags"}
)

// HiddenFields lists every field a snapshot replaces, for its Meta and
// the docs.
func HiddenFields() []string {
	out := slices.Clone(idFields)
	for f := range nameFields {
		out = append(out, f)
	}
	for _, t := range tagArrays {
		out = append(out, t+"[].Value")
	}
	out = append(out, "OfficeSiteId", "AppIcon", "NetworkInterfaceIp", "MainEthPublicIp")
	slices.Sort(out)
	return out
}

// anonymizer replaces values consistently: one mapping per kind of value
// for the whole snapshot.
type anonymizer struct {
	seen map[string]map[string]string // kind → original → replacement
}

func newAnonymizer() *anonymizer { return &anonymizer{seen: map[string]map[string]string{}} }

// replace returns v's replacement of kind, making it with make(n) (n from
// 1) the first time v is seen.
func (a *anonymizer) replace(kind, v string, make func(n int) string) string {
	if v == "" {
		return ""
	}
	m := a.seen[kind]
	if m == nil {
		m = map[string]string{}
		a.seen[kind] = m
	}
	r, ok := m[v]
	if !ok {
		r = make(len(m) + 1)
		m[v] = r
	}
	return r
}

// id replaces an identifier, keeping its prefix up to the first "-".
func (a *anonymizer) id(v string) string {
	return a.replace("id", v, func(n int) string {
		prefix, _, found := strings.Cut(v, "-")
		if !found {
			prefix = "id"
		}
		return fmt.Sprintf("%s-snap%09d", prefix, n)
	})
}

// walk returns v with the hidden fields replaced; maps are changed in
// place.
func (a *anonymizer) walk(v any) any {
	switch x := v.(type) {
	case map[string]any:
		// In key order, so the same answers give the same replacements.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			val := x[k]
			s, isString := val.(string)
			switch {
			case isString && slices.Contains(idFields, k):
				x[k] = a.id(s)
			case isString && nameFields[k] != "":
				word := nameFields[k]
				x[k] = a.replace(k, s, func(n int) string {
					if word == "user" {
						return fmt.Sprintf("user-%04d@example.com", n)
					}
					return fmt.Sprintf("%s-%04d", word, n)
				})
			case isString && k == "OfficeSiteId":
				// Its region prefix ("cn-shanghai+dir-...") is no secret.
				region, _, _ := strings.Cut(s, "+")
				x[k] = a.replace(k, s, func(n int) string { return fmt.Sprintf("%s+dir-%010d", region, n) })
			case isString && k == "AppIcon":
				x[k] = a.replace(k, s, func(n int) string { return fmt.Sprintf("https://icon.invalid/app-%04d.png", n) })
			case isString && k == "NetworkInterfaceIp":
				x[k] = a.replace(k, s, func(n int) string { return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255) })
			case isString && k == "MainEthPublicIp":
				x[k] = a.replace(k, s, func(n int) string { return fmt.Sprintf("198.51.%d.%d", n>>8&255, n&255) }) // TEST-NET-2
			case slices.Contains(tagArrays, k):
				if items, ok := val.([]any); ok {
					for _, item := range items {
						if tag, ok := item.(map[string]any); ok {
							if s, ok := tag["Value"].(string); ok {
								tag["Value"] = a.replace("tag value", s, func(n int) string { return fmt.Sprintf("value-%04d", n) })
							}
						}
					}
				}
			default:
				x[k] = a.walk(val)
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = a.walk(x[i])
		}
		return x
	}
	return v
}
