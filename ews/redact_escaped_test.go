package ews_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestEchoedPasswordEscapedRedacted: a server that quotes the password
// escaped the way IIS, .NET, JSON encoders or URL builders do (named,
// decimal and hexadecimal entities, lower-case percent-encoding, JSON
// escapes), or places it across the point where the client stops reading
// an error page, gets it into no error and no wire trace.
func TestEchoedPasswordEscapedRedacted(t *testing.T) {
	const user, password = "svc-sync@contoso.example", `Sup3r"Se'cr/t&x y`
	const rest = `r"Se'cr/t&x y` // the password from its fifth byte on
	escaped := map[string]string{
		"IIS HTML":    `Sup3r&quot;Se&#39;cr/t&amp;x y`,
		"XML entity":  `Sup3r&quot;Se&apos;cr/t&amp;x y`,
		"numeric":     `Sup3r&#34;Se&#x27;cr/t&#x26;x&#32;y`,
		"URL, lower":  `Sup3r%22Se%27cr%2ft%26x+y`,
		"JSON escape": `Sup3r\"Se'cr\/t\u0026x y`,
	}
	type echo struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
	}
	var tests []echo
	for form, text := range escaped {
		tests = append(tests,
			echo{form + " in an error page", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				fmt.Fprintf(w, "<html><body>logon as %s with %s failed</body></html>", user, text)
			}},
			echo{form + " in x-ms-diagnostics", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", `Basic realm="ews"`)
				w.Header().Set("X-Ms-Diagnostics", "2000000;reason=\"bad password "+text+"\"")
				w.WriteHeader(http.StatusUnauthorized)
			}},
			echo{form + " in a redirect", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "https://collect.example/"+strings.ReplaceAll(text, " ", "%20"))
				w.WriteHeader(http.StatusFound)
			}},
		)
	}
	for _, at := range []int{8192 - 4, 8192 - 12} {
		tests = append(tests, echo{fmt.Sprintf("across the excerpt's cut at %d", at), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			pad := "<!--" + strings.Repeat("-", at-len("<!---->")) + "-->"
			fmt.Fprint(w, pad+password+" was refused</body></html>")
		}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, _ int) { tt.handler(w, r) })
			trace := &syncBuffer{}
			c := newClient(t, f, ews.WithBasicAuth(user, password), ews.WithInsecureHTTP(), ews.WithWireTrace(trace), ews.WithRetryPolicy(ews.NoRetries()))
			_, err := c.GetFolder(context.Background(), &ews.GetFolderRequest{FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.FolderInbox)}})
			if err == nil {
				t.Fatal("GetFolder = nil error, want the server's error")
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), trace.String()} {
				for _, leak := range []string{"Sup3", rest} {
					if strings.Contains(s, leak) {
						t.Errorf("the password (%q) shows in:\n%s", leak, s)
					}
				}
			}
		})
	}
}
