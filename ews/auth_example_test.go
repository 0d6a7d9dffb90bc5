package ews_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/internal/ntlmserver"
)

// inboxResponse is a GetFolder answer for the examples' stand-in servers.
const inboxResponse = `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
<m:Folders><t:Folder><t:FolderId Id="AAMkInbox"/><t:DisplayName>Inbox</t:DisplayName><t:TotalCount>3</t:TotalCount></t:Folder></m:Folders>
</m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>`

// ntlmExchange stands in for an on-premises Exchange server with Windows
// authentication (it really verifies NTLMv2).
func ntlmExchange() (*httptest.Server, error) {
	ns, err := ntlmserver.New(ntlmserver.Config{NetBIOSDomain: "CONTOSO", DNSDomain: "contoso.com",
		Password: func(user, domain string) (string, bool) {
			if strings.EqualFold(user, "svc-sync") && strings.EqualFold(domain, "CONTOSO") {
				return "Pa55w0rd!", true
			}
			return "", false
		}})
	if err != nil {
		return nil, err
	}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch ns.Authenticate(w, r).Status {
		case ntlmserver.ChallengeSent:
		case ntlmserver.Authenticated:
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			_, _ = io.WriteString(w, inboxResponse)
		default:
			w.Header().Add("WWW-Authenticate", "Negotiate")
			w.Header().Add("WWW-Authenticate", "NTLM")
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	ts.Config.ConnContext = ns.ConnContext
	ts.StartTLS()
	return ts, nil
}

// A service account logs on with NTLM, as on-premises Exchange usually
// requires. Use "CONTOSO\svc-sync" or "svc-sync@contoso.com".
func ExampleWithNTLM() {
	srv, err := ntlmExchange() // https://mail.contoso.com in real life
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	c, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx",
		ews.WithNTLM(`CONTOSO\svc-sync`, "Pa55w0rd!"),
		ews.WithHTTPClient(srv.Client()), // trusts the test certificate
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox),
		ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.DisplayName, f.TotalCount)
	// Output: Inbox 3
}

// staticTokens stands in for an oauth2.TokenSource, e.g. the one of
// golang.org/x/oauth2/clientcredentials.Config for an Entra app with the
// full_access_as_app permission and scope
// https://outlook.office365.com/.default. An oauth2.TokenSource is passed
// to WithTokenSource as it is.
type staticTokens struct{}

type accessToken struct{ value string }

func (t *accessToken) SetAuthHeader(r *http.Request) {
	r.Header.Set("Authorization", "Bearer "+t.value)
}

func (staticTokens) Token() (*accessToken, error) { return &accessToken{"eyJ0eXAi.app-only"}, nil }

// Exchange Online with an app-only token: every call impersonates the
// mailbox it works on.
func ExampleWithTokenSource() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer eyJ0eXAi.app-only" || r.Header.Get("X-AnchorMailbox") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, inboxResponse)
	}))
	defer srv.Close()

	c, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx", // https://outlook.office365.com/EWS/Exchange.asmx
		ews.WithTokenSource(staticTokens{}),
		ews.WithHTTPClient(srv.Client()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	alice := c.With(ews.Impersonate(ews.PrimarySmtpAddress("alice@contoso.com")))
	f, err := alice.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.DisplayName)
	// Output: Inbox
}

// A configuration that does not say which scheme the server takes: the
// client asks with one anonymous request and uses NTLM here, because the
// server offers it.
func ExampleWithNegotiatedAuth() {
	srv, err := ntlmExchange()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	c, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx",
		ews.WithNegotiatedAuth(`CONTOSO\svc-sync`, "Pa55w0rd!"),
		ews.WithHTTPClient(srv.Client()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	inbox, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inbox.DisplayName)
	// Output: Inbox
}

// Logging, tracing or metrics RoundTrippers go in as middleware, below the
// auth layer: with NTLM they see every handshake leg, and each handshake
// still keeps to one connection.
func ExampleWithTransportMiddleware() {
	srv, err := ntlmExchange()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	var legs atomic.Int64
	count := func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			legs.Add(1)
			return next.RoundTrip(r)
		})
	}
	c, err := ews.NewClient(srv.URL+"/EWS/Exchange.asmx",
		ews.WithNTLM(`CONTOSO\svc-sync`, "Pa55w0rd!"),
		ews.WithHTTPClient(srv.Client()),
		ews.WithTransportMiddleware(count),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox)); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("requests on the wire:", legs.Load())
	// Output: requests on the wire: 3
}
