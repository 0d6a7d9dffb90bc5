package autodiscover_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/scctest"
)

const (
	svcLogon    = `CONTOSO\svc-sync`
	svcPassword = "Autod-Passw0rd"
	bearerToken = "tok-autodiscover-1"
	mailEWS     = "https://mail.contoso.example/EWS/Exchange.asmx"
)

// credKinds are the three schemes every safety test runs with.
var credKinds = []string{"Basic", "NTLM", "Bearer"}

func creds(kind string) autodiscover.Credentials {
	switch kind {
	case "Basic":
		return autodiscover.Basic(svcLogon, svcPassword)
	case "NTLM":
		return autodiscover.NTLM(svcLogon, svcPassword)
	case "Bearer":
		return autodiscover.Bearer(func(context.Context) (string, error) { return bearerToken, nil })
	}
	panic("unknown kind " + kind)
}

// schemesFor is what a well-behaved server offers so that kind works: a
// Basic client refuses Basic to a server that also offers NTLM or Bearer.
func schemesFor(kind string) scctest.Option {
	switch kind {
	case "Basic":
		return scctest.WithAuth(scctest.AuthBasic)
	case "Bearer":
		return scctest.WithAuth(scctest.AuthBearer)
	}
	return scctest.WithAuth(scctest.AuthNTLM, scctest.AuthBasic)
}

// fake is an Autodiscover server with the service account, two mailboxes
// and the EWS URL mail.contoso.example.
func fake(t *testing.T, h *scctest.Hosts, names []string, kind string, opts ...scctest.Option) *scctest.Server {
	t.Helper()
	s := h.NewTLSServer(t, names, append([]scctest.Option{schemesFor(kind)}, opts...)...)
	seed(t, s)
	return s
}

func seed(t *testing.T, s *scctest.Server) {
	t.Helper()
	if err := s.AddServiceAccount(svcLogon, svcPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(bearerToken, scctest.Token{Kind: scctest.AppOnly, AppID: "app-1"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"alice@contoso.example", "bob@contoso.example"} {
		if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: m}); err != nil {
			t.Fatal(err)
		}
	}
	s.SetAutodiscoverEWSURL(mailEWS, "https://mail.internal.contoso.example/EWS/Exchange.asmx")
}

// client builds a Client routed through h. Bearer clients list the hosts of
// contoso.example, as a token is only ever sent to listed hosts.
func client(t *testing.T, h *scctest.Hosts, kind string, opts ...autodiscover.Option) *autodiscover.Client {
	t.Helper()
	base := []autodiscover.Option{
		autodiscover.WithDialer(h.DialContext),
		autodiscover.WithSRVLookup(h.LookupSRV),
		autodiscover.WithTLSConfig(h.TLSConfig()),
	}
	if kind != "" {
		base = append(base, autodiscover.WithCredentials(creds(kind)))
	}
	if kind == "Bearer" {
		base = append(base, autodiscover.WithAllowedHosts("contoso.example", "autodiscover.contoso.example", "mail.contoso.example", "ad.contoso.example"))
	}
	c, err := autodiscover.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// attempts renders the attempts for failure messages.
func attempts(as []autodiscover.Attempt) string {
	var b strings.Builder
	for _, a := range as {
		b.WriteString("\n\t" + a.String())
	}
	return b.String()
}

func attemptsOf(err error) []autodiscover.Attempt {
	if e, ok := err.(*autodiscover.Error); ok {
		return e.Attempts
	}
	return nil
}

// noCredentials fails t when s received any Authorization header.
func noCredentials(t *testing.T, name string, s *scctest.Server) {
	t.Helper()
	if got := s.Authorizations(); len(got) > 0 {
		schemes := make([]string, len(got))
		for i, g := range got {
			schemes[i], _, _ = strings.Cut(g, " ")
		}
		t.Errorf("%s received Authorization headers %v, want none", name, schemes)
	}
}
