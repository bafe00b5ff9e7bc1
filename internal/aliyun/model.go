package aliyun

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// The response model of ListAppInstanceGroup (API version 2021-09-01),
// covering every documented field. Each field is a tolerant type: a value of
// the wrong shape is kept aside in Bad instead of failing the decode, so one
// odd field drops that field's series and never the scrape.

// ListResponse is one page of ListAppInstanceGroup.
type ListResponse struct {
	Envelope
	TotalCount Num         `json:"TotalCount"`
	PageSize   Num         `json:"PageSize"`
	PageNumber Num         `json:"PageNumber"`
	Groups     List[Group] `json:"AppInstanceGroupModels"`
}

// AppInstancesResponse is one page of ListAppInstances.
type AppInstancesResponse struct {
	Envelope
	TotalCount Num               `json:"TotalCount"`
	PageSize   Num               `json:"PageSize"`
	PageNumber Num               `json:"PageNumber"`
	Instances  List[AppInstance] `json:"AppInstanceModels"`
}

// AppInstance is one app instance, a session slot of a group
// (AppInstanceModels[]): only what is counted is read. BindInfo (the end
// user's ID and usage time), NodeId and the network fields are left
// unread: they would make a series per session or per person.
type AppInstance struct {
	AppInstanceGroupID Str `json:"AppInstanceGroupId"`
	AppInstanceID      Str `json:"AppInstanceId"`
	Status             Str `json:"Status"`
	SessionStatus      Str `json:"SessionStatus"`
}

// Group is one delivery group (AppInstanceGroupModels[]).
type Group struct {
	Apps                        List[App]      `json:"Apps"`
	AppCenterImageID            Str            `json:"AppCenterImageId"`
	RegionID                    Str            `json:"RegionId"`
	ProductType                 Str            `json:"ProductType"`
	AppInstanceType             Str            `json:"AppInstanceType"`
	AppInstanceGroupID          Str            `json:"AppInstanceGroupId"`
	Amount                      Num            `json:"Amount"`
	MinAmount                   Num            `json:"MinAmount"`
	MaxAmount                   Num            `json:"MaxAmount"`
	ReserveAmountRatio          Num            `json:"ReserveAmountRatio"`
	ReserveMinAmount            Num            `json:"ReserveMinAmount"`
	ReserveMaxAmount            Num            `json:"ReserveMaxAmount"`
	ScalingStep                 Num            `json:"ScalingStep"`
	ScalingUsageThreshold       Num            `json:"ScalingUsageThreshold"`
	ScalingDownAfterIdleMinutes Num            `json:"ScalingDownAfterIdleMinutes"`
	ChargeType                  Str            `json:"ChargeType"`
	GmtCreate                   Str            `json:"GmtCreate"`
	Status                      Str            `json:"Status"`
	NodePool                    List[NodePool] `json:"NodePool"`
	SpecID                      Str            `json:"SpecId"`
	SessionTimeout              Num            `json:"SessionTimeout"`
	AppInstanceGroupName        Str            `json:"AppInstanceGroupName"`
	ExpiredTime                 Str            `json:"ExpiredTime"`
	OtaInfo                     Opt[OtaInfo]   `json:"OtaInfo"`
	OsType                      Str            `json:"OsType"`
	ResourceStatus              Str            `json:"ResourceStatus"`
	AppPolicyID                 Str            `json:"AppPolicyId"`
	ChargeResourceMode          Str            `json:"ChargeResourceMode"`
	SkipUserAuthCheck           Bool           `json:"SkipUserAuthCheck"`
	OfficeSiteID                Str            `json:"OfficeSiteId"`
	AppPolicyVersion            Str            `json:"AppPolicyVersion"`
	AppPolicyImageCheck         Bool           `json:"AppPolicyImageCheck"`
	ResourceTags                List[Tag]      `json:"ResourceTags"`
	Tags                        List[Tag]      `json:"Tags"`
	AuthMode                    Str            `json:"AuthMode"`
	AccessType                  Str            `json:"AccessType"`
	SupportUserGroupMixedAuth   Bool           `json:"SupportUserGroupMixedAuth"`
	UserGroupAuthMode           Str            `json:"UserGroupAuthMode"`
}

// Region is the group's RegionId, or when the answer leaves it empty the
// biz region of the query that listed the group.
func (g *Group) Region(bizRegion string) string {
	if region := strings.TrimSpace(g.RegionID.V); region != "" {
		return region
	}
	return bizRegion
}

// Key identifies a group across pages and queries: its ID and region. The
// same ID in another region is another group (its series carry another
// region label).
func (g *Group) Key(bizRegion string) string {
	return strings.TrimSpace(g.AppInstanceGroupID.V) + "\x00" + g.Region(bizRegion)
}

// App is one application of a group.
type App struct {
	AppID          Str `json:"AppId"`
	AppName        Str `json:"AppName"`
	AppVersion     Str `json:"AppVersion"`
	AppVersionName Str `json:"AppVersionName"`
	AppIcon        Str `json:"AppIcon"`
}

// NodePool is one resource pool of a group.
type NodePool struct {
	NodePoolID                  Str                      `json:"NodePoolId"`
	NodeInstanceType            Str                      `json:"NodeInstanceType"`
	NodeAmount                  Num                      `json:"NodeAmount"`
	NodeUsed                    Num                      `json:"NodeUsed"`
	NodeCapacity                Num                      `json:"NodeCapacity"`
	ScalingNodeAmount           Num                      `json:"ScalingNodeAmount"`
	ScalingNodeUsed             Num                      `json:"ScalingNodeUsed"`
	StrategyType                Str                      `json:"StrategyType"`
	Amount                      Num                      `json:"Amount"`
	MaxScalingAmount            Num                      `json:"MaxScalingAmount"`
	MaxIdleAppInstanceAmount    Num                      `json:"MaxIdleAppInstanceAmount"`
	ScalingStep                 Num                      `json:"ScalingStep"`
	ScalingUsageThreshold       Num                      `json:"ScalingUsageThreshold"`
	ScalingDownAfterIdleMinutes Num                      `json:"ScalingDownAfterIdleMinutes"`
	RecurrenceSchedules         List[RecurrenceSchedule] `json:"RecurrenceSchedules"`
	StrategyDisableDate         Str                      `json:"StrategyDisableDate"`
	StrategyEnableDate          Str                      `json:"StrategyEnableDate"`
	WarmUp                      Bool                     `json:"WarmUp"`
	NodeTypeName                Str                      `json:"NodeTypeName"`
}

// RecurrenceSchedule is one scheduled-scaling rule of a pool.
type RecurrenceSchedule struct {
	RecurrenceType   Str               `json:"RecurrenceType"`
	RecurrenceValues List[Num]         `json:"RecurrenceValues"`
	TimerPeriods     List[TimerPeriod] `json:"TimerPeriods"`
}

// TimerPeriod is a time window of a schedule with its target node amount.
type TimerPeriod struct {
	Amount    Num `json:"Amount"`
	EndTime   Str `json:"EndTime"`
	StartTime Str `json:"StartTime"`
}

// OtaInfo describes the over-the-air update state of a group.
type OtaInfo struct {
	OtaVersion    Str `json:"OtaVersion"`
	NewOtaVersion Str `json:"NewOtaVersion"`
	TaskID        Str `json:"TaskId"`
}

// Tag is a resource tag.
type Tag struct {
	Key   Str `json:"Key"`
	Value Str `json:"Value"`
	Scope Str `json:"Scope"`
}

// ResourceStatuses are the documented values of a group's ResourceStatus.
var ResourceStatuses = []string{"AVAILABLE", "RELEASED", "EXPIRED_IN_7_DAYS", "UNAVAILABLE", "UPGRADING", "CREATING"}

// maxBadValue is how much of a value that cannot be read is kept for the
// log.
const maxBadValue = 64

// DecodeListResponse decodes one page. Only a body that is not a JSON object
// is an error; bad fields are kept in their Bad member.
func DecodeListResponse(body []byte) (*ListResponse, error) {
	var r ListResponse
	if err := decodeModel(body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Num is a number that may arrive as a JSON number or a numeric string
// ("85"). Set is false when the field was absent, null or "".
type Num struct {
	V   float64
	Set bool
	Bad string // the raw value when it was not a number
}

func (*Num) decodeFunc() decodeFunc {
	return func(d *decoder, p unsafe.Pointer) error {
		raw, err := d.value()
		if err != nil {
			return err
		}
		n := (*Num)(p)
		if c := raw[0]; c != '-' && (c < '0' || c > '9') {
			n.set(raw)
			return nil
		}
		// A JSON number, read in place: the string is only looked at.
		v, err := strconv.ParseFloat(unsafe.String(&raw[0], len(raw)), 64) //nolint:gosec // raw outlives the call, which keeps nothing of it
		if err != nil || math.IsInf(v, 0) {
			n.set(raw) // out of range: Bad, as set has it
			return nil
		}
		*n = Num{V: v, Set: true}
		return nil
	}
}

// set reads the value's raw text b, and never fails: see the type comment.
func (n *Num) set(b []byte) {
	*n = Num{}
	text, absent, bad := scalar(b)
	if absent || (!bad && strings.TrimSpace(text) == "") { // "" counts as absent
		return
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if bad || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		n.Bad = clip(string(bytes.TrimSpace(b)), maxBadValue)
		return
	}
	n.V, n.Set = v, true
}

// scalar reads a JSON value as text: a string unquoted, a number or a
// boolean as written. absent: missing or null; bad: an object, an array,
// or a string that cannot be decoded.
func scalar(b []byte) (text string, absent, bad bool) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", true, false
	case b[0] == '"':
		text, ok := unquote(b)
		return text, false, !ok
	case b[0] == '{' || b[0] == '[':
		return "", false, true
	}
	return string(b), false, false
}

// unquote decodes a JSON string (quotes included) as encoding/json does.
func unquote(b []byte) (string, bool) {
	if raw := b[1 : len(b)-1]; bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw), true // the common case, without a second decoder
	}
	// Escapes: encoding/json unquotes them and replaces invalid UTF-8.
	var text string
	if json.Unmarshal(b, &text) != nil {
		return "", false
	}
	return text, true
}

// Str is a string field. Numbers and booleans are taken as their text;
// objects and arrays are Bad. Set is false when absent or null.
type Str struct {
	V   string
	Set bool
	Bad string
}

func (*Str) decodeFunc() decodeFunc {
	return func(d *decoder, p unsafe.Pointer) error {
		s := (*Str)(p)
		if d.peek() != '"' {
			raw, err := d.value()
			if err == nil {
				s.set(raw)
			}
			return err
		}
		raw, plain, err := d.str()
		switch {
		case err != nil:
		case plain: // ASCII without escapes: its text is its bytes
			*s = Str{V: d.intern(raw[1 : len(raw)-1]), Set: true}
		default:
			s.set(raw)
		}
		return err
	}
}

// set reads the value's raw text b, and never fails: see the type comment.
func (s *Str) set(b []byte) {
	*s = Str{}
	text, absent, bad := scalar(b)
	switch {
	case bad:
		s.Bad = clip(string(bytes.TrimSpace(b)), maxBadValue)
	case !absent:
		s.V, s.Set = text, true
	}
}

// Bool accepts true/false, "true"/"false" and 0/1.
type Bool struct {
	V   bool
	Set bool
	Bad string
}

func (*Bool) decodeFunc() decodeFunc { return rawDecoder((*Bool).set) }

// set reads the value's raw text b, and never fails: see the type comment.
func (x *Bool) set(b []byte) {
	*x = Bool{}
	b = bytes.TrimSpace(b)
	raw := strings.Trim(string(b), `"`)
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "null", "":
	case "true", "1":
		x.V, x.Set = true, true
	case "false", "0":
		x.Set = true
	default:
		x.Bad = clip(string(b), maxBadValue)
	}
}

// List is an array field. Set is false when absent or null; a value that is
// not an array is Bad; an element that does not decode (a value that is not
// an object where an object belongs) is dropped and counted in BadItems.
type List[T any] struct {
	Items    []T
	Set      bool
	Bad      string
	BadItems int
}

func (*List[T]) decodeFunc() decodeFunc {
	element := decoderOf(reflect.TypeFor[T]())
	scratch := new(sync.Pool) // of *[]T
	return func(d *decoder, p unsafe.Pointer) error { return (*List[T])(p).decode(d, element, scratch) }
}

// decode never fails but on invalid JSON: see the type comment. Elements
// are decoded into a reused buffer, then copied once into Items of their
// number: appending to Items reallocated and copied a page's groups (over
// a kilobyte each) eight times, a sixth of the decoding CPU.
func (l *List[T]) decode(d *decoder, element decodeFunc, scratch *sync.Pool) error {
	*l = List[T]{}
	isArray, bad, err := d.opens('[')
	if !isArray {
		l.Bad = bad
		return err
	}
	buf, _ := scratch.Get().(*[]T)
	if buf == nil {
		buf = new([]T)
	}
	items := (*buf)[:0]
	err = d.array(func() error {
		items = append(items, *new(T))
		err := element(d, pointer(&items[len(items)-1]))
		if errors.Is(err, errNotObject) {
			items = items[:len(items)-1]
			l.BadItems++
			return nil
		}
		return err
	})
	// An empty array is an empty list, not nil: as encoding/json.
	l.Items, l.Set = append([]T{}, items...), true
	clear(items) // for the collector: the pool keeps buf
	*buf = items[:0]
	scratch.Put(buf)
	return err
}

// Opt is an object field. Set is false when absent or null; a value that is
// not an object is Bad.
type Opt[T any] struct {
	V   T
	Set bool
	Bad string
}

func (*Opt[T]) decodeFunc() decodeFunc {
	value := decoderOf(reflect.TypeFor[T]())
	return func(d *decoder, p unsafe.Pointer) error { return (*Opt[T])(p).decode(d, value) }
}

// decode never fails but on invalid JSON: see the type comment.
func (o *Opt[T]) decode(d *decoder, value decodeFunc) error {
	*o = Opt[T]{}
	isObject, bad, err := d.opens('{')
	if !isObject {
		o.Bad = bad
		return err
	}
	o.Set = true
	return value(d, pointer(&o.V))
}
