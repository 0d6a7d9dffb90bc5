package ews_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"Authorization: Basic dXNlcjpwYXNz", nil, "Authorization: Basic [redacted]"},
		{`{"authorization":"Bearer abc.def.ghi"}`, nil, `{"authorization":"Bearer [redacted]"}`},
		{"proxy-authorization=NTLM TlRMTVNTUAADAAAAGAAYAHAAAAA=", nil, "proxy-authorization=NTLM [redacted]"},
		{"sent Bearer eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2ln to us", nil, "sent Bearer [redacted] to us"},
		{"token eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2ln leaked", nil, "token [redacted] leaked"},
		{"Basic authentication is disabled for EWS", nil, "Basic authentication is disabled for EWS"},
		{"Negotiate Kerberos failed", nil, "Negotiate Kerberos failed"},
		{"user svc-sync tried Sup3r&Secret!", []string{"Sup3r&Secret!"}, "user svc-sync tried [redacted]"},
		{"<b>Sup3r&amp;Secret!</b>", []string{"Sup3r&Secret!"}, "<b>[redacted]</b>"},
		{"?p=Sup3r%26Secret%21", []string{"Sup3r&Secret!"}, "?p=[redacted]"},
		{"password=hunter2 and <t:Password>x</t:Password>", nil, "password=[redacted] and <t:Password>[redacted]</t:Password>"},
		{"ab and ab", []string{"ab"}, "ab and ab"},
		{"<p>Sup3r&amp;Secret&#33;</p>", []string{"Sup3r&Secret!"}, "<p>[redacted]</p>"},
		{`say &quot;hi&quot; &apos;there&apos;`, []string{`"hi" 'there'`}, "say [redacted]"},
		{"p=Sup3r%26secret%2f+x", []string{"Sup3r&secret/ x"}, "p=[redacted]"},
		{`{"m":"Sup3r\u0026Secret\/x"}`, []string{"Sup3r&Secret/x"}, `{"m":"[redacted]"}`},
	}
	for _, tt := range tests {
		if got := ews.Redact(tt.in, tt.secrets...); got != tt.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tt.in, tt.secrets, got, tt.want)
		}
	}
}

// TestEchoedCredentialsRedacted: a server that echoes the request's
// Authorization header or the password into its answer (an error page, a
// fault, a response message, a diagnostics header) gets neither into the
// client's errors nor into the wire trace.
func TestEchoedCredentialsRedacted(t *testing.T) {
	const user, password = "svc-sync@contoso.example", "Sup3r&Secret!"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	echo := func(r *http.Request) string {
		return fmt.Sprintf("you sent Authorization: %s (password %s, credential %s)", r.Header.Get("Authorization"), password, basic)
	}
	fault := func(text string) string {
		return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>` +
			xmlEscape(text) + `</faultstring></s:Fault></s:Body></s:Envelope>`
	}
	message := func(text string) string {
		return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages>` +
			`<m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>` + xmlEscape(text) + `</m:MessageText><m:ResponseCode>ErrorAccessDenied</m:ResponseCode>` +
			`<m:MessageXml><t:Value xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" Name="Echo">` + xmlEscape(text) + `</t:Value></m:MessageXml>` +
			`</m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>`
	}
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
	}{
		{"HTML error page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body><pre>%s</pre></body></html>", echo(r))
		}},
		{"SOAP fault", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, fault(echo(r)))
		}},
		{"response message", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			fmt.Fprint(w, message(echo(r)))
		}},
		{"password as fault code", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>Error`+xmlEscape(password)+`</faultcode><faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>`)
		}},
		{"401 diagnostics", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", "Basic realm=\"ews\"")
			w.Header().Set("X-Ms-Diagnostics", echo(r))
			w.Header().Set("X-Echo", echo(r))
			w.WriteHeader(http.StatusUnauthorized)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, _ int) { tt.handler(w, r) })
			trace := &syncBuffer{}
			c := newClient(t, f, ews.WithBasicAuth(user, password), ews.WithInsecureHTTP(), ews.WithWireTrace(trace), ews.WithRetryPolicy(ews.NoRetries()))
			resp, err := c.GetFolder(context.Background(), &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}})
			if err == nil && resp != nil && len(resp.Results) == 1 {
				err = resp.Results[0].Err
			}
			if err == nil {
				t.Fatal("GetFolder = nil error, want the server's error")
			}
			var re *ews.ResponseError
			var shown []string
			shown = append(shown, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), trace.String())
			if errors.As(err, &re) {
				shown = append(shown, resp.Results[0].MessageText, fmt.Sprint(resp.Results[0].MessageXML))
			}
			for _, s := range shown {
				for _, leak := range []string{password, basic, "Sup3r"} {
					if strings.Contains(s, leak) {
						t.Errorf("the credential %q shows in:\n%s", leak, s)
					}
				}
			}
			if !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("GetFolder error = %v, want it to show where the echo was redacted", err)
			}
		})
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '&':
			b.WriteString("&amp;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FuzzRedact: whatever the text and secret, Redact returns, and a secret of
// three bytes or more never survives (outside the [redacted] markers
// themselves, which contain short strings such as "ED]").
func FuzzRedact(f *testing.F) {
	f.Add("you sent Authorization: Basic dXNlcjpwYXNz", "Sup3r&Secret!")
	f.Add("<t:Password>x</t:Password> Bearer eyJ0eXAi.eyJzdWIi.c2ln", "x")
	f.Add("password=Sup3r%26Secret%21;", "Sup3r&Secret!")
	f.Fuzz(func(t *testing.T, text, secret string) {
		out := ews.Redact(text, secret)
		if len(secret) < 3 || strings.Contains(secret, "\x00") || !strings.Contains(text, secret) {
			return
		}
		if rest := strings.ReplaceAll(out, "[redacted]", "\x00"); strings.Contains(rest, secret) {
			t.Errorf("Redact(%q, %q) = %q, still shows the secret", text, secret, out)
		}
	})
}
