package aliyun

import (
	"bytes"
	"encoding/json"
)

// The encoding/json path that decodeModel replaced, kept as its test
// oracle: in this package's tests the tolerant types are json.Unmarshalers
// again, so json.Unmarshal decodes a model as DecodeListResponse used to.
// The scalar types share their set with the decoder; List and Opt decode
// their raw bytes again with encoding/json, as they did.

func (n *Num) UnmarshalJSON(b []byte) error  { n.set(b); return nil }
func (s *Str) UnmarshalJSON(b []byte) error  { s.set(b); return nil }
func (x *Bool) UnmarshalJSON(b []byte) error { x.set(b); return nil }

func (l *List[T]) UnmarshalJSON(b []byte) error {
	*l = List[T]{}
	b, absent, other := opening(b, '[')
	if absent || other {
		if other {
			l.Bad = clip(string(b), maxBadValue)
		}
		return nil
	}
	l.Set = true
	if json.Unmarshal(b, &l.Items) == nil {
		return nil
	}
	// Some element has the wrong shape (a string where an object belongs):
	// decode one by one and keep the good ones.
	var raws []json.RawMessage
	if json.Unmarshal(b, &raws) != nil {
		l.Items, l.Set, l.Bad = nil, false, clip(string(b), maxBadValue)
		return nil
	}
	l.Items = l.Items[:0]
	for _, raw := range raws {
		var item T
		if json.Unmarshal(raw, &item) != nil {
			l.BadItems++
			continue
		}
		l.Items = append(l.Items, item)
	}
	return nil
}

func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	*o = Opt[T]{}
	b, absent, other := opening(b, '{')
	switch {
	case absent:
	case other || json.Unmarshal(b, &o.V) != nil:
		o.Bad = clip(string(b), maxBadValue)
	default:
		o.Set = true
	}
	return nil
}

// opening trims a JSON value and tells whether it is absent (empty or
// null) or of another kind than the one that opens with open.
func opening(b []byte, open byte) (trimmed []byte, absent, other bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return b, true, false
	}
	return b, false, b[0] != open
}
