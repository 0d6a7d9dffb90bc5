package impersonation

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// adFake is a TLS fake at autodiscover.contoso.example and
// mail.contoso.example:<its port>, whose Autodiscover announces
// https://mail.contoso.example:<port>/EWS/Exchange.asmx, so that the
// discovered URL reaches the same fake.
type adFake struct {
	hosts  *scctest.Hosts
	srv    *scctest.Server
	ewsURL string
	cfg    org.EmailConfiguration
}

func newADFake(t *testing.T, method org.AuthMethod, schemes ...scctest.AuthScheme) *adFake {
	t.Helper()
	h := scctest.NewTestHosts(t)
	s := h.NewTLSServer(t, []string{"autodiscover.contoso.example", "mail.contoso.example"}, scctest.WithAuth(schemes...))
	if err := s.AddServiceAccount(diagLogon, diagPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{diagAlice, diagBob} {
		if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: m}); err != nil {
			t.Fatal(err)
		}
	}
	_, port, _ := net.SplitHostPort(s.Listener().Addr().String())
	h.Route("mail.contoso.example:"+port, s.Listener().Addr().String())
	f := &adFake{hosts: h, srv: s, ewsURL: "https://mail.contoso.example:" + port + "/EWS/Exchange.asmx"}
	s.SetAutodiscoverEWSURL(f.ewsURL, "")
	if err := s.SetAutodiscoverUser(diagAlice, scctest.AutodiscoverUser{GroupingInformation: "PRDGRP01"}); err != nil {
		t.Fatal(err)
	}
	f.cfg = org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon, Password: org.NewSecret(diagPassword),
		AuthMethod: method, DiscoverEWSURL: true}
	return f
}

func (f *adFake) adOptions() []autodiscover.Option {
	return []autodiscover.Option{autodiscover.WithDialer(f.hosts.DialContext), autodiscover.WithSRVLookup(f.hosts.LookupSRV), autodiscover.WithTLSConfig(f.hosts.TLSConfig())}
}

// TestDiscoverEWSURL fills in the EWS URL and says from where, with NTLM
// and Basic service accounts.
func TestDiscoverEWSURL(t *testing.T) {
	for _, tc := range []struct {
		method  org.AuthMethod
		schemes []scctest.AuthScheme
	}{{org.AuthNTLM, []scctest.AuthScheme{scctest.AuthNTLM}}, {org.AuthNegotiate, []scctest.AuthScheme{scctest.AuthNTLM, scctest.AuthBasic}}, {org.AuthBasic, []scctest.AuthScheme{scctest.AuthBasic}}} {
		t.Run(tc.method.String(), func(t *testing.T) {
			f := newADFake(t, tc.method, tc.schemes...)
			cfg := f.cfg
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate() with an empty EWS URL to discover = %v, want nil", err)
			}
			d, err := DiscoverEWSURL(context.Background(), &cfg, diagAlice, f.adOptions()...)
			if err != nil {
				t.Fatalf("DiscoverEWSURL = %v", err)
			}
			if cfg.EWSURL != f.ewsURL || d.EWSURL != f.ewsURL {
				t.Errorf("EWSURL = %q (config %q), want %q", d.EWSURL, cfg.EWSURL, f.ewsURL)
			}
			if !strings.Contains(d.From, "autodiscover.contoso.example/autodiscover/autodiscover.svc") || !strings.Contains(d.From, "autodiscover.<domain>") {
				t.Errorf("From = %q, want the endpoint and how it was found", d.From)
			}
			if d.GroupingInformation != "PRDGRP01" {
				t.Errorf("GroupingInformation = %q, want PRDGRP01", d.GroupingInformation)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate() after discovery = %v", err)
			}
		})
	}
}

// TestDiscoverEWSURLFailure leaves the configuration alone and lists the
// attempts; a foreign target needs confirmation and gets no credentials.
func TestDiscoverEWSURLFailure(t *testing.T) {
	f := newADFake(t, org.AuthNTLM, scctest.AuthNTLM)
	evil := f.hosts.NewTLSServer(t, []string{"evil.example"})
	f.srv.SetAutodiscoverEWSURL("https://evil.example/EWS/Exchange.asmx", "")
	cfg := f.cfg
	d, err := DiscoverEWSURL(context.Background(), &cfg, diagAlice, f.adOptions()...)
	if !errors.Is(err, autodiscover.ErrNeedsConfirmation) || !strings.HasPrefix(err.Error(), "impersonation: ") {
		t.Fatalf("DiscoverEWSURL = %v, want ErrNeedsConfirmation with the package prefix", err)
	}
	if cfg.EWSURL != "" {
		t.Errorf("EWSURL = %q after a failed discovery, want it unchanged (empty)", cfg.EWSURL)
	}
	if d == nil || len(d.Attempts) == 0 || len(d.Unconfirmed) == 0 || d.Unconfirmed[0].Host != "evil.example" {
		t.Errorf("Discovery = %+v, want attempts and evil.example unconfirmed", d)
	}
	if got := evil.Authorizations(); len(got) != 0 {
		t.Errorf("evil.example received %d Authorization headers, want none", len(got))
	}
	if strings.Contains(err.Error(), diagPassword) {
		t.Error("the error holds the password")
	}
}

func TestDiscoveryAddress(t *testing.T) {
	tests := []struct {
		name  string
		o     *org.Organization
		want  string
		isErr bool
	}{
		{"UPN logon", &org.Organization{Email: org.EmailConfiguration{AccountLogon: "svc@contoso.com"}, Users: []org.User{{PrimarySMTP: "a@contoso.com"}}}, "svc@contoso.com", false},
		{"DOMAIN logon", &org.Organization{Email: org.EmailConfiguration{AccountLogon: `CONTOSO\svc`}, Users: []org.User{{PrimarySMTP: "a@contoso.com"}}}, "a@contoso.com", false},
		{"nothing", &org.Organization{Email: org.EmailConfiguration{AccountLogon: `CONTOSO\svc`}}, "", true},
		{"nil", nil, "", true},
	}
	for _, tc := range tests {
		got, err := DiscoveryAddress(tc.o)
		if got != tc.want || (err != nil) != tc.isErr {
			t.Errorf("%s: DiscoveryAddress = %q, %v; want %q, error %v", tc.name, got, err, tc.want, tc.isErr)
		}
	}
}

// TestDiagnoseAutodiscover: with DiscoverEWSURL and no URL, Diagnose finds
// the URL, lists the candidates, and runs every later step against it.
func TestDiagnoseAutodiscover(t *testing.T) {
	f := newADFake(t, org.AuthNTLM, scctest.AuthNTLM)
	hc := &http.Client{Transport: &http.Transport{DialContext: f.hosts.DialContext, TLSClientConfig: f.hosts.TLSConfig()}}
	opts := []Option{
		WithHTTPClient(hc),
		WithResolver(fakeResolver{"mail.contoso.example": {"127.0.0.1"}}),
		WithAutodiscover(f.adOptions()...),
	}
	d := mustDiagnose(t, f.cfg, diagAlice, opts...)
	st, _ := d.Step(StepAutodiscover)
	if st.Status != StepPassed || !strings.Contains(st.Detail, "candidates: failed https://contoso.example/autodiscover/autodiscover.svc") ||
		!strings.Contains(st.Detail, "answered https://autodiscover.contoso.example/autodiscover/autodiscover.svc") {
		t.Errorf("Autodiscover step = %+v, want passed with each candidate listed", st)
	}
	if d.Endpoint != f.ewsURL {
		t.Errorf("Endpoint = %q, want the discovered %q", d.Endpoint, f.ewsURL)
	}
	if inbox, _ := d.Step(StepInbox); inbox.Status != StepPassed {
		t.Errorf("Inbox step = %+v, want passed over the discovered URL", inbox)
	}

	// No Autodiscover answer and no URL: the step fails and says what to do.
	f.srv.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{RedirectTo: "https://evil.example/autodiscover/autodiscover.svc"})
	d = mustDiagnose(t, f.cfg, diagAlice, opts...)
	st, _ = d.Step(StepAutodiscover)
	if st.Status != StepFailed || !strings.Contains(st.Fix, "evil.example") {
		t.Errorf("Autodiscover step = %+v, want failed naming evil.example in the fix", st)
	}
	if dns, _ := d.Step(StepDNS); dns.Status != StepSkipped {
		t.Errorf("DNS step = %+v, want skipped after the failed discovery", dns)
	}
}

// TestCheckRecordsGroupingInformation: with WithGroupingInformation every
// result carries the user's GroupingInformation, in the JSON too; an
// Autodiscover failure is recorded and the check goes on.
func TestCheckRecordsGroupingInformation(t *testing.T) {
	f := newADFake(t, org.AuthNTLM, scctest.AuthNTLM)
	if err := f.srv.SetAutodiscoverUser(diagBob, scctest.AutodiscoverUser{GroupingInformation: "PRDGRP02"}); err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg
	cfg.EWSURL = f.ewsURL
	hc := &http.Client{Transport: &http.Transport{DialContext: f.hosts.DialContext, TLSClientConfig: f.hosts.TLSConfig()}}
	users := []org.User{{PrimarySMTP: diagAlice}, {PrimarySMTP: diagBob}}
	rep, err := CheckUsers(context.Background(), cfg, users, WithEWSOptions(ews.WithHTTPClient(hc)), WithGroupingInformation(f.adOptions()...))
	if err != nil {
		t.Fatalf("CheckUsers = %v", err)
	}
	want := map[string]string{diagAlice: "PRDGRP01", diagBob: "PRDGRP02"}
	for _, r := range rep.Results {
		if r.Status != StatusOK || r.GroupingInformation != want[r.Address] {
			t.Errorf("result %s = %s, GroupingInformation %q; want ok, %q", r.Address, r.Status, r.GroupingInformation, want[r.Address])
		}
	}
	if !strings.Contains(rep.Autodiscover, "for 2 of 2 users from https://autodiscover.contoso.example/autodiscover/autodiscover.svc") {
		t.Errorf("Report.Autodiscover = %q", rep.Autodiscover)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"grouping_information":"PRDGRP02"`) || !strings.Contains(string(b), `"autodiscover":"GroupingInformation for 2 of 2`) {
		t.Errorf("JSON lacks the GroupingInformation: %s", b)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.Autodiscover != rep.Autodiscover {
		t.Errorf("round trip: %v, Autodiscover %q", err, back.Autodiscover)
	}

	f.srv.SetAutodiscoverMisbehaviour(scctest.AutodiscoverMisbehaviour{Malformed: true})
	rep, err = CheckUsers(context.Background(), cfg, users, WithEWSOptions(ews.WithHTTPClient(hc)), WithGroupingInformation(f.adOptions()...))
	if err != nil || rep.Counts[StatusOK] != 2 {
		t.Fatalf("CheckUsers with broken Autodiscover = %v, counts %v; want both users ok", err, rep.Counts)
	}
	if !strings.HasPrefix(rep.Autodiscover, "GroupingInformation not available: ") {
		t.Errorf("Report.Autodiscover = %q, want the failure", rep.Autodiscover)
	}
}

// TestCheckBeforeDiscovery: a configuration that waits for discovery stops
// the check with a reason that says to discover first.
func TestCheckBeforeDiscovery(t *testing.T) {
	cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: diagLogon, Password: org.NewSecret(diagPassword),
		AuthMethod: org.AuthNTLM, DiscoverEWSURL: true}
	rep, err := CheckUsers(context.Background(), cfg, []org.User{{PrimarySMTP: diagAlice}})
	if !errors.Is(err, ErrEWSURLNotDiscovered) {
		t.Fatalf("CheckUsers = %v, want ErrEWSURLNotDiscovered", err)
	}
	if rep.Stopped == nil || !strings.Contains(rep.Stopped.Reason, "DiscoverEWSURL") {
		t.Errorf("Stopped = %+v, want a reason naming DiscoverEWSURL", rep.Stopped)
	}
}
