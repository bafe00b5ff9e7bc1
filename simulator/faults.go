package simulator

import (
	"bytes"
	"fmt"
	"net/http"
	"time"
)

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
	// Action, if set, is the only action the fault answers; requests for
	// others pass it by.
	Action string
}

// For returns the fault for requests of action only.
func (f Fault) For(action string) Fault {
	f.Action = action
	return f
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

// nextFault takes the first queued fault for action, else the sticky one
// if it is for action.
func (s *Server) nextFault(action string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Action == "" || f.Action == action {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return &f
		}
	}
	if f := s.sticky; f != nil && (f.Action == "" || f.Action == action) {
		return f
	}
	return nil
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
