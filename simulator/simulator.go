// Package simulator plays the appstream-center endpoint for ListAppInstanceGroup
// on loopback: it checks each request's RPC signature (HMAC-SHA1, timestamp,
// nonce) the way the real service does, applies the documented filters
// (each read only from the place the SDKs send it: query string or form
// body), pages a data set, and can inject faults. --demo and the tests use it; it
// shares no code with the exporter, so a signing or paging bug on either
// side shows up as a failed request.
package simulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // the API's RPC signature is HMAC-SHA1
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Key is an access key the simulator accepts. A key with a SecurityToken
// stands for STS credentials: requests must carry the token.
type Key struct {
	ID            string
	Secret        string
	SecurityToken string
}

// Fault replaces the answer to one request. The zero Fault (or one with
// only a Delay) answers normally, to let a queue of faults skip a request.
type Fault struct {
	Status  int    // HTTP status of the answer
	Code    string // API error code; with Message, sent as an error body
	Message string
	Body    string        // raw body sent as is (when Code is empty)
	Hang    bool          // hold the request until the client gives up
	Delay   time.Duration // wait this long, then answer normally (or with the fault)
	// Drip sends Body one byte per Drip: a connection that never quite stalls.
	Drip time.Duration
	// Oversize streams a syntactically valid JSON body of this many bytes
	// without holding it in memory.
	Oversize int64
}

// Faults that the real service is known to send.
var (
	ThrottlingUser     = Fault{Status: 400, Code: "Throttling.User", Message: "Request was denied due to user flow control."}
	ThrottlingAPI      = Fault{Status: 400, Code: "Throttling.Api", Message: "Request was denied due to api flow control."}
	TooManyRequests    = Fault{Status: 429, Body: "Too Many Requests"}
	ServiceUnavailable = Fault{Status: 503, Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server."}
	BadGateway         = Fault{Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"}
	MalformedJSON      = Fault{Status: 200, Body: `{"RequestId":"5B1F4C5E","TotalCount":3,"AppInstanceGroupModels":[{"AppInstanceGroupId":"aig-`}
	NotJSON            = Fault{Status: 200, Body: "<html><body>Service temporarily unavailable</body></html>"}
	Hang               = Fault{Hang: true}
	AccessKeyInactive  = Fault{Status: 400, Code: "InvalidAccessKeyId.Inactive", Message: "Specified access key is disabled."}
	ForbiddenRAM       = Fault{Status: 403, Code: "Forbidden.RAM", Message: "User not authorized to operate on the specified resource, or this API doesn't support RAM."}
	NoPermission       = Fault{Status: 403, Code: "NoPermission", Message: "You are not authorized to do this action. You should be authorized by RAM."}
)

// Request is what the simulator recorded of one request it answered.
type Request struct {
	Query url.Values
	Form  url.Values
	Code  string // "Success" or the error code answered
	// Misplaced lists the ListAppInstanceGroup parameters that came in the
	// wrong place (a body parameter in the query string or the other way
	// round), sorted. They were ignored.
	Misplaced []string
}

// Place is where a request parameter travels.
type Place string

// The places of a request parameter.
const (
	InQuery Place = "query" // the URL's query string
	InBody  Place = "body"  // the application/x-www-form-urlencoded form body
)

// params is every ListAppInstanceGroup request parameter and where
// Alibaba's generated SDKs send it. Lists are flattened (Status.1,
// Tag.1.Key, ...) and named here by their first part. The simulator reads
// each one from its place only, as a gateway that takes body parameters
// only from the body would: a parameter in the wrong place is ignored, so a
// filter sent there silently does not filter. RegionId is read from
// nowhere: the reference lists it as a deprecated filter, and the
// simulator does not filter by it.
var params = map[string]Place{
	"AppCenterImageId":     InQuery,
	"AppInstanceGroupId":   InQuery,
	"AppInstanceGroupName": InQuery,
	"BizRegionId":          InQuery,
	"NodeInstanceType":     InQuery,
	"OfficeSiteId":         InQuery,
	"PageNumber":           InQuery,
	"PageSize":             InQuery,
	"ProductType":          InQuery,
	"RegionId":             InQuery,
	"Tag":                  InQuery, // Tag.N.Key, Tag.N.Value
	"ExcludedUserGroupIds": InBody,  // ExcludedUserGroupIds.N
	"Status":               InBody,  // Status.N
	"UserGroupIds":         InBody,  // UserGroupIds.N
}

// PlaceOf is where the SDKs send a ListAppInstanceGroup parameter, by its
// full name ("Status.2", "Tag.1.Key"); "" for a name that is not one of
// them (the signature's and other common parameters).
func PlaceOf(name string) Place {
	base, _, _ := strings.Cut(name, ".")
	return params[base]
}

// misplaced lists the parameters in the wrong place, sorted.
func misplaced(query, form url.Values) []string {
	var out []string
	for _, in := range []struct {
		vals  url.Values
		place Place
	}{{query, InQuery}, {form, InBody}} {
		for k := range in.vals {
			if p := PlaceOf(k); p != "" && p != in.place {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Server is the simulated endpoint. It is safe for concurrent use.
type Server struct {
	mu         sync.Mutex
	keys       map[string]Key
	groups     []json.RawMessage
	index      []groupIndex
	userGroups map[string][]string
	faults     []Fault
	sticky     *Fault
	nonces     map[string]time.Time
	log        []Request
	hangs      chan struct{}
	hook       func(n int)

	requests atomic.Int64
	latency  atomic.Int64 // nanoseconds added before every answer
	// Now is the service's clock for the timestamp check; time.Now by default.
	Now func() time.Time
}

// New returns a simulator that accepts the given keys and serves no groups.
func New(keys ...Key) *Server {
	s := &Server{keys: map[string]Key{}, nonces: map[string]time.Time{}, hangs: make(chan struct{}), Now: time.Now}
	for _, k := range keys {
		s.keys[k.ID] = k
	}
	return s
}

// Dataset is the simulator's data: a recorded ListAppInstanceGroup answer
// (only AppInstanceGroupModels is used) plus, since the API does not return
// them, the user groups each delivery group is assigned to, for the
// UserGroupIds filters.
type Dataset struct {
	AppInstanceGroupModels []json.RawMessage   `json:"AppInstanceGroupModels"`
	UserGroups             map[string][]string `json:"UserGroups,omitempty"`
}

// Load replaces the served data with a Dataset in JSON.
func (s *Server) Load(data []byte) error {
	var d Dataset
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("simulator data set: %w", err)
	}
	return s.SetData(d)
}

// SetData replaces the served data. Groups are served in the order given.
func (s *Server) SetData(d Dataset) error {
	index := make([]groupIndex, len(d.AppInstanceGroupModels))
	for i, raw := range d.AppInstanceGroupModels {
		// Odd shapes are the point of some tests: index what reads, serve all.
		_ = json.Unmarshal(raw, &index[i])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups, s.index, s.userGroups = d.AppInstanceGroupModels, index, d.UserGroups
	return nil
}

// Inject queues faults: the next requests are answered with them, in order.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// SetSticky answers every request with f until cleared with nil.
func (s *Server) SetSticky(f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sticky = f
	if f == nil {
		close(s.hangs) // release requests held by Hang
		s.hangs = make(chan struct{})
	}
}

// SetHook calls fn with the request's number (1, 2, ...) before the request
// is answered: tests change the data between pages with it.
func (s *Server) SetHook(fn func(n int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// SetLatency delays every answer by d, as a distant region would.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// Requests is the number of HTTP requests received.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Log returns the requests answered so far.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// groupIndex holds the fields the filters look at.
type groupIndex struct {
	AppInstanceGroupID   string `json:"AppInstanceGroupId"`
	AppInstanceGroupName string `json:"AppInstanceGroupName"`
	AppCenterImageID     string `json:"AppCenterImageId"`
	RegionID             string `json:"RegionId"`
	ProductType          string `json:"ProductType"`
	Status               string `json:"Status"`
	OfficeSiteID         string `json:"OfficeSiteId"`
	NodePool             []struct {
		NodeInstanceType string `json:"NodeInstanceType"`
	} `json:"NodePool"`
	Tags []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags"`
}

type apiError struct {
	status  int
	code    string
	message string
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	if d := time.Duration(s.latency.Load()); d > 0 {
		time.Sleep(d)
	}
	s.mu.Lock()
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook(int(n))
	}
	requestID := newRequestID()
	w.Header().Set("x-acs-request-id", requestID)

	query := r.URL.Query()
	var form url.Values
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			form = r.PostForm
		}
	}
	wrong := misplaced(query, form)
	record := func(code string) {
		s.mu.Lock()
		s.log = append(s.log, Request{Query: query, Form: form, Code: code, Misplaced: wrong})
		s.mu.Unlock()
	}

	if f := s.nextFault(); f != nil {
		s.serveFault(w, r, f, requestID, record)
		return
	}
	s.answer(w, r, requestID, record)
}

// answer serves the request as the service would: checks, then a page.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, requestID string, record func(string)) {
	query := r.URL.Query()
	form := r.PostForm
	if e := s.check(r, query, form); e != nil {
		record(e.code)
		writeError(w, e, requestID)
		return
	}
	body, e := s.page(query, form, requestID)
	if e != nil {
		record(e.code)
		writeError(w, e, requestID)
		return
	}
	record("Success")
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_, _ = w.Write(body) // the client going away is its business
}

func (s *Server) nextFault() *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		return &f
	}
	return s.sticky
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f *Fault, requestID string, record func(string)) {
	if f.Hang {
		s.mu.Lock()
		release := s.hangs
		s.mu.Unlock()
		record("hang")
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return
	}
	if f.Delay > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(f.Delay):
		}
	}
	if f.Code != "" {
		record(f.Code)
		writeError(w, &apiError{f.Status, f.Code, f.Message}, requestID)
		return
	}
	if f.Status == 0 {
		s.answer(w, r, requestID, record)
		return
	}
	record(fmt.Sprintf("HTTP%d", f.Status))
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(f.Status)
	switch {
	case f.Oversize > 0:
		streamOversize(w, f.Oversize)
	case f.Drip > 0:
		flusher, _ := w.(http.Flusher)
		for i := 0; i < len(f.Body); i++ {
			if _, err := w.Write([]byte{f.Body[i]}); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(f.Drip):
			}
		}
	default:
		_, _ = w.Write([]byte(f.Body))
	}
}

// streamOversize writes {"RequestId":"xxxx…"} of n bytes in chunks.
func streamOversize(w http.ResponseWriter, n int64) {
	head, tail := []byte(`{"RequestId":"`), []byte(`"}`)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	if _, err := w.Write(head); err != nil {
		return
	}
	for left := n - int64(len(head)+len(tail)); left > 0; left -= int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(int64(len(chunk)), left)]); err != nil {
			return
		}
	}
	_, _ = w.Write(tail)
}

// check verifies the request the way the RPC gateway does: common
// parameters, known key, STS token, timestamp window, unused nonce and the
// HMAC-SHA1 signature over every query and form parameter.
func (s *Server) check(r *http.Request, query, form url.Values) *apiError {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return &apiError{405, "UnsupportedHTTPMethod", "This http method is not supported."}
	}
	params := map[string]string{}
	for _, vals := range []url.Values{query, form} {
		for k, v := range vals {
			if len(v) != 1 {
				return &apiError{400, "InvalidParameter", fmt.Sprintf("The parameter %q is given more than once.", k)}
			}
			params[k] = v[0]
		}
	}
	for _, k := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Version", "Action"} {
		if params[k] == "" {
			return &apiError{400, "IncompleteSignature", fmt.Sprintf("The request signature does not conform to Aliyun standards: %s is missing.", k)}
		}
	}
	if params["Action"] != "ListAppInstanceGroup" {
		return &apiError{404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."}
	}
	if params["Version"] != "2021-09-01" {
		return &apiError{400, "InvalidVersion", "Specified parameter Version is not valid."}
	}
	if params["SignatureMethod"] != "HMAC-SHA1" || params["SignatureVersion"] != "1.0" {
		return &apiError{400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."}
	}
	key, ok := s.keys[params["AccessKeyId"]]
	if !ok {
		return &apiError{404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
	}
	if key.SecurityToken != "" && params["SecurityToken"] != key.SecurityToken {
		return &apiError{400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey."}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", params["Timestamp"])
	if err != nil {
		return &apiError{400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."}
	}
	if d := s.Now().Sub(ts); d > 15*time.Minute || d < -15*time.Minute {
		return &apiError{400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}
	}
	stringToSign := StringToSign(r.Method, params)
	if !hmac.Equal([]byte(Sign(stringToSign, key.Secret)), []byte(params["Signature"])) {
		return &apiError{400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:" + stringToSign}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	for n, at := range s.nonces {
		if now.Sub(at) > 15*time.Minute {
			delete(s.nonces, n)
		}
	}
	if _, used := s.nonces[params["SignatureNonce"]]; used {
		return &apiError{400, "SignatureNonceUsed", "Specified signature nonce was used already."}
	}
	s.nonces[params["SignatureNonce"]] = now
	return nil
}

// StringToSign is the canonical form of an RPC request: method, "/" and the
// sorted, percent-encoded parameters (Signature excluded).
func StringToSign(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(b.String())
}

// Sign is HMAC-SHA1 keyed with secret + "&", base64-encoded.
func Sign(stringToSign, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode is RFC 3986 encoding as Alibaba Cloud's RPC signature uses it.
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// page applies the filters and returns the requested page. Each parameter
// is read from its place only (see params).
func (s *Server) page(query, form url.Values, requestID string) ([]byte, *apiError) {
	get := func(k string) string {
		switch PlaceOf(k) {
		case InQuery:
			return query.Get(k)
		case InBody:
			return form.Get(k)
		}
		return ""
	}
	productType := get("ProductType")
	if productType == "" {
		return nil, &apiError{400, "MissingParameter", `The input parameter "ProductType" that is mandatory for processing this request is not supplied.`}
	}
	pageSize, pageNumber := 10, 1
	if v := get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, &apiError{400, "InvalidParameter.PageSize", "The specified parameter PageSize is not valid: it must be 1 to 100."}
		}
		pageSize = n
	}
	if v := get("PageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, &apiError{400, "InvalidParameter.PageNumber", "The specified parameter PageNumber is not valid."}
		}
		pageNumber = n
	}
	statuses := indexed(get, "Status.%d")
	// Each Tag.N is one condition, a key may repeat; a group must meet all.
	var tags [][2]string
	for i := 1; get(fmt.Sprintf("Tag.%d.Key", i)) != ""; i++ {
		tags = append(tags, [2]string{get(fmt.Sprintf("Tag.%d.Key", i)), get(fmt.Sprintf("Tag.%d.Value", i))})
	}
	userGroups := indexed(get, "UserGroupIds.%d")
	excluded := indexed(get, "ExcludedUserGroupIds.%d")

	s.mu.Lock()
	var matched []json.RawMessage
	for i, g := range s.index {
		ug := s.userGroups[g.AppInstanceGroupID]
		switch {
		case g.ProductType != "" && g.ProductType != productType,
			len(statuses) > 0 && !slices.Contains(statuses, g.Status),
			!matches(get("BizRegionId"), g.RegionID),
			!matches(get("AppInstanceGroupId"), g.AppInstanceGroupID),
			get("AppInstanceGroupName") != "" && !strings.Contains(g.AppInstanceGroupName, get("AppInstanceGroupName")),
			!matches(get("AppCenterImageId"), g.AppCenterImageID),
			!matches(get("OfficeSiteId"), strings.TrimSpace(g.OfficeSiteID)),
			get("NodeInstanceType") != "" && !slices.ContainsFunc(g.NodePool, func(p struct {
				NodeInstanceType string `json:"NodeInstanceType"`
			}) bool {
				return p.NodeInstanceType == get("NodeInstanceType")
			}),
			!hasTags(g, tags),
			len(userGroups) > 0 && !slices.ContainsFunc(userGroups, func(u string) bool { return slices.Contains(ug, u) }),
			len(excluded) > 0 && slices.ContainsFunc(excluded, func(u string) bool { return slices.Contains(ug, u) }):
			continue
		}
		matched = append(matched, s.groups[i])
	}
	s.mu.Unlock()

	start := min((pageNumber-1)*pageSize, len(matched))
	end := min(start+pageSize, len(matched))
	var body bytes.Buffer
	fmt.Fprintf(&body, `{"RequestId":%q,"TotalCount":%d,"PageSize":%d,"PageNumber":%d,"AppInstanceGroupModels":[`,
		requestID, len(matched), pageSize, pageNumber)
	for i, g := range matched[start:end] {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(g)
	}
	body.WriteString("]}")
	return body.Bytes(), nil
}

func matches(filter, value string) bool { return filter == "" || filter == value }

func hasTags(g groupIndex, want [][2]string) bool {
	for _, kv := range want {
		if !slices.ContainsFunc(g.Tags, func(t struct {
			Key   string `json:"Key"`
			Value string `json:"Value"`
		}) bool {
			return t.Key == kv[0] && t.Value == kv[1]
		}) {
			return false
		}
	}
	return true
}

func indexed(get func(string) string, pattern string) []string {
	var out []string
	for i := 1; ; i++ {
		v := get(fmt.Sprintf(pattern, i))
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

func writeError(w http.ResponseWriter, e *apiError, requestID string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"RequestId": requestID,
		"HostId":    "appstream-center.cn-shanghai.aliyuncs.com",
		"Code":      e.code,
		"Message":   e.message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + e.code + "&product=appstream-center",
	})
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
