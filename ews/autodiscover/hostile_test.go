package autodiscover_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/scctest"
)

// hostileWorld is a set of servers of one scenario. Every scctest server
// records every Authorization header it ever receives; must lists those
// that must never get one.
type hostileWorld struct {
	h    *scctest.Hosts
	must map[string]*scctest.Server // name -> server that must receive no credentials
}

func (w *hostileWorld) forbid(name string, s *scctest.Server) { w.must[name] = s }

// evil starts a TLS server at evil.example that offers every scheme and
// would answer with settings.
func (w *hostileWorld) evil(t *testing.T) *scctest.Server {
	s := w.h.NewTLSServer(t, []string{"evil.example", "autodiscover.evil.example"})
	seed(t, s)
	w.forbid("evil.example", s)
	return s
}

// TestHostileServers runs every hostile behaviour against every credential
// kind and checks that no credential reached a disallowed host, none went
// over http, and Basic never went to a host that offered NTLM or Bearer.
func TestHostileServers(t *testing.T) {
	type scenario struct {
		name string
		// build starts the servers; the client asks about alice@contoso.example.
		build func(t *testing.T, w *hostileWorld, kind string)
		// check looks at the outcome beyond the universal credential checks.
		check func(t *testing.T, res *autodiscover.Result, err error)
	}
	needsConfirmation := func(host string) func(t *testing.T, res *autodiscover.Result, err error) {
		return func(t *testing.T, res *autodiscover.Result, err error) {
			t.Helper()
			var e *autodiscover.Error
			if !errors.As(err, &e) || !errors.Is(err, autodiscover.ErrNeedsConfirmation) {
				t.Fatalf("Discover = %v, %v; want ErrNeedsConfirmation", res, err)
			}
			for _, u := range e.Unconfirmed {
				if u.Host == host {
					return
				}
			}
			t.Errorf("Unconfirmed = %+v, want %s among them", e.Unconfirmed, host)
		}
	}
	failsWith := func(substr string) func(t *testing.T, res *autodiscover.Result, err error) {
		return func(t *testing.T, res *autodiscover.Result, err error) {
			t.Helper()
			if !errors.Is(err, autodiscover.ErrNotFound) {
				t.Fatalf("Discover = %v, %v; want ErrNotFound", res, err)
			}
			for _, a := range attemptsOf(err) {
				if strings.Contains(a.Reason, substr) {
					return
				}
			}
			t.Errorf("no attempt says %q:%s", substr, attempts(attemptsOf(err)))
		}
	}
	scenarios := []scenario{
		{"HTTP status redirect to a foreign host", func(t *testing.T, w *hostileWorld, kind string) {
			s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
			s.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{RedirectTo: "https://evil.example/autodiscover/autodiscover.svc"})
			w.evil(t)
		}, needsConfirmation("evil.example")},
		{"RedirectUrl to a foreign host", func(t *testing.T, w *hostileWorld, kind string) {
			s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
			mustUser(t, s, "alice@contoso.example", scctest.AutodiscoverUser{RedirectURL: "https://evil.example/autodiscover/autodiscover.svc"})
			w.evil(t)
		}, needsConfirmation("evil.example")},
		{"RedirectAddress to a foreign domain", func(t *testing.T, w *hostileWorld, kind string) {
			s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
			mustUser(t, s, "alice@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "alice@evil.example"})
			w.evil(t)
		}, needsConfirmation("evil.example")},
		{"RedirectUrl to http", func(t *testing.T, w *hostileWorld, kind string) {
			s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
			mustUser(t, s, "alice@contoso.example", scctest.AutodiscoverUser{RedirectURL: "http://mail.contoso.example/autodiscover/autodiscover.svc"})
			plain := w.h.NewServer(t, []string{"mail.contoso.example"})
			seed(t, plain)
			w.forbid("http://mail.contoso.example", plain)
		}, failsWith("not https")},
		{"EWS URL on a foreign host", func(t *testing.T, w *hostileWorld, kind string) {
			s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
			s.SetAutodiscoverEWSURL("https://evil.example/EWS/Exchange.asmx", "")
			w.evil(t)
		}, needsConfirmation("evil.example")},
		{"EWS URL over http", func(t *testing.T, w *hostileWorld, kind string) {
			s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
			s.SetAutodiscoverEWSURL("http://mail.contoso.example/EWS/Exchange.asmx", "")
		}, failsWith("is not https")},
		{"unauthenticated HTTP probe asks for Basic", func(t *testing.T, w *hostileWorld, kind string) {
			probe := w.h.NewServer(t, []string{"autodiscover.contoso.example"})
			probe.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{BasicOnly: true})
			w.forbid("http://autodiscover.contoso.example", probe)
		}, failsWith("no redirect (HTTP 401)")},
		{"unauthenticated HTTP probe redirects to a foreign host", func(t *testing.T, w *hostileWorld, kind string) {
			probe := w.h.NewServer(t, []string{"autodiscover.contoso.example"})
			probe.SetAutodiscoverHTTPRedirect("https://evil.example/autodiscover/autodiscover.xml")
			w.forbid("http://autodiscover.contoso.example", probe)
			w.evil(t)
		}, needsConfirmation("evil.example")},
		{"unauthenticated HTTP probe redirects to http", func(t *testing.T, w *hostileWorld, kind string) {
			probe := w.h.NewServer(t, []string{"autodiscover.contoso.example", "mail.contoso.example"})
			seed(t, probe)
			probe.SetAutodiscoverHTTPRedirect("http://mail.contoso.example/autodiscover/autodiscover.xml")
			w.forbid("http://autodiscover.contoso.example", probe)
		}, failsWith("not https")},
		{"SRV record points to a foreign host", func(t *testing.T, w *hostileWorld, kind string) {
			w.h.SetSRV("_autodiscover._tcp.contoso.example", &net.SRV{Target: "evil.example.", Port: 443})
			w.evil(t)
		}, needsConfirmation("evil.example")},
		{"Basic-only answer on the domain (switcheroo)", func(t *testing.T, w *hostileWorld, kind string) {
			s := w.h.NewTLSServer(t, []string{"contoso.example"}, scctest.WithAuth(scctest.AuthBasic))
			seed(t, s)
			s.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{BasicOnly: true})
			if kind != "Basic" {
				w.forbid("contoso.example (Basic only)", s)
			}
		}, func(t *testing.T, res *autodiscover.Result, err error) {
			if err == nil {
				t.Fatalf("Discover = %+v, want an error", res)
			}
		}},
		{"huge answer", func(t *testing.T, w *hostileWorld, kind string) {
			s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
			s.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{HugeBytes: 6 << 20})
		}, failsWith("exceeds the size limit")},
		{"malformed answer", func(t *testing.T, w *hostileWorld, kind string) {
			s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
			s.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{Malformed: true})
		}, failsWith("not well-formed")},
	}
	scenarios = append(scenarios, scenario{"v2 JSON answer with a foreign EWS URL", func(t *testing.T, w *hostileWorld, kind string) {
		s := fake(t, w.h, []string{"autodiscover.contoso.example"}, kind)
		s.SetAutodiscoverEWSURL("https://evil.example/EWS/Exchange.asmx", "")
		w.evil(t)
	}, needsConfirmation("evil.example")})
	for _, sc := range scenarios {
		for _, kind := range credKinds {
			t.Run(sc.name+"/"+kind, func(t *testing.T) {
				w := &hostileWorld{h: scctest.NewTestHosts(t), must: map[string]*scctest.Server{}}
				sc.build(t, w, kind)
				// JSON needs no credentials, and the fake's v2 answer ignores
				// redirects: leave it out so that the hostile answers decide.
				protos := []autodiscover.Protocol{autodiscover.SOAP, autodiscover.POX}
				if strings.HasPrefix(sc.name, "v2 JSON") {
					protos = []autodiscover.Protocol{autodiscover.JSON}
				}
				c := client(t, w.h, kind, autodiscover.WithProtocols(protos...))
				res, err := c.Discover(context.Background(), "alice@contoso.example")
				for name, s := range w.must {
					noCredentials(t, name, s)
				}
				sc.check(t, res, err)
			})
		}
	}
}

// TestNoDowngradeToBasic: a Basic client never sends Basic to a host that
// offered NTLM or Bearer, also after the host switches to Basic only.
func TestNoDowngradeToBasic(t *testing.T) {
	for _, offer := range []scctest.AuthScheme{scctest.AuthNTLM, scctest.AuthBearer} {
		t.Run(string(offer), func(t *testing.T) {
			h := scctest.NewTestHosts(t)
			s := h.NewTLSServer(t, []string{"autodiscover.contoso.example"}, scctest.WithAuth(offer, scctest.AuthBasic))
			seed(t, s)
			c := client(t, h, "Basic", autodiscover.WithProtocols(autodiscover.SOAP, autodiscover.POX))
			_, err := c.Discover(context.Background(), "alice@contoso.example")
			if !errors.Is(err, autodiscover.ErrNotFound) || !hasReason(attemptsOf(err), autodiscover.Refused, "downgrade") {
				t.Fatalf("Discover = %v, want a refused downgrade%s", err, attempts(attemptsOf(err)))
			}
			s.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{BasicOnly: true})
			_, err = c.Discover(context.Background(), "alice@contoso.example")
			if !hasReason(attemptsOf(err), autodiscover.Refused, "downgrade") {
				t.Errorf("second Discover = %v, want a refused downgrade%s", err, attempts(attemptsOf(err)))
			}
			noCredentials(t, "autodiscover.contoso.example", s)
		})
	}
}

// TestBearerOnlyToListedHosts: a token never goes to a host of the domain
// that the caller did not list.
func TestBearerOnlyToListedHosts(t *testing.T) {
	h := scctest.NewTestHosts(t)
	s := fake(t, h, []string{"autodiscover.contoso.example"}, "Bearer")
	c, err := autodiscover.New(
		autodiscover.WithDialer(h.DialContext), autodiscover.WithSRVLookup(h.LookupSRV), autodiscover.WithTLSConfig(h.TLSConfig()),
		autodiscover.WithCredentials(creds("Bearer")), autodiscover.WithProtocols(autodiscover.SOAP))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Discover(context.Background(), "alice@contoso.example")
	if !hasReason(attemptsOf(err), autodiscover.Refused, "bearer tokens go only to hosts listed") {
		t.Errorf("Discover = %v, want a refusal naming the bearer rule%s", err, attempts(attemptsOf(err)))
	}
	noCredentials(t, "autodiscover.contoso.example", s)
}

// TestPublicSuffixAddress: no candidate is ever derived from an address whose
// domain is a public suffix; nothing is dialed.
func TestPublicSuffixAddress(t *testing.T) {
	for _, addr := range []string{"ada@co.uk", "ada@com", "ada@github.io", "no-at-sign", "ada@", "@contoso.example", "ada@contoso.example/evil"} {
		t.Run(addr, func(t *testing.T) {
			h := scctest.NewTestHosts(t)
			_, err := client(t, h, "NTLM").Discover(context.Background(), addr)
			var e *autodiscover.Error
			if !errors.As(err, &e) || e.Err == nil || !strings.HasPrefix(err.Error(), "autodiscover: ") {
				t.Fatalf("Discover(%q) = %v, want an *Error with a cause", addr, err)
			}
			if d := h.Dialed(); len(d) != 0 {
				t.Errorf("Discover(%q) dialed %v, want nothing", addr, d)
			}
		})
	}
}

// TestSecretsNeverPrinted: credentials print without their secret.
func TestSecretsNeverPrinted(t *testing.T) {
	for _, c := range []autodiscover.Credentials{autodiscover.Basic("u", "s3cr3t-pw"), autodiscover.NTLM(`D\u`, "s3cr3t-pw")} {
		for _, s := range []string{c.String(), c.GoString()} {
			if strings.Contains(s, "s3cr3t") {
				t.Errorf("Credentials print %q, which holds the password", s)
			}
		}
	}
}

// TestEchoedCredentialsNeverShown: a server that echoes the Authorization
// header and the decoded password in its error message gets its text
// reported without them, in attempts, errors and bulk results.
func TestEchoedCredentialsNeverShown(t *testing.T) {
	for _, kind := range []string{"Basic", "Bearer"} {
		t.Run(kind, func(t *testing.T) {
			h := scctest.NewTestHosts(t)
			s := fake(t, h, []string{"autodiscover.contoso.example"}, kind)
			s.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{EchoCredentials: true})
			c := client(t, h, kind, autodiscover.WithProtocols(autodiscover.SOAP))
			_, err := c.Discover(context.Background(), "alice@contoso.example")
			if err == nil {
				t.Fatal("Discover succeeded, want an error")
			}
			text := err.Error() + attempts(attemptsOf(err))
			got, gerr := c.GetUserSettings(context.Background(), "https://autodiscover.contoso.example/autodiscover/autodiscover.svc", []string{"alice@contoso.example"})
			if gerr != nil {
				t.Fatal(gerr)
			}
			text += got[0].Err.Error()
			if !strings.Contains(text, "you sent: ") || !strings.Contains(text, "[redacted]") {
				t.Fatalf("the echo did not come back redacted: %s", text)
			}
			for _, secret := range []string{svcPassword, bearerToken} {
				if strings.Contains(text, secret) {
					t.Errorf("reported text holds a secret: %s", text)
				}
			}
		})
	}
}
