package ntlmserver_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/sccsync/scc/internal/ntlmserver"
)

// An HTTP server that accepts NTLM logons of CONTOSO\svc-sync, used by the
// go-ntlmssp client.
func Example() {
	ns, err := ntlmserver.New(ntlmserver.Config{
		NetBIOSDomain: "CONTOSO",
		DNSDomain:     "contoso.com",
		Computer:      "EXCH01",
		Password: func(user, domain string) (string, bool) {
			// user@domain logons arrive as user "svc-sync@contoso.com",
			// domain "".
			if strings.EqualFold(user, "svc-sync") || strings.EqualFold(user, "svc-sync@contoso.com") {
				return "Pa55w0rd!", true
			}
			return "", false
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := ns.Authenticate(w, r)
		switch res.Status {
		case ntlmserver.ChallengeSent:
			return
		case ntlmserver.Authenticated:
			fmt.Fprintf(w, "hello %s", res.Identity)
		default: // Unauthenticated or Failed: offer the schemes again
			if res.Err != nil {
				fmt.Println("refused:", res.Err)
			}
			w.Header().Add("WWW-Authenticate", "Negotiate")
			w.Header().Add("WWW-Authenticate", "NTLM")
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	ts.Config.ConnContext = ns.ConnContext // per-connection NTLM state
	ts.Start()
	defer ts.Close()

	for _, pw := range []string{"Pa55w0rd!", "wrong"} {
		// A new client, hence a new connection: a connection that is
		// already authenticated would pass without a new logon.
		client := &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: &http.Transport{}}}
		req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader("<soap/>"))
		req.SetBasicAuth(`CONTOSO\svc-sync`, pw)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 200 hello CONTOSO\svc-sync
	// refused: ntlmserver: logon of "CONTOSO\\svc-sync" failed: wrong password
	// 401
}
