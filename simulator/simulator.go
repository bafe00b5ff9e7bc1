// Package simulator plays the appstream-center endpoint for
// ListAppInstanceGroup and ListAppInstances on loopback: it checks each
// request's RPC signature (HMAC-SHA1, timestamp, nonce) the way the real
// service does, applies the documented filters (each read only from the
// place the SDKs send it: query string or form body), pages a data set,
// and can inject faults. --demo and the tests use it; it
// shares no code with the exporter, so a signing or paging bug on either
// side shows up as a failed request.
package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

// Request is what the simulator recorded of one request it answered.
type Request struct {
	Action string
	Query  url.Values
	Form   url.Values
	Code   string // "Success" or the error code answered
	// Misplaced lists the action's parameters that came in the
	// wrong place (a body parameter in the query string or the other way
	// round), sorted. They were ignored.
	Misplaced []string
}

// Server is the simulated endpoint. It is safe for concurrent use.
type Server struct {
	mu         sync.Mutex
	keys       map[string]Key
	groups     []json.RawMessage
	index      []groupIndex
	instances  map[string][]json.RawMessage // by group ID
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
	action := query.Get("Action")
	if action == "" {
		action = form.Get("Action")
	}
	wrong := misplaced(action, query, form)
	record := func(code string) {
		s.mu.Lock()
		s.log = append(s.log, Request{Action: action, Query: query, Form: form, Code: code, Misplaced: wrong})
		s.mu.Unlock()
	}

	if f := s.nextFault(action); f != nil {
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
	var body []byte
	var e *apiError
	if query.Get("Action") == ListAppInstances || form.Get("Action") == ListAppInstances {
		body, e = s.instancesPage(query, form, requestID)
	} else {
		body, e = s.page(query, form, requestID)
	}
	if e != nil {
		record(e.code)
		writeError(w, e, requestID)
		return
	}
	record("Success")
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	// A whole page, its length announced (the exporter's tests also send
	// answers in chunks without one).
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body) //nolint:gosec // JSON (Content-Type application/json) of the loaded data, not HTML; the client going away is its business
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
