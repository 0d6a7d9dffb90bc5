package scctest

import (
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

var captureDir = flag.String("capture", "", "write every SOAP response the tests receive into this directory (for ews-validate)")

// captured writes a response body into the capture directory, if any.
func captured(t testing.TB, body []byte) {
	t.Helper()
	if *captureDir == "" || len(body) == 0 || !strings.Contains(string(body[:min(len(body), 200)]), "Envelope") {
		return
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	if err := os.MkdirAll(*captureDir, 0o755); err != nil {
		t.Fatalf("capture: %v", err)
	}
	for i := 0; ; i++ {
		p := filepath.Join(*captureDir, name+".xml")
		if i > 0 {
			p = filepath.Join(*captureDir, name+"."+itoa(i)+".xml")
		}
		// O_EXCL: concurrent requests of one test must not overwrite each
		// other's capture (a Stat-then-write lost some).
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil {
			_, err = f.Write(body)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			t.Errorf("capture: %v", err)
		}
		return
	}
}

const (
	testSvc      = `CONTOSO\svc-sync`
	testPassword = "S3cret!pw"
	alice        = "alice@contoso.example"
	bob          = "bob@contoso.example"
	carol        = "carol@contoso.example" // outside the service account's scope
)

// newTestServer starts a server with alice, bob and carol and a service
// account that may impersonate alice and bob.
func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(t, opts...)
	for _, m := range []Mailbox{
		{PrimarySMTP: alice, ProxyAddresses: []string{"smtp:alice.alias@contoso.example"}, UPN: "alice@ad.contoso.example", DisplayName: "Alice Anders", Password: "alice-pw"},
		{PrimarySMTP: bob, DisplayName: "Bob Brown"},
		{PrimarySMTP: carol, DisplayName: "Carol Clark"},
	} {
		if _, err := s.AddMailbox(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddServiceAccount(testSvc, testPassword, ImpersonateScope(alice, bob)); err != nil {
		t.Fatal(err)
	}
	return s
}

// envelope wraps a header and body in a SOAP envelope with the usual
// prefixes.
func envelope(header, body string) string {
	return `<?xml version="1.0" encoding="utf-8"?>` +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">` +
		`<soap:Header>` + header + `</soap:Header><soap:Body>` + body + `</soap:Body></soap:Envelope>`
}

func version(v string) string { return `<t:RequestServerVersion Version="` + v + `"/>` }

func impersonate(kind, value string) string {
	return `<t:ExchangeImpersonation><t:ConnectingSID><t:` + kind + `>` + value + `</t:` + kind + `></t:ConnectingSID></t:ExchangeImpersonation>`
}

const getInbox = `<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder>`

// req is one HTTP request to the fake.
type req struct {
	method  string // default POST
	path    string // default EWSPath
	user    string // Basic user ("" = no Basic)
	pass    string
	bearer  string
	headers map[string]string
	ctype   string // default text/xml; charset=utf-8
	body    string
}

// resp is a parsed answer.
type resp struct {
	status int
	header http.Header
	body   []byte
	// parsed SOAP
	fault         ews.ResponseCode
	faultString   string
	classes       []string
	codes         []ews.ResponseCode
	version       string // ServerVersionInfo/@Version
	messageValues map[string]string
}

func do(t testing.TB, s *Server, c *http.Client, r req) resp {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = EWSPath
	}
	if c == nil {
		c = s.Client()
	}
	hr, err := http.NewRequest(r.method, s.URL()+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	ct := r.ctype
	if ct == "" {
		ct = "text/xml; charset=utf-8"
	}
	hr.Header.Set("Content-Type", ct)
	if r.user != "" {
		hr.SetBasicAuth(r.user, r.pass)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	res, err := c.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := resp{status: res.StatusCode, header: res.Header, body: b}
	captured(t, b)
	if len(b) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "text/xml") {
		parseResp(t, &out)
	}
	return out
}

// parseResp extracts what tests assert on, matching on namespaces.
func parseResp(t testing.TB, r *resp) {
	t.Helper()
	root, xe := parseXML(r.body)
	if xe != nil {
		t.Fatalf("response is not XML: %v\n%s", xe, r.body)
	}
	if h := root.child(nsSOAP, "Header"); h != nil {
		if svi := h.child(nsTypes, "ServerVersionInfo"); svi != nil {
			r.version = svi.attrOr("Version", "")
		}
	}
	body := root.child(nsSOAP, "Body")
	if body == nil || len(body.kids) != 1 {
		t.Fatalf("response has no single Body child:\n%s", r.body)
	}
	r.messageValues = map[string]string{}
	op := body.kids[0]
	if op.is(nsSOAP, "Fault") {
		det := op.child("", "detail")
		r.fault = ews.ResponseCode(det.child(nsErrors, "ResponseCode").trimmed())
		r.faultString = op.child("", "faultstring").trimmed()
		if mx := det.child(nsTypes, "MessageXml"); mx != nil {
			for _, v := range mx.kids {
				r.messageValues[v.attrOr("Name", v.name.Local)] = v.trimmed()
			}
		}
		return
	}
	for _, m := range op.child(nsMessages, "ResponseMessages").kids {
		r.classes = append(r.classes, m.attrOr("ResponseClass", ""))
		r.codes = append(r.codes, ews.ResponseCode(m.child(nsMessages, "ResponseCode").trimmed()))
	}
}

// find returns the first element with the local name anywhere in the body.
func find(t testing.TB, body []byte, local string) *node {
	t.Helper()
	root, xe := parseXML(body)
	if xe != nil {
		t.Fatal(xe)
	}
	var walk func(n *node) *node
	walk = func(n *node) *node {
		if n.name.Local == local {
			return n
		}
		for _, k := range n.kids {
			if f := walk(k); f != nil {
				return f
			}
		}
		return nil
	}
	return walk(root)
}

// findAll returns all elements with the local name.
func findAll(t testing.TB, body []byte, local string) []*node {
	t.Helper()
	root, xe := parseXML(body)
	if xe != nil {
		t.Fatal(xe)
	}
	var out []*node
	var walk func(n *node)
	walk = func(n *node) {
		if n.name.Local == local {
			out = append(out, n)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(root)
	return out
}

var _ = xml.Name{}

func errorsIs(err, target error) bool { return err != nil && errors.Is(err, target) }
