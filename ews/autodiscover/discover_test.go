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

// TestDiscoverCandidateOrder finds the EWS URL at each candidate of the
// documented order, with each protocol and each credential kind, and says
// how it was reached.
func TestDiscoverCandidateOrder(t *testing.T) {
	type tc struct {
		name       string
		setup      func(t *testing.T, h *scctest.Hosts, kind string)
		protocols  []autodiscover.Protocol
		wantSource autodiscover.Source
	}
	cases := []tc{
		{"domain", func(t *testing.T, h *scctest.Hosts, kind string) {
			fake(t, h, []string{"contoso.example"}, kind)
		}, nil, autodiscover.SourceDomain},
		{"autodiscover host", func(t *testing.T, h *scctest.Hosts, kind string) {
			fake(t, h, []string{"autodiscover.contoso.example"}, kind)
		}, nil, autodiscover.SourceAutodiscoverHost},
		{"http redirect", func(t *testing.T, h *scctest.Hosts, kind string) {
			fake(t, h, []string{"ad.contoso.example"}, kind)
			probe := h.NewServer(t, []string{"autodiscover.contoso.example"})
			probe.SetAutodiscoverHTTPRedirect("https://ad.contoso.example/autodiscover/autodiscover.xml")
		}, nil, autodiscover.SourceHTTPRedirect},
		{"srv", func(t *testing.T, h *scctest.Hosts, kind string) {
			fake(t, h, []string{"ad.contoso.example"}, kind)
			h.SetSRV("_autodiscover._tcp.contoso.example",
				&net.SRV{Target: "ignored.contoso.example.", Port: 443, Priority: 20, Weight: 100},
				&net.SRV{Target: "ad.contoso.example.", Port: 443, Priority: 10, Weight: 5},
				&net.SRV{Target: "plain.contoso.example.", Port: 80, Priority: 0, Weight: 100})
		}, nil, autodiscover.SourceSRV},
	}
	protos := [][]autodiscover.Protocol{{autodiscover.SOAP}, {autodiscover.POX}, {autodiscover.JSON}, nil}
	for _, c := range cases {
		for _, kind := range credKinds {
			for _, ps := range protos {
				name := c.name + "/" + kind + "/" + protoName(ps)
				t.Run(name, func(t *testing.T) {
					h := scctest.NewTestHosts(t)
					c.setup(t, h, kind)
					var opts []autodiscover.Option
					if ps != nil {
						opts = append(opts, autodiscover.WithProtocols(ps...))
					}
					cl := client(t, h, kind, opts...)
					res, err := cl.Discover(context.Background(), "alice@contoso.example")
					if err != nil {
						t.Fatalf("Discover = %v, want success%s", err, attempts(attemptsOf(err)))
					}
					if res.EWSURL != mailEWS {
						t.Errorf("EWSURL = %q, want %q", res.EWSURL, mailEWS)
					}
					if res.Source != c.wantSource {
						t.Errorf("Source = %q, want %q%s", res.Source, c.wantSource, attempts(res.Attempts))
					}
					wantProto := autodiscover.SOAP
					if ps != nil {
						wantProto = ps[0]
					}
					if res.Protocol != wantProto {
						t.Errorf("Protocol = %q, want %q", res.Protocol, wantProto)
					}
					if wantProto != autodiscover.JSON && !strings.HasPrefix(res.Settings.GroupingInformation(), "SCCGRP") {
						t.Errorf("GroupingInformation = %q, want SCCGRP<n>", res.Settings.GroupingInformation())
					}
					last := res.Attempts[len(res.Attempts)-1]
					if last.Outcome != autodiscover.Answered || last.URL != res.Endpoint {
						t.Errorf("last attempt = %v, want answered at %s", last, res.Endpoint)
					}
					if wantProto != autodiscover.JSON && last.AuthSent == "" {
						t.Errorf("last attempt sent no credentials: %v", last)
					}
				})
			}
		}
	}
}

func protoName(ps []autodiscover.Protocol) string {
	if ps == nil {
		return "default"
	}
	return string(ps[0])
}

// TestDiscoverSOAPSettings checks the settings a SOAP answer carries.
func TestDiscoverSOAPSettings(t *testing.T) {
	h := scctest.NewTestHosts(t)
	s := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
	if err := s.SetAutodiscoverUser("alice@contoso.example", scctest.AutodiscoverUser{GroupingInformation: "PRDGRP01"}); err != nil {
		t.Fatal(err)
	}
	res, err := client(t, h, "NTLM").Discover(context.Background(), "alice@contoso.example")
	if err != nil {
		t.Fatalf("Discover = %v%s", err, attempts(attemptsOf(err)))
	}
	for name, want := range map[string]string{
		autodiscover.SettingExternalEwsURL:          mailEWS,
		autodiscover.SettingInternalEwsURL:          "https://mail.internal.contoso.example/EWS/Exchange.asmx",
		autodiscover.SettingGroupingInformation:     "PRDGRP01",
		autodiscover.SettingUserDisplayName:         "alice",
		autodiscover.SettingAutoDiscoverSMTPAddress: "alice@contoso.example",
	} {
		if got := res.Settings[name]; got != want {
			t.Errorf("Settings[%s] = %q, want %q", name, got, want)
		}
	}
	if !strings.Contains(res.Settings[autodiscover.SettingEwsSupportedSchemas], "Exchange2013_SP1") {
		t.Errorf("EwsSupportedSchemas = %q, want it to list Exchange2013_SP1", res.Settings[autodiscover.SettingEwsSupportedSchemas])
	}
	// The domain candidate was tried first and failed (no such host).
	if a := res.Attempts[0]; a.Source != autodiscover.SourceDomain || a.Outcome != autodiscover.Failed {
		t.Errorf("first attempt = %v, want a failed domain candidate", a)
	}
}

// TestDiscoverRedirects follows every redirect form of SOAP and POX, and
// stops at loops and at the hop limit.
func TestDiscoverRedirects(t *testing.T) {
	for _, proto := range []autodiscover.Protocol{autodiscover.SOAP, autodiscover.POX} {
		t.Run(string(proto), func(t *testing.T) {
			t.Run("address in domain", func(t *testing.T) {
				h := scctest.NewTestHosts(t)
				s := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
				mustUser(t, s, "sales@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "alice@contoso.example"})
				res, err := client(t, h, "NTLM", autodiscover.WithProtocols(proto)).Discover(context.Background(), "sales@contoso.example")
				if err != nil {
					t.Fatalf("Discover = %v%s", err, attempts(attemptsOf(err)))
				}
				if res.Address != "alice@contoso.example" || res.EWSURL != mailEWS {
					t.Errorf("Address, EWSURL = %q, %q; want alice@contoso.example, %s", res.Address, res.EWSURL, mailEWS)
				}
				if len(res.Via) == 0 || res.Via[0] != "mailto:sales@contoso.example" {
					t.Errorf("Via = %v, want it to start with mailto:sales@contoso.example", res.Via)
				}
			})
			t.Run("url", func(t *testing.T) {
				h := scctest.NewTestHosts(t)
				s := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
				fake(t, h, []string{"ad2.contoso.example"}, "NTLM")
				mustUser(t, s, "alice@contoso.example", scctest.AutodiscoverUser{RedirectURL: "https://ad2.contoso.example" + path(proto)})
				res, err := client(t, h, "NTLM", autodiscover.WithProtocols(proto)).Discover(context.Background(), "alice@contoso.example")
				if err != nil {
					t.Fatalf("Discover = %v%s", err, attempts(attemptsOf(err)))
				}
				if res.Endpoint != "https://ad2.contoso.example"+path(proto) {
					t.Errorf("Endpoint = %q, want ad2", res.Endpoint)
				}
				if res.Source != autodiscover.SourceAutodiscoverHost || len(res.Via) != 1 {
					t.Errorf("Source, Via = %q, %v; want autodiscover-host and one hop", res.Source, res.Via)
				}
			})
			t.Run("address to another domain needs confirmation", func(t *testing.T) {
				h := scctest.NewTestHosts(t)
				s := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
				foreign := fake(t, h, []string{"autodiscover.fabrikam.example", "fabrikam.example"}, "NTLM")
				mustUser(t, s, "alice@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "alice@fabrikam.example"})
				_, err := client(t, h, "NTLM", autodiscover.WithProtocols(proto)).Discover(context.Background(), "alice@contoso.example")
				if !errors.Is(err, autodiscover.ErrNeedsConfirmation) || !errors.Is(err, autodiscover.ErrNotFound) {
					t.Fatalf("Discover = %v, want ErrNeedsConfirmation and ErrNotFound", err)
				}
				var e *autodiscover.Error
				errors.As(err, &e)
				if len(e.Unconfirmed) == 0 || e.Unconfirmed[0].Host != "fabrikam.example" {
					t.Errorf("Unconfirmed = %+v, want fabrikam.example first", e.Unconfirmed)
				}
				noCredentials(t, "fabrikam", foreign)
				if n := len(foreign.Requests()); n != 0 {
					t.Errorf("the foreign server got %d requests, want 0", n)
				}
			})
			t.Run("address to another domain, confirmed", func(t *testing.T) {
				h := scctest.NewTestHosts(t)
				s := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
				foreign := fake(t, h, []string{"autodiscover.fabrikam.example"}, "NTLM")
				if _, err := foreign.AddMailbox(scctest.Mailbox{PrimarySMTP: "alice@fabrikam.example"}); err != nil {
					t.Fatal(err)
				}
				mustUser(t, s, "alice@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "alice@fabrikam.example"})
				foreign.SetAutodiscoverEWSURL("https://mail.fabrikam.example/EWS/Exchange.asmx", "")
				cl := client(t, h, "NTLM", autodiscover.WithProtocols(proto), autodiscover.WithAllowedHosts("autodiscover.fabrikam.example", "mail.fabrikam.example"))
				res, err := cl.Discover(context.Background(), "alice@contoso.example")
				if err != nil {
					t.Fatalf("Discover = %v%s", err, attempts(attemptsOf(err)))
				}
				if res.EWSURL != "https://mail.fabrikam.example/EWS/Exchange.asmx" || res.Address != "alice@fabrikam.example" {
					t.Errorf("EWSURL, Address = %q, %q; want mail.fabrikam.example, alice@fabrikam.example", res.EWSURL, res.Address)
				}
			})
			t.Run("url loop", func(t *testing.T) {
				h := scctest.NewTestHosts(t)
				a := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
				b := fake(t, h, []string{"ad2.contoso.example"}, "NTLM")
				mustUser(t, a, "alice@contoso.example", scctest.AutodiscoverUser{RedirectURL: "https://ad2.contoso.example" + path(proto)})
				mustUser(t, b, "alice@contoso.example", scctest.AutodiscoverUser{RedirectURL: "https://autodiscover.contoso.example" + path(proto)})
				_, err := client(t, h, "NTLM", autodiscover.WithProtocols(proto)).Discover(context.Background(), "alice@contoso.example")
				if !errors.Is(err, autodiscover.ErrNotFound) || !hasReason(attemptsOf(err), autodiscover.Refused, "redirect loop") {
					t.Fatalf("Discover = %v, want ErrNotFound with a refused loop%s", err, attempts(attemptsOf(err)))
				}
			})
			t.Run("address loop", func(t *testing.T) {
				h := scctest.NewTestHosts(t)
				s := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
				mustUser(t, s, "alice@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "bob@contoso.example"})
				mustUser(t, s, "bob@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "alice@contoso.example"})
				_, err := client(t, h, "NTLM", autodiscover.WithProtocols(proto)).Discover(context.Background(), "alice@contoso.example")
				if !errors.Is(err, autodiscover.ErrNotFound) || !hasReason(attemptsOf(err), autodiscover.Refused, "redirect loop") {
					t.Fatalf("Discover = %v, want ErrNotFound with a refused loop%s", err, attempts(attemptsOf(err)))
				}
			})
			t.Run("hop limit", func(t *testing.T) {
				h := scctest.NewTestHosts(t)
				s := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
				mustUser(t, s, "a1@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "a2@contoso.example"})
				mustUser(t, s, "a2@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "alice@contoso.example"})
				_, err := client(t, h, "NTLM", autodiscover.WithProtocols(proto), autodiscover.WithMaxHops(1)).Discover(context.Background(), "a1@contoso.example")
				if !errors.Is(err, autodiscover.ErrNotFound) || !hasReason(attemptsOf(err), autodiscover.Refused, "limit of 1") {
					t.Fatalf("Discover = %v, want ErrNotFound at the hop limit%s", err, attempts(attemptsOf(err)))
				}
			})
		})
	}
}

func path(p autodiscover.Protocol) string {
	if p == autodiscover.POX {
		return "/autodiscover/autodiscover.xml"
	}
	return "/autodiscover/autodiscover.svc"
}

func mustUser(t *testing.T, s *scctest.Server, addr string, u scctest.AutodiscoverUser) {
	t.Helper()
	if err := s.SetAutodiscoverUser(addr, u); err != nil {
		t.Fatal(err)
	}
}

func hasReason(as []autodiscover.Attempt, o autodiscover.Outcome, substr string) bool {
	for _, a := range as {
		if a.Outcome == o && strings.Contains(a.Reason, substr) {
			return true
		}
	}
	return false
}

// TestDiscoverHTTPStatusRedirect follows a 302 from an Autodiscover request
// to another host of the domain, for every protocol, without credentials on
// the redirect answer and with them at the target.
func TestDiscoverHTTPStatusRedirect(t *testing.T) {
	for _, proto := range []autodiscover.Protocol{autodiscover.SOAP, autodiscover.POX, autodiscover.JSON} {
		t.Run(string(proto), func(t *testing.T) {
			h := scctest.NewTestHosts(t)
			front := fake(t, h, []string{"autodiscover.contoso.example"}, "NTLM")
			target := "https://ad2.contoso.example" + path(proto)
			if proto == autodiscover.JSON {
				target = "https://ad2.contoso.example/autodiscover/autodiscover.json/v1.0/alice@contoso.example?Protocol=EWS"
			}
			front.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{RedirectTo: target})
			fake(t, h, []string{"ad2.contoso.example"}, "NTLM")
			res, err := client(t, h, "NTLM", autodiscover.WithProtocols(proto)).Discover(context.Background(), "alice@contoso.example")
			if err != nil {
				t.Fatalf("Discover = %v%s", err, attempts(attemptsOf(err)))
			}
			if res.Endpoint != target || res.EWSURL != mailEWS {
				t.Errorf("Endpoint, EWSURL = %q, %q; want %q, %q", res.Endpoint, res.EWSURL, target, mailEWS)
			}
			if len(res.Via) != 1 || !strings.HasPrefix(res.Via[0], "https://autodiscover.contoso.example/") {
				t.Errorf("Via = %v, want the redirecting endpoint", res.Via)
			}
			noCredentials(t, "the redirecting front end", front)
		})
	}
}
