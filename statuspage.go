package main

import (
	"bytes"
	"html/template"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/appstream-exporter/appstream_exporter/internal/exporter"
)

// statusMarker is where the status table goes in the landing page: below
// the links, where the toolkit's page puts ExtraHTML.
const statusMarker = "<!-- appstream-status -->"

// statusPage serves the toolkit's landing page with a table per query
// inserted at statusMarker, made at each request from the exporter in
// force. It shows no secrets (errors are the log's, redacted) and html/
// template escapes every value.
type statusPage struct {
	head, tail []byte // the landing page before and after the marker
	landing    http.Handler
	current    func() *exporter.Exporter
}

func newStatusPage(landing http.Handler, current func() *exporter.Exporter) *statusPage {
	rec := httptest.NewRecorder()
	landing.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := rec.Body.Bytes()
	head, tail, _ := bytes.Cut(page, []byte(statusMarker))
	return &statusPage{head: head, tail: tail, landing: landing, current: current}
}

func (p *statusPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		p.landing.ServeHTTP(w, r) // its 404
		return
	}
	var body bytes.Buffer
	body.Write(p.head)
	data := statusData{Now: time.Now().UTC()}
	if e := p.current(); e != nil {
		data.Queries = e.Status()
		for _, q := range data.Queries {
			data.Accounts = data.Accounts || q.Account != ""
		}
	}
	if err := statusTemplate.Execute(&body, data); err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	body.Write(p.tail)
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body.Bytes())
}

type statusData struct {
	Now      time.Time
	Queries  []exporter.QueryStatus
	Accounts bool // several accounts: show the account column
}

// statusCSS styles the table; the landing page takes it as ExtraCSS.
const statusCSS = `.status { border-collapse: collapse; margin-top: 1em; font-size: 0.9em; }
.status th, .status td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
.status .ok { color: #1a7f37; } .status .failed { color: #cf222e; font-weight: bold; }
.status .message { max-width: 40em; overflow-wrap: anywhere; }`

var statusTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
	"when": func(t, now time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC") + " (" + now.Sub(t).Round(time.Second).String() + " ago)"
	},
	"dur":    func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"region": func(biz string) string { return map[bool]string{true: "all (unfiltered)", false: biz}[biz == ""] },
}).Parse(`<h3>Queries</h3>
{{- if not .Queries}}
<p>No configuration in force yet.</p>
{{- else}}
<p>Each query as of {{.Now.Format "2006-01-02 15:04:05 UTC"}}: the newest refresh, the data served, and the newest failure (also after a later success). The same as the <code>aliyun_appstream_up</code>, <code>_data_age_seconds</code> and <code>_last_refresh_error_info</code> series; errors are those of the log.</p>
<table class="status">
<tr>{{if .Accounts}}<th>Account</th>{{end}}<th>Biz region</th><th>Lists</th><th>Newest refresh</th><th>Outcome</th><th>Groups</th><th>Pages</th><th>Took</th><th>Data age</th><th>Newest failure</th></tr>
{{- range .Queries}}
<tr>{{if $.Accounts}}<td>{{.Account}}</td>{{end}}<td>{{region .BizRegion}}</td><td>{{.Data}}</td>
<td>{{when .LastRefresh $.Now}}</td>
<td>{{if .LastRefresh.IsZero}}not yet{{else if .Up}}<span class="ok">ok</span>{{else}}<span class="failed">failed</span>{{end}}</td>
<td>{{if .Served}}{{.Groups}}{{else}}none served{{end}}</td><td>{{if .Served}}{{.Pages}}{{end}}</td>
<td>{{if not .LastRefresh.IsZero}}{{dur .Duration}}{{end}}</td>
<td>{{if .Served}}{{dur .DataAge}}{{end}}</td>
<td class="message">{{with .Error}}{{when .At $.Now}}<br>class <code>{{.Class}}</code>{{with .Code}}, API code <code>{{.}}</code>{{end}}{{with .RequestID}}, RequestId <code>{{.}}</code>{{end}}<br>{{.Message}}{{else}}none{{end}}</td></tr>
{{- end}}
</table>
{{- end}}
`))
