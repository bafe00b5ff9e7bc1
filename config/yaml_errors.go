package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	yamlTypeErrRE = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	yamlPrefixRE  = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)
)

func cleanYAMLError(err error, data []byte) error {
	msg := err.Error()
	m := yamlPrefixRE.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	rest := msg[len(m[0]):]
	if m[1] == "" {
		return fmt.Errorf("invalid YAML: %s", rest)
	}
	line, _ := strconv.Atoi(m[1])
	// yaml.v3 names the line a block started on, or the line before the
	// mistake, for most indentation errors: look for the line to fix.
	var from, to int
	hint := ""
	switch {
	case strings.Contains(rest, "tab character") || strings.Contains(rest, "cannot start any token"):
		from, to = line, line+1
	case strings.HasPrefix(rest, "did not find expected key") || strings.HasPrefix(rest, "did not find expected '-' indicator"):
		from, to = line, math.MaxInt
		hint = fmt.Sprintf(" (check the indentation of the lines below line %d)", line)
	case strings.HasPrefix(rest, "mapping values are not allowed"):
		from, to = max(line-1, 1), line
		hint = fmt.Sprintf(" (check the indentation of line %d and the line above, and that a colon after a key is followed by a space)", line)
	case strings.HasPrefix(rest, "could not find expected ':'"):
		from, to = max(line-1, 1), line+1
		hint = " (a key needs a colon and a space before its value)"
	}
	if from > 0 {
		if n, why := indentProblem(data, from); n > 0 && n <= to {
			return fmt.Errorf("line %d: invalid YAML: %s", n, why)
		}
	}
	return fmt.Errorf("line %d: invalid YAML: %s%s", line, rest, hint)
}

var (
	// A colon glued to its value ("region_id:cn-hangzhou") makes no key.
	colonNoSpaceRE = regexp.MustCompile(`^(?:- )?[A-Za-z_][A-Za-z0-9_]*:[^\s/:]`)
	flowOpenRE     = regexp.MustCompile(`[\[{]`)
	flowCloseRE    = regexp.MustCompile(`[\]}]`)
)

// indentProblem returns the first line, at or after from, whose indentation
// fits no block above it (or that misses the space after a key's colon),
// and what is wrong with it. It reads lines, not YAML: it is only asked
// once yaml.v3 has rejected the file, to name a better line.
func indentProblem(data []byte, from int) (int, string) {
	s := &indentScanner{stack: []indentBlock{{0, false}}, scalarAt: -1}
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		if why := s.next(n, raw); why != "" && n >= from {
			return n, why
		}
	}
	return 0, ""
}

// indentBlock is a mapping or list (seq) whose entries start at indent.
type indentBlock struct {
	indent int
	seq    bool
}

// indentScanner follows the blocks of a YAML file line by line.
type indentScanner struct {
	stack     []indentBlock
	opens     bool // the line above ends in "key:" or "-": a deeper block may follow
	scalarAt  int  // indentation of the key owning a | or > block scalar
	flowDepth int  // open [ and { spanning lines
	prev      int  // the line above, skipping blanks and comments
}

// next reads line n and returns what is wrong with its indentation, if
// anything.
func (s *indentScanner) next(n int, raw string) string {
	line := strings.TrimRight(raw, " \r")
	text := strings.TrimLeft(line, " ")
	indent := len(line) - len(text)
	if text == "" || text[0] == '#' || (s.scalarAt >= 0 && indent > s.scalarAt) {
		return ""
	}
	s.scalarAt = -1
	if s.flowDepth > 0 {
		s.flowDepth += len(flowOpenRE.FindAllString(text, -1)) - len(flowCloseRE.FindAllString(text, -1))
		return ""
	}
	if strings.HasPrefix(text, "\t") {
		return "a tab indents this line; indent with spaces"
	}
	if strings.HasPrefix(text, "---") {
		s.stack, s.opens, s.prev = s.stack[:1], false, n
		return ""
	}
	dash := text == "-" || strings.HasPrefix(text, "- ")
	why := s.place(indent, dash, text)
	s.follow(n, indent, dash, text)
	return why
}

// place fits a line into the blocks above it, opening or closing blocks,
// and says what is wrong with its place.
func (s *indentScanner) place(indent int, dash bool, text string) string {
	why := ""
	top := s.stack[len(s.stack)-1]
	switch {
	case indent > top.indent && !s.opens:
		why = fmt.Sprintf("this line is indented more than line %d, which already has a value; indent it like the keys it belongs with", s.prev)
		s.stack = append(s.stack, indentBlock{indent, dash})
	case indent > top.indent:
		s.stack = append(s.stack, indentBlock{indent, dash})
	case indent < top.indent:
		for len(s.stack) > 1 && s.stack[len(s.stack)-1].indent > indent {
			s.stack = s.stack[:len(s.stack)-1]
		}
		if s.stack[len(s.stack)-1].indent != indent {
			why = "this line's indentation lines up with no key or list item above it; indent it like the lines it belongs with"
			s.stack = append(s.stack, indentBlock{indent, dash})
		}
	}
	top = s.stack[len(s.stack)-1]
	// "key:" followed by "- item" at the key's own indentation is a list.
	if top.seq && !dash && len(s.stack) > 1 && s.stack[len(s.stack)-2].indent == indent {
		s.stack = s.stack[:len(s.stack)-1]
		top = s.stack[len(s.stack)-1]
	}
	switch {
	case why != "":
	case dash && !top.seq && s.opens:
		s.stack = append(s.stack, indentBlock{indent, true})
	case dash && !top.seq:
		why = "this list item lines up with keys, not with a list; indent it like the items it belongs with"
	case !dash && top.seq && text[0] == '-':
		why = "put a space after the dash of a list item (- value)"
	case !dash && top.seq:
		why = "this key lines up with list items; indent it like the keys it belongs with"
	case colonNoSpaceRE.MatchString(text):
		why = "put a space after the colon (key: value)"
	}
	return why
}

// follow notes what the line opens for the lines below it.
func (s *indentScanner) follow(n, indent int, dash bool, text string) {
	content := strings.TrimSpace(strings.TrimPrefix(text, "-"))
	if c := strings.Index(content, " #"); c >= 0 {
		content = strings.TrimSpace(content[:c])
	}
	if dash && (strings.Contains(content, ": ") || strings.HasSuffix(content, ":")) {
		// The item is a mapping: its other keys line up with its first.
		s.stack = append(s.stack, indentBlock{indent + len(text) - len(strings.TrimLeft(text[1:], " ")), false})
	}
	s.opens = content == "" || strings.HasSuffix(content, ":")
	if strings.HasSuffix(content, "|") || strings.HasSuffix(content, ">") || strings.HasSuffix(content, "|-") || strings.HasSuffix(content, ">-") {
		s.scalarAt = indent
	}
	s.flowDepth = len(flowOpenRE.FindAllString(content, -1)) - len(flowCloseRE.FindAllString(content, -1))
	s.prev = n
}

// cleanDecodeError turns yaml.v3 type errors into "line N: key: expected X,
// got Y" so the reader knows what to write instead.
func cleanDecodeError(err error, lines map[string]int) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	keyAt := map[int]string{}
	for p, l := range lines {
		if cur, ok := keyAt[l]; !ok || len(p) > len(cur) {
			keyAt[l] = p
		}
	}
	var out []string
	for _, e := range te.Errors {
		lineText, rest, ok := strings.Cut(strings.TrimPrefix(e, "line "), ": ")
		line, convErr := strconv.Atoi(lineText)
		if !ok || convErr != nil {
			out = append(out, e)
			continue
		}
		if m := yamlTypeErrRE.FindStringSubmatch(e); m != nil {
			got := yamlKindWord(m[2])
			if m[3] != "" {
				got += fmt.Sprintf(" %q", m[3])
			}
			rest = fmt.Sprintf("expected %s, got %s", goTypeWord(m[4]), got)
		}
		if k, ok := keyAt[line]; ok && !strings.HasPrefix(rest, "mapping key") {
			rest = k + ": " + rest
		}
		out = append(out, fmt.Sprintf("line %d: %s", line, rest))
	}
	return errors.New(strings.Join(out, "; "))
}

func yamlKindWord(tag string) string {
	switch tag {
	case "str":
		return "the string"
	case "int":
		return "the number"
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "bool":
		return "the boolean"
	case "float":
		return "the number"
	}
	return tag
}

func goTypeWord(t string) string {
	switch {
	case t == "int":
		return "an integer"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case t == "config.plain" || t == "config.Secret":
		// prometheus/common decodes a Secret through an internal type.
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping of key: value"
	}
	return "a " + t
}
