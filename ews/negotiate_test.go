package ews_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// authCounter counts, below the auth layer, the requests that carry no
// credentials and are refused (the probes: an authenticated NTLM
// connection carries requests without credentials too), and those that
// carry Basic credentials.
type authCounter struct {
	anonymous, basic atomic.Int64
}

func (a *authCounter) middleware(next http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		h := r.Header.Get("Authorization")
		if strings.HasPrefix(h, "Basic ") {
			a.basic.Add(1)
		}
		resp, err := next.RoundTrip(r)
		if err == nil && h == "" && resp.StatusCode == http.StatusUnauthorized {
			a.anonymous.Add(1)
		}
		return resp, err
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// negotiatedFake starts a fake offering schemes, with users mailboxes.
func negotiatedFake(t *testing.T, tls bool, users int, schemes ...scctest.AuthScheme) (*scctest.Server, []string) {
	t.Helper()
	var opts []scctest.Option
	if len(schemes) > 0 {
		opts = append(opts, scctest.WithAuth(schemes...))
	}
	var s *scctest.Server
	if tls {
		s = scctest.NewTLSServer(t, opts...)
	} else {
		s = scctest.NewServer(t, opts...)
	}
	var addrs []string
	for i := range users {
		addr := fmt.Sprintf("user%02d@contoso.example", i)
		if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: addr}); err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, addr)
	}
	if err := s.AddServiceAccount(svcLogon, svcPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	return s, addrs
}

// concurrentFolders makes one impersonated call per address, all at once,
// and returns their errors.
func concurrentFolders(c *ews.Client, addrs []string) []error {
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = c.Folder(context.Background(), ews.DistinguishedFolder(ews.FolderInbox),
				ews.Impersonate(ews.PrimarySmtpAddress(a)), ews.UseRetryPolicy(ews.NoRetries()))
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func failedLogons(s *scctest.Server) int {
	n := 0
	for _, v := range s.Stats().FailedLogons {
		n += v
	}
	return n
}

func TestNegotiatedAuth(t *testing.T) {
	const users = 27
	tests := []struct {
		name     string
		tls      bool
		schemes  []scctest.AuthScheme
		password string
		// want
		scheme       string // of the AuthError, "" for success
		offered      []string
		failedLogons int
		basicSent    bool
	}{
		{name: "NTLM offered", schemes: nil, password: svcPassword},
		{name: "NTLM only", schemes: []scctest.AuthScheme{scctest.AuthNTLM}, password: svcPassword},
		{name: "Basic only over https", tls: true, schemes: []scctest.AuthScheme{scctest.AuthBasic}, password: svcPassword, basicSent: true},
		{name: "Basic and NTLM over https", tls: true, schemes: []scctest.AuthScheme{scctest.AuthBasic, scctest.AuthNTLM}, password: svcPassword},
		{name: "Basic only over http", schemes: []scctest.AuthScheme{scctest.AuthBasic}, password: svcPassword,
			scheme: "NTLM", offered: []string{"Basic"}},
		{name: "wrong password, NTLM", schemes: []scctest.AuthScheme{scctest.AuthNTLM}, password: "wrong",
			scheme: "NTLM", offered: []string{"Negotiate", "NTLM"}, failedLogons: 1},
		{name: "wrong password, Basic over https", tls: true, schemes: []scctest.AuthScheme{scctest.AuthBasic}, password: "wrong",
			scheme: "Basic", offered: []string{"Basic"}, failedLogons: 1, basicSent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, addrs := negotiatedFake(t, tt.tls, users, tt.schemes...)
			var count authCounter
			c, err := ews.NewClient(s.EWSURL(), ews.WithHTTPClient(s.Client()), ews.WithNegotiatedAuth(svcLogon, tt.password),
				ews.WithTransportMiddleware(count.middleware))
			if err != nil {
				t.Fatalf("NewClient = %v", err)
			}
			defer c.CloseIdleConnections()
			for i, err := range concurrentFolders(c, addrs) {
				if tt.scheme == "" {
					if err != nil {
						t.Errorf("Folder as %s = %v, want success", addrs[i], err)
					}
					continue
				}
				var ae *ews.AuthError
				if !errors.As(err, &ae) || ae.Scheme != tt.scheme || !cmp.Equal(ae.Offered, tt.offered) {
					t.Errorf("Folder as %s = %v, want an *AuthError for %s offering %v", addrs[i], err, tt.scheme, tt.offered)
				}
			}
			if got := failedLogons(s); got != tt.failedLogons {
				t.Errorf("server counted %d failed logons (%v) for %d concurrent first calls, want %d", got, s.Stats().FailedLogons, users, tt.failedLogons)
			}
			if tt.failedLogons > 0 {
				// Rejected credentials are not sent again.
				if err := concurrentFolders(c, addrs[:3])[0]; err == nil {
					t.Errorf("Folder after the rejection = nil, want the AuthError")
				}
				if got := failedLogons(s); got != tt.failedLogons {
					t.Errorf("server counted %d failed logons after later calls, want still %d", got, tt.failedLogons)
				}
			}
			if got := count.anonymous.Load(); got != 1 && tt.offered == nil {
				t.Errorf("%d requests went without credentials, want the one shared probe", got)
			}
			if got := count.basic.Load() > 0; got != tt.basicSent {
				t.Errorf("Basic credentials sent = %v, want %v", got, tt.basicSent)
			}
		})
	}
}

// TestNegotiatedAuthRefusesOpaqueTransport: the negotiated method may pick
// NTLM, so it needs the connections as NTLM does.
func TestNegotiatedAuthRefusesOpaqueTransport(t *testing.T) {
	hc := &http.Client{Transport: roundTripperFunc(http.DefaultTransport.RoundTrip)}
	_, err := ews.NewClient("https://mail.contoso.example/EWS/Exchange.asmx", ews.WithHTTPClient(hc), ews.WithNegotiatedAuth(svcLogon, svcPassword))
	if err == nil || !strings.Contains(err.Error(), "WithNegotiatedAuth") || !strings.Contains(err.Error(), "WithTransportMiddleware") {
		t.Errorf("NewClient(negotiated over an opaque RoundTripper) = %v, want an error naming WithNegotiatedAuth and WithTransportMiddleware", err)
	}
}
