package aliyun

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The decoder of the response models. encoding/json validated a page once,
// then again and skipped it once more for each List and Opt around a value,
// since their UnmarshalJSON decoded their raw bytes anew: half of a
// refresh's CPU. This one reads a page once, validating as it goes, and
// gives each tolerant field the raw text of its value. Its results are
// encoding/json's, errors included: oracle_test.go keeps the encoding/json
// path, and FuzzDecoderMatchesEncodingJSON compares the two.

// maxDepth is encoding/json's nesting limit: deeper input is an error.
const maxDepth = 10000

// decodeModel decodes body into v, a pointer to a model struct (or to a
// tolerant type). As with encoding/json, the body must be one valid JSON
// value; a struct takes an object or null.
func decodeModel(body []byte, v any) error {
	ptr := reflect.ValueOf(v)
	if ptr.Kind() != reflect.Pointer || ptr.IsNil() {
		panic(fmt.Sprintf("aliyun: decodeModel into %T, not a non-nil pointer", v))
	}
	d := &decoder{data: body}
	d.skipSpace()
	err := decoderOf(ptr.Type().Elem())(d, ptr.UnsafePointer())
	if errors.Is(err, errNotObject) {
		return fmt.Errorf("cannot decode %v from JSON that is not an object", ptr.Type().Elem())
	}
	if err == nil {
		if d.skipSpace(); d.pos < len(body) {
			err = d.fail("after the top-level value")
		}
	}
	return err
}

// decodeFunc reads the value at d.pos (its leading space skipped) into the
// value at p, and leaves d.pos past it.
type decodeFunc func(d *decoder, p unsafe.Pointer) error

// errNotObject is what a model struct's decodeFunc returns for a value
// that is neither an object nor null, after reading it: a List drops that
// element, and the top level fails, as with encoding/json.
var errNotObject = errors.New("not a JSON object")

// decodable is a type that brings its own decodeFunc: the tolerant types.
// The method is called on a nil pointer, once per type.
type decodable interface{ decodeFunc() decodeFunc }

var decodableType = reflect.TypeFor[decodable]()

// decoders caches each type's decodeFunc.
var decoders sync.Map // reflect.Type → decodeFunc

// decoderOf returns t's decodeFunc, built once.
func decoderOf(t reflect.Type) decodeFunc {
	if f, ok := decoders.Load(t); ok {
		return f.(decodeFunc)
	}
	// A type that holds itself (in a List) meets this stand-in while its
	// own plan is being built; others wait for the plan.
	var (
		built sync.WaitGroup
		f     decodeFunc
	)
	built.Add(1)
	standIn, loaded := decoders.LoadOrStore(t, decodeFunc(func(d *decoder, p unsafe.Pointer) error {
		built.Wait()
		return f(d, p)
	}))
	if loaded {
		return standIn.(decodeFunc)
	}
	defer built.Done() // even if t cannot be decoded: the stand-in then panics too
	f = newDecoder(t)
	decoders.Store(t, f)
	return f
}

func newDecoder(t reflect.Type) decodeFunc {
	if reflect.PointerTo(t).Implements(decodableType) {
		return reflect.Zero(reflect.PointerTo(t)).Interface().(decodable).decodeFunc()
	}
	if t.Kind() == reflect.Struct {
		return newStructPlan(t).decode
	}
	panic(fmt.Sprintf("aliyun: the model cannot hold a %v: use Str, Num, Bool, List or Opt", t))
}

// pointer is v for a decodeFunc, which takes it back as a *T.
func pointer[T any](v *T) unsafe.Pointer {
	return unsafe.Pointer(v) //nolint:gosec // v's decodeFunc reads it as the *T it is
}

// rawDecoder is the decodeFunc of a type set from its value's raw text.
func rawDecoder[T any](set func(*T, []byte)) decodeFunc {
	return func(d *decoder, p unsafe.Pointer) error {
		raw, err := d.value()
		if err == nil {
			set((*T)(p), raw)
		}
		return err
	}
}

// decoder reads one JSON text. The grammar it accepts is encoding/json's:
// RFC 8259, with any byte of 0x80 and above taken inside strings.
type decoder struct {
	data  []byte
	pos   int
	depth int
	// interned holds recent short strings, by a hash of their bytes: the
	// same status, charge type, region, spec or app is then one string for
	// the whole page instead of one allocation per group.
	interned [internSlots]string
}

const (
	internSlots = 512 // a power of two
	internMax   = 64  // longer strings are IDs and names: seldom repeated
)

// intern returns b as a string, the one made before for the same bytes
// if it is still in its slot.
func (d *decoder) intern(b []byte) string {
	if len(b) > internMax {
		return string(b)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &d.interned[h&(internSlots-1)]
	if *slot != string(b) { // compared without a copy
		*slot = string(b)
	}
	return *slot
}

// syntaxError is invalid JSON, or JSON nested deeper than maxDepth.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.offset, e.msg)
}

func (d *decoder) fail(context string) error {
	if d.pos >= len(d.data) {
		return &syntaxError{"unexpected end of input", d.pos}
	}
	return &syntaxError{fmt.Sprintf("unexpected %q %s", d.data[d.pos], context), d.pos}
}

// peek is the byte at d.pos, 0 at the end.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value reads any value and returns its raw text.
func (d *decoder) value() ([]byte, error) {
	start := d.pos
	err := d.skipValue()
	return d.data[start:d.pos], err
}

// skipValue reads any value, validating it.
func (d *decoder) skipValue() error {
	switch c := d.peek(); {
	case c == '"':
		_, _, err := d.str()
		return err
	case c == '{':
		return d.object(func([]byte) error { return d.skipValue() })
	case c == '[':
		return d.array(d.skipValue)
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	}
	return d.fail("looking for the beginning of a value")
}

// opens tells whether the value at d.pos opens with open ('[', '{'). If it
// does not, the value is read: bad is its clipped text unless it is null.
func (d *decoder) opens(open byte) (opens bool, bad string, err error) {
	if d.peek() == open {
		return true, "", nil
	}
	raw, err := d.value()
	if err != nil || string(raw) == "null" {
		return false, "", err
	}
	return false, clip(string(raw), maxBadValue), nil
}

// object reads an object, calling member with each key (unquoted) and
// d.pos at its value, which member must read.
func (d *decoder) object(member func(key []byte) error) error {
	if err := d.enter(); err != nil {
		return err
	}
	if d.skipSpace(); d.peek() == '}' {
		return d.leave()
	}
	for {
		if d.peek() != '"' {
			return d.fail("looking for the beginning of an object key")
		}
		key, err := d.key()
		if err != nil {
			return err
		}
		if d.skipSpace(); d.peek() != ':' {
			return d.fail("after an object key")
		}
		d.pos++
		d.skipSpace()
		if err := member(key); err != nil {
			return err
		}
		if done, err := d.afterItem('}', "after an object member"); done || err != nil {
			return err
		}
	}
}

// array reads an array, calling element with d.pos at each element, which
// element must read.
func (d *decoder) array(element func() error) error {
	if err := d.enter(); err != nil {
		return err
	}
	if d.skipSpace(); d.peek() == ']' {
		return d.leave()
	}
	for {
		if err := element(); err != nil {
			return err
		}
		if done, err := d.afterItem(']', "after an array element"); done || err != nil {
			return err
		}
	}
}

// afterItem reads what follows an object member or array element: a
// comma, after which another comes, or the closing bracket, which ends
// the object or array (done).
func (d *decoder) afterItem(closing byte, where string) (done bool, err error) {
	d.skipSpace()
	switch d.peek() {
	case ',':
		d.pos++
		d.skipSpace()
		return false, nil
	case closing:
		return true, d.leave()
	default:
		return false, d.fail(where)
	}
}

// enter steps into the object or array that opens at d.pos.
func (d *decoder) enter() error {
	if d.depth++; d.depth > maxDepth {
		return d.fail("past the maximum nesting depth")
	}
	d.pos++
	return nil
}

// leave steps past the closing brace or bracket at d.pos.
func (d *decoder) leave() error {
	d.depth--
	d.pos++
	return nil
}

// key reads an object key and returns it unquoted as encoding/json
// unquotes it.
func (d *decoder) key() ([]byte, error) {
	raw, plain, err := d.str()
	if err != nil {
		return nil, err
	}
	if plain {
		return raw[1 : len(raw)-1], nil
	}
	key, _ := unquote(raw)
	return []byte(key), nil
}

// str reads a string and returns its raw text, quotes included. plain: it
// has neither escapes nor bytes past ASCII, so its value is its text.
func (d *decoder) str() (raw []byte, plain bool, err error) {
	start, data := d.pos, d.data
	plain = true
	for i := start + 1; i < len(data); {
		c := data[i]
		if plainInString[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			d.pos = i + 1
			return data[start:d.pos], plain, nil
		case c == '\\':
			plain = false
			d.pos = i
			if i, err = d.escape(); err != nil {
				return nil, false, err
			}
		case c < ' ':
			d.pos = i
			return nil, false, d.fail("in a string")
		default: // past ASCII
			plain = false
			i++
		}
	}
	d.pos = len(data)
	return nil, false, d.fail("in a string")
}

// plainInString tells the bytes that stand for themselves in a string and
// keep it plain, the common case str checks first.
var plainInString = func() (plain [256]bool) {
	for c := ' '; c < 0x80; c++ {
		plain[c] = c != '"' && c != '\\'
	}
	return plain
}()

// escape checks the escape sequence at d.pos and returns where it ends.
func (d *decoder) escape() (end int, err error) {
	data, i := d.data, d.pos+1
	if i < len(data) {
		switch data[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			return i + 1, nil
		case 'u':
			for i++; i < len(data) && i < d.pos+6 && isHex(data[i]); i++ {
			}
			if i == d.pos+6 {
				return i, nil
			}
		}
	}
	d.pos = min(i, len(data))
	return 0, d.fail("in a string escape")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() error {
	if d.peek() == '-' {
		d.pos++
	}
	switch c := d.peek(); {
	case c == '0':
		d.pos++
	case '1' <= c && c <= '9':
		d.digits()
	default:
		return d.fail("in a number")
	}
	if d.peek() == '.' {
		d.pos++
		if !isDigit(d.peek()) {
			return d.fail("after a decimal point")
		}
		d.digits()
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.pos++
		if c := d.peek(); c == '+' || c == '-' {
			d.pos++
		}
		if !isDigit(d.peek()) {
			return d.fail("in an exponent")
		}
		d.digits()
	}
	return nil
}

func (d *decoder) digits() {
	for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
		d.pos++
	}
}

// literal reads true, false or null.
func (d *decoder) literal(word string) error {
	for i := range len(word) {
		if d.peek() != word[i] {
			return d.fail("in a literal")
		}
		d.pos++
	}
	return nil
}

// structPlan is how a model struct is decoded: its fields by JSON name, in
// the order encoding/json sees them.
type structPlan struct {
	fields []structField
	byName map[string]int // index in fields
	// A body sends its keys in one order: the index of the field whose key
	// came first, and after each field's, the last time, is tried before
	// byName, which costs a hash of the key.
	first atomic.Int32
	next  []atomic.Int32
}

type structField struct {
	name   string
	offset uintptr // from the start of the outer struct, embedded ones flattened
	decode decodeFunc
}

// newStructPlan lists t's fields as encoding/json does: exported fields by
// tag name or Go name, "-" skipped, untagged embedded structs flattened,
// and of fields with the same name the one of least depth kept, a tagged
// one over untagged ones, none if that leaves two.
func newStructPlan(t reflect.Type) *structPlan {
	var all []candidateField
	collectFields(t, 0, 0, &all)
	plan := &structPlan{byName: map[string]int{}}
	for i := range all {
		if dominates(i, all) {
			plan.fields = append(plan.fields, all[i].structField)
		}
	}
	for i, f := range plan.fields {
		plan.byName[f.name] = i
	}
	plan.next = make([]atomic.Int32, len(plan.fields))
	return plan
}

type candidateField struct {
	structField
	depth  int
	tagged bool
}

func collectFields(t reflect.Type, offset uintptr, depth int, out *[]candidateField) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			collectFields(f.Type, offset+f.Offset, depth+1, out)
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Pointer:
			panic(fmt.Sprintf("aliyun: %v embeds %v: embed the struct, not a pointer", t, f.Type))
		case f.IsExported():
			if !reflect.PointerTo(f.Type).Implements(decodableType) {
				panic(fmt.Sprintf("aliyun: %v.%s is a %v: use Str, Num, Bool, List or Opt", t, f.Name, f.Type))
			}
			*out = append(*out, candidateField{structField{cmp.Or(name, f.Name), offset + f.Offset, decoderOf(f.Type)}, depth, name != ""})
		}
	}
}

// dominates tells whether all[i] is the field its name stands for.
func dominates(i int, all []candidateField) bool {
	f := &all[i]
	for j, g := range all {
		if j == i || g.name != f.name {
			continue
		}
		if g.depth < f.depth || g.depth == f.depth && (g.tagged || !f.tagged) {
			return false
		}
	}
	return true
}

// decode is the decodeFunc of a model struct.
func (s *structPlan) decode(d *decoder, p unsafe.Pointer) error {
	switch d.peek() {
	case '{':
		after := &s.first
		return d.object(func(key []byte) error {
			i := s.field(key, after)
			if i < 0 {
				return d.skipValue()
			}
			after = &s.next[i]
			return s.fields[i].decode(d, unsafe.Add(p, s.fields[i].offset))
		})
	case 'n':
		return d.literal("null") // leaves the struct as it is
	}
	if err := d.skipValue(); err != nil {
		return err
	}
	return errNotObject
}

// field finds a key's field as encoding/json does: by exact name, else the
// first whose name equals the key under Unicode case folding; -1 if none.
// It tries the field expected first, and expects what it finds next time.
func (s *structPlan) field(key []byte, expected *atomic.Int32) int {
	if i := int(expected.Load()); i < len(s.fields) && s.fields[i].name == string(key) {
		return i
	}
	i, ok := s.byName[string(key)]
	if !ok {
		i = s.folded(key)
	}
	if i >= 0 {
		expected.Store(int32(i)) //nolint:gosec // i indexes the fields of a struct
	}
	return i
}

func (s *structPlan) folded(key []byte) int {
	for i := range s.fields {
		if bytes.EqualFold(key, []byte(s.fields[i].name)) {
			return i
		}
	}
	return -1
}
