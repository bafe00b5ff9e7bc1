package simulator

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
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

// demoIntlTemplate is the demo's second account: three healthy groups on
// the international site, so the account label and variable have two
// values while the alerts stay those of the first account.
//
//go:embed demo_intl.json.tmpl
var demoIntlTemplate string

// DemoKey is the access key the demo endpoint accepts. It is not a real
// Alibaba Cloud key.
var DemoKey = Key{ID: "LTAI5tDemoOnlyNotAKey", Secret: "demo-secret-not-a-real-secret"}

// DemoIntlKey is the key of the demo's second account; each endpoint
// refuses the other's.
var DemoIntlKey = Key{ID: "LTAI5tDemoIntlNotAKey", Secret: "demo-intl-secret-not-a-real-secret"}

// DemoDataset renders the demo data set relative to now, with app
// instances for its published groups (DemoSessions).
func DemoDataset(now time.Time) (Dataset, error) { return renderDemo(demoTemplate, now) }

// DemoIntlDataset renders the second account's data set like DemoDataset.
func DemoIntlDataset(now time.Time) (Dataset, error) { return renderDemo(demoIntlTemplate, now) }

func renderDemo(text string, now time.Time) (Dataset, error) {
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
	t, err := template.New("demo").Funcs(funcs).Parse(text)
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

// DemoAccount is one simulated account of the demo: its own endpoint on
// loopback, its own key and data set.
type DemoAccount struct {
	Name   string // the account label it is exported under
	URL    string // http://127.0.0.1:<port>
	Key    Key
	Server *Server
	// AppInstances: the data has app instances, so the exporter lists them.
	AppInstances bool
	srv          *http.Server
}

// Demo is the running demo: two accounts, cn-prod (DemoDataset, whose
// groups raise every alert) and intl (DemoIntlDataset, all healthy).
type Demo struct {
	Accounts []*DemoAccount
}

// DemoSpec is one account of a demo to start: its name, key and data.
type DemoSpec struct {
	Name string
	Key  Key
	Data Dataset
}

// StartDemo serves each demo account on a free loopback port of its own.
func StartDemo(now time.Time) (*Demo, error) {
	var specs []DemoSpec
	for _, a := range []struct {
		name    string
		key     Key
		dataset func(time.Time) (Dataset, error)
	}{{"cn-prod", DemoKey, DemoDataset}, {"intl", DemoIntlKey, DemoIntlDataset}} {
		d, err := a.dataset(now)
		if err != nil {
			return nil, err
		}
		specs = append(specs, DemoSpec{Name: a.name, Key: a.key, Data: d})
	}
	return StartDemoWith(specs)
}

// StartDemoWith serves each account of specs on a free loopback port of
// its own (--demo.data: a snapshot's accounts).
func StartDemoWith(specs []DemoSpec) (*Demo, error) {
	d := &Demo{}
	for _, spec := range specs {
		acc, err := startDemoAccount(spec)
		if err != nil {
			_ = d.Close()
			return nil, err
		}
		d.Accounts = append(d.Accounts, acc)
	}
	return d, nil
}

func startDemoAccount(spec DemoSpec) (*DemoAccount, error) {
	s := New(spec.Key)
	if err := s.SetData(spec.Data); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo endpoint of %s: %w", spec.Name, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }() // returns ErrServerClosed on Close
	return &DemoAccount{Name: spec.Name, URL: "http://" + l.Addr().String(), Key: spec.Key, Server: s, AppInstances: len(spec.Data.AppInstances) > 0, srv: srv}, nil
}

// Close stops every demo endpoint.
func (d *Demo) Close() error {
	var errs []error
	for _, a := range d.Accounts {
		errs = append(errs, a.srv.Close())
	}
	return errors.Join(errs...)
}
