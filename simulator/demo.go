package simulator

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"text/template"
	"time"
	_ "time/tzdata" // the demo's schedule windows are in Asia/Shanghai on any host
)

// demoTemplate is 30 delivery groups shaped like real ListAppInstanceGroup
// answers. Times are template calls relative to the moment the demo starts,
// so "expires in 3 days" and "a schedule window active now" stay true.
//
//go:embed demo.json.tmpl
var demoTemplate string

// DemoKey is the access key the demo endpoint accepts. It is not a real
// Alibaba Cloud key.
var DemoKey = Key{ID: "LTAI5tDemoOnlyNotAKey", Secret: "demo-secret-not-a-real-secret"}

// DemoDataset renders the demo data set relative to now, with app
// instances for its published groups (DemoSessions).
func DemoDataset(now time.Time) (Dataset, error) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return Dataset{}, err
	}
	const apiTime = "2006-01-02T15:04:05.000+00:00"
	funcs := template.FuncMap{
		"expiresIn": func(days int) string {
			return now.Add(time.Duration(days) * 24 * time.Hour).UTC().Truncate(time.Hour).Format(apiTime)
		},
		"daysAgo": func(days int) string {
			return now.Add(-time.Duration(days) * 24 * time.Hour).UTC().Truncate(time.Second).Format(apiTime)
		},
		"date": func(days int) string {
			return now.In(shanghai).AddDate(0, 0, days).Format("2006-01-02")
		},
		"clockIn": func(minutes int) string {
			return now.In(shanghai).Add(time.Duration(minutes) * time.Minute).Format("15:04")
		},
	}
	t, err := template.New("demo").Funcs(funcs).Parse(demoTemplate)
	if err != nil {
		return Dataset{}, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, nil); err != nil {
		return Dataset{}, err
	}
	var d Dataset
	if err := json.Unmarshal(buf.Bytes(), &d); err != nil {
		return Dataset{}, fmt.Errorf("demo data set: %w", err)
	}
	return WithSessions(d, now, DemoSessions)
}

// Demo is a running demo endpoint on loopback.
type Demo struct {
	URL    string // http://127.0.0.1:<port>
	Server *Server
	srv    *http.Server
}

// StartDemo serves the demo data set on a free loopback port.
func StartDemo(now time.Time) (*Demo, error) {
	d, err := DemoDataset(now)
	if err != nil {
		return nil, err
	}
	s := New(DemoKey)
	if err := s.SetData(d); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo endpoint: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }() // returns ErrServerClosed on Close
	return &Demo{URL: "http://" + l.Addr().String(), Server: s, srv: srv}, nil
}

// Close stops the demo endpoint.
func (d *Demo) Close() error { return d.srv.Close() }
