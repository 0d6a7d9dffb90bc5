package scctest

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
)

// TestBackendsPlacement checks the default spread of mailboxes over four
// backends, SetMailboxBackend, and that GroupingInformation (direct and
// through SOAP Autodiscover) follows the backend unless set explicitly.
func TestBackendsPlacement(t *testing.T) {
	s := newTestServer(t)
	if diff := cmp.Diff([]string{"SCCGRP0", "SCCGRP1", "SCCGRP2", "SCCGRP3"}, s.Backends()); diff != "" {
		t.Errorf("Backends() (-want +got):\n%s", diff)
	}
	seen := map[string]int{}
	for i := range 40 {
		addr := "user" + itoa(i) + "@contoso.example"
		if _, err := s.AddMailbox(Mailbox{PrimarySMTP: addr}); err != nil {
			t.Fatal(err)
		}
		b, err := s.MailboxBackend(addr)
		if err != nil {
			t.Fatalf("MailboxBackend(%s) error = %v", addr, err)
		}
		again, _ := s.MailboxBackend(strings.ToUpper(addr))
		if again != b {
			t.Errorf("MailboxBackend(%s) = %q, of the upper-case address %q", addr, b, again)
		}
		g, err := s.GroupingInformation(addr)
		if err != nil || g != b {
			t.Errorf("GroupingInformation(%s) = %q, %v, want %q (its backend)", addr, g, err, b)
		}
		seen[b]++
	}
	if len(seen) != 4 {
		t.Errorf("40 mailboxes on backends %v, want all 4 used", seen)
	}

	// An explicit placement moves the grouping with it; an alias finds it.
	if err := s.SetMailboxBackend("alice.alias@contoso.example", "sccgrp3"); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.MailboxBackend(alice); b != "SCCGRP3" {
		t.Errorf("MailboxBackend(alice) after SetMailboxBackend = %q, want SCCGRP3", b)
	}
	if g := adGrouping(t, s, alice); g != "SCCGRP3" {
		t.Errorf("Autodiscover GroupingInformation(alice) = %q, want SCCGRP3", g)
	}
	// SetAutodiscoverUser wins over the backend.
	if err := s.SetAutodiscoverUser(bob, AutodiscoverUser{GroupingInformation: "PRDGRP01"}); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.GroupingInformation(bob); g != "PRDGRP01" {
		t.Errorf("GroupingInformation(bob) = %q, want PRDGRP01 (SetAutodiscoverUser)", g)
	}
	if g := adGrouping(t, s, bob); g != "PRDGRP01" {
		t.Errorf("Autodiscover GroupingInformation(bob) = %q, want PRDGRP01", g)
	}

	for name, err := range map[string]error{
		"SetMailboxBackend(unknown backend)": s.SetMailboxBackend(alice, "MBX9"),
		"SetMailboxBackend(unknown mailbox)": s.SetMailboxBackend("ghost@contoso.example", "SCCGRP0"),
		"MailboxBackend(unknown)":            second(s.MailboxBackend("ghost@contoso.example")),
		"GroupingInformation(unknown)":       second(s.GroupingInformation("ghost@contoso.example")),
		"AffinityCookie(unknown)":            second(s.AffinityCookie("MBX9")),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s error = %v, want ErrNotFound", name, err)
		}
	}
}

func TestWithBackendsValidates(t *testing.T) {
	for _, names := range [][]string{{}, {"a", "A"}, {"mbx.1"}, {"-mbx"}, {""}, {strings.Repeat("m", 64)}, {"mbx 1"}} {
		if _, err := New(WithBackends(names...)); err == nil || !strings.HasPrefix(err.Error(), "scctest: WithBackends") {
			t.Errorf("New(WithBackends(%q)) error = %v, want a WithBackends error", names, err)
		}
	}
	s, err := New(WithBackends("mbx-a", "MBX-B"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if diff := cmp.Diff([]string{"mbx-a", "MBX-B"}, s.Backends()); diff != "" {
		t.Errorf("Backends() (-want +got):\n%s", diff)
	}
}

// adGrouping asks SOAP Autodiscover for addr's GroupingInformation.
func adGrouping(t *testing.T, s *Server, addr string) string {
	t.Helper()
	body := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing"><soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion><wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings</wsa:Action></soap:Header><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>` +
		addr + `</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>GroupingInformation</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>`
	hr, err := http.NewRequest(http.MethodPost, s.URL()+"/autodiscover/autodiscover.svc", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hr.SetBasicAuth(testSvc, testPassword)
	res, err := s.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, us := range findAll(t, b, "UserSetting") {
		if us.child(nsAutodiscover, "Name").trimmed() == "GroupingInformation" {
			return us.child(nsAutodiscover, "Value").trimmed()
		}
	}
	t.Fatalf("no GroupingInformation for %s:\n%s", addr, b)
	return ""
}

// affinityServer has alice on backend mbx-a and bob on mbx-b.
func affinityServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := newTestServer(t, append([]Option{WithBackends("mbx-a", "mbx-b")}, opts...)...)
	for addr, b := range map[string]string{alice: "mbx-a", bob: "mbx-b"} {
		if err := s.SetMailboxBackend(addr, b); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func cookieOf(t *testing.T, s *Server, backend string) string {
	t.Helper()
	c, err := s.AffinityCookie(backend)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// issued returns the X-BackEndOverrideCookie a response sets, or nil.
func issued(h http.Header) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "X-BackEndOverrideCookie" {
			return c
		}
	}
	return nil
}

const subscribeAll = `<m:Subscribe><m:StreamingSubscriptionRequest SubscribeToAllFolders="true"><t:EventTypes><t:EventType>CreatedEvent</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>`

const pullAll = `<m:Subscribe><m:PullSubscriptionRequest SubscribeToAllFolders="true"><t:EventTypes><t:EventType>CreatedEvent</t:EventType></t:EventTypes><t:Timeout>30</t:Timeout></m:PullSubscriptionRequest></m:Subscribe>`

// TestAffinityCookieIssued: a notification request with
// X-PreferServerAffinity and no valid cookie gets Set-Cookie naming the
// backend it was routed to (the anchor's, not the impersonated mailbox's);
// other requests get none.
func TestAffinityCookieIssued(t *testing.T) {
	s := affinityServer(t)
	asAlice := version("Exchange2013_SP1") + impersonate("PrimarySmtpAddress", alice)
	prefer := func(anchor string, more ...string) map[string]string {
		h := map[string]string{"X-AnchorMailbox": anchor, "X-PreferServerAffinity": "true"}
		for i := 0; i+1 < len(more); i += 2 {
			h[more[i]] = more[i+1]
		}
		return h
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		body    string
		want    string // backend named by the cookie; "" = none issued
	}{
		{"anchor alice", prefer(alice), subscribeAll, "mbx-a"},
		{"anchor bob (routes the subscription to bob's backend)", prefer(bob), subscribeAll, "mbx-b"},
		{"exchangelib's True", map[string]string{"X-AnchorMailbox": bob, "X-PreferServerAffinity": "True"}, subscribeAll, "mbx-b"},
		{"no anchor: the impersonated mailbox", map[string]string{"X-PreferServerAffinity": "true"}, subscribeAll, "mbx-a"},
		{"without X-PreferServerAffinity", map[string]string{"X-AnchorMailbox": alice}, subscribeAll, ""},
		{"X-PreferServerAffinity false", map[string]string{"X-AnchorMailbox": alice, "X-PreferServerAffinity": "false"}, subscribeAll, ""},
		{"with a valid cookie", prefer(alice, "Cookie", "X-BackEndOverrideCookie="+cookieOf(t, s, "mbx-b")), subscribeAll, ""},
		{"with a tampered cookie", prefer(alice, "Cookie", "X-BackEndOverrideCookie="+cookieOf(t, s, "mbx-b")+"7"), subscribeAll, "mbx-a"},
		{"not notification traffic", prefer(alice), getInbox, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, nil, req{user: testSvc, pass: testPassword, headers: tc.headers, body: envelope(asAlice, tc.body)})
			if len(r.codes) != 1 || r.codes[0] != ews.NoError {
				t.Fatalf("codes = %v, want [NoError]\n%s", r.codes, r.body)
			}
			c := issued(r.header)
			switch {
			case tc.want == "" && c != nil:
				t.Errorf("Set-Cookie %v, want none", c)
			case tc.want != "" && c == nil:
				t.Errorf("no X-BackEndOverrideCookie set, want one for %s (headers %v)", tc.want, r.header)
			case tc.want != "":
				if c.Value != cookieOf(t, s, tc.want) || c.Path != "/" || !c.HttpOnly || c.Secure {
					t.Errorf("cookie = %+v, want value %s, path /, HttpOnly, not Secure over http", c, cookieOf(t, s, tc.want))
				}
			}
		})
	}
	if got, want := cookieOf(t, s, "mbx-a"), "mbx-a.contoso.example~"; !strings.HasPrefix(got, want) {
		t.Errorf("AffinityCookie(mbx-a) = %q, want the form %s<n>", got, want)
	}
}

func TestAffinityCookieSecureOverTLS(t *testing.T) {
	s := NewTLSServer(t)
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice, Password: "alice-pw"}); err != nil {
		t.Fatal(err)
	}
	r := do(t, s, nil, req{user: alice, pass: "alice-pw", headers: map[string]string{"X-AnchorMailbox": alice, "X-PreferServerAffinity": "true"},
		body: envelope(version("Exchange2013_SP1"), subscribeAll)})
	c := issued(r.header)
	b, _ := s.MailboxBackend(alice)
	if c == nil || !c.Secure || !c.HttpOnly || c.Value != cookieOf(t, s, b) {
		t.Errorf("cookie over https = %+v, want Secure, HttpOnly, value of %s\n%s", c, b, r.body)
	}
}

// rawPost sends a request as the service account and returns the whole
// body unparsed (a stream holds several envelopes).
func rawPost(t *testing.T, s *Server, headers map[string]string, body string) []byte {
	t.Helper()
	hr, err := http.NewRequest(http.MethodPost, s.EWSURL(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hr.SetBasicAuth(testSvc, testPassword)
	for k, v := range headers {
		hr.Header.Set(k, v)
	}
	res, err := s.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// streamCodes returns the ResponseCode of every envelope of a
// GetStreamingEvents answer, and the ErrorSubscriptionIds named.
func streamCodes(t *testing.T, body []byte) (codes []ews.ResponseCode, bad []string) {
	t.Helper()
	parts := strings.SplitAfter(string(body), "</s:Envelope>")
	for _, p := range parts[:len(parts)-1] {
		captured(t, []byte(p))
		codes = append(codes, ews.ResponseCode(find(t, []byte(p), "ResponseCode").trimmed()))
		if e := find(t, []byte(p), "ErrorSubscriptionIds"); e != nil {
			for _, k := range e.kids {
				bad = append(bad, k.trimmed())
			}
		}
	}
	return codes, bad
}

// TestAffinityRouting: subscriptions of alice live on her backend
// (mbx-a); GetEvents, GetStreamingEvents and Unsubscribe routed anywhere
// else - by the anchor, a wrong cookie, or impersonating bob - get
// ErrorSubscriptionNotFound, as Exchange answers a client that does not
// keep affinity. A valid cookie routes whatever the anchor says; a
// tampered or foreign one is ignored.
func TestAffinityRouting(t *testing.T) {
	s := affinityServer(t)
	s.subs.minute = time.Millisecond // ConnectionTimeout 1 = 1 ms
	other := affinityServer(t)       // its cookies are foreign here
	asAlice := version("Exchange2013_SP1") + impersonate("PrimarySmtpAddress", alice)
	asBob := version("Exchange2013_SP1") + impersonate("PrimarySmtpAddress", bob)
	subscribe := func(body string) (id, wm string) {
		r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(asAlice, body)})
		if len(r.codes) != 1 || r.codes[0] != ews.NoError {
			t.Fatalf("Subscribe codes = %v\n%s", r.codes, r.body)
		}
		if n := find(t, r.body, "Watermark"); n != nil {
			wm = n.trimmed()
		}
		return find(t, r.body, "SubscriptionId").trimmed(), wm
	}
	stream, _ := subscribe(subscribeAll)
	pull, wm := subscribe(pullAll)

	cookieA, cookieB := cookieOf(t, s, "mbx-a"), cookieOf(t, s, "mbx-b")
	tampered := strings.Replace(cookieA, "~", "~1", 1)
	foreign := cookieOf(t, other, "mbx-a")
	if foreign == cookieA {
		t.Fatal("two servers issue the same cookie; it must depend on the server")
	}
	for _, tc := range []struct {
		name    string
		header  string // SOAP header
		headers map[string]string
		found   bool
	}{
		{"nothing special (impersonated mailbox routes)", asAlice, nil, true},
		{"anchor alice", asAlice, map[string]string{"X-AnchorMailbox": alice}, true},
		{"anchor by alias", asAlice, map[string]string{"X-AnchorMailbox": "alice.alias@contoso.example"}, true},
		{"unknown anchor: the impersonated mailbox", asAlice, map[string]string{"X-AnchorMailbox": "ghost@contoso.example"}, true},
		{"anchor bob", asAlice, map[string]string{"X-AnchorMailbox": bob}, false},
		{"impersonating bob", asBob, nil, false},
		{"cookie routes over the anchor", asAlice, map[string]string{"X-AnchorMailbox": bob, "X-PreferServerAffinity": "true", "Cookie": "X-BackEndOverrideCookie=" + cookieA}, true},
		{"cookie as a header (exchangelib)", asAlice, map[string]string{"X-AnchorMailbox": bob, "X-PreferServerAffinity": "True", "X-BackEndOverrideCookie": cookieA}, true},
		{"header form wins over the cookie", asAlice, map[string]string{"X-AnchorMailbox": alice, "X-PreferServerAffinity": "true", "X-BackEndOverrideCookie": cookieB, "Cookie": "X-BackEndOverrideCookie=" + cookieA}, false},
		{"wrong cookie", asAlice, map[string]string{"X-AnchorMailbox": alice, "X-PreferServerAffinity": "true", "Cookie": "X-BackEndOverrideCookie=" + cookieB}, false},
		{"tampered cookie is ignored, the anchor routes", asAlice, map[string]string{"X-AnchorMailbox": alice, "X-PreferServerAffinity": "true", "Cookie": "X-BackEndOverrideCookie=" + tampered}, true},
		{"tampered cookie does not route", asAlice, map[string]string{"X-AnchorMailbox": bob, "X-PreferServerAffinity": "true", "Cookie": "X-BackEndOverrideCookie=" + tampered}, false},
		{"another server's cookie does not route", asAlice, map[string]string{"X-AnchorMailbox": bob, "X-PreferServerAffinity": "true", "Cookie": "X-BackEndOverrideCookie=" + foreign}, false},
		{"cookie without X-PreferServerAffinity does not route", asAlice, map[string]string{"X-AnchorMailbox": bob, "Cookie": "X-BackEndOverrideCookie=" + cookieA}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := ews.NoError
			if !tc.found {
				want = ews.ErrorSubscriptionNotFound
			}
			r := do(t, s, nil, req{user: testSvc, pass: testPassword, headers: tc.headers, body: envelope(tc.header,
				`<m:GetEvents><m:SubscriptionId>`+pull+`</m:SubscriptionId><m:Watermark>`+wm+`</m:Watermark></m:GetEvents>`)})
			if len(r.codes) != 1 || r.codes[0] != want {
				t.Errorf("GetEvents codes = %v, want [%s]\n%s", r.codes, want, r.body)
			}
			b := rawPost(t, s, tc.headers, envelope(tc.header,
				`<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>`+stream+`</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>1</m:ConnectionTimeout></m:GetStreamingEvents>`))
			codes, bad := streamCodes(t, b)
			if len(codes) == 0 || codes[0] != want {
				t.Errorf("GetStreamingEvents codes = %v, want %s first\n%s", codes, want, b)
			}
			if !tc.found && (len(bad) != 1 || bad[0] != stream) {
				t.Errorf("GetStreamingEvents ErrorSubscriptionIds = %v, want [%s]", bad, stream)
			}
		})
	}

	// Unsubscribe from the wrong backend leaves the subscription; from
	// the right one it ends it.
	unsub := func(headers map[string]string) ews.ResponseCode {
		r := do(t, s, nil, req{user: testSvc, pass: testPassword, headers: headers, body: envelope(asAlice, `<m:Unsubscribe><m:SubscriptionId>`+pull+`</m:SubscriptionId></m:Unsubscribe>`)})
		if len(r.codes) != 1 {
			t.Fatalf("Unsubscribe answer:\n%s", r.body)
		}
		return r.codes[0]
	}
	if c := unsub(map[string]string{"X-AnchorMailbox": bob}); c != ews.ErrorSubscriptionNotFound {
		t.Errorf("Unsubscribe routed to mbx-b = %s, want ErrorSubscriptionNotFound", c)
	}
	if c := unsub(map[string]string{"X-AnchorMailbox": alice}); c != ews.NoError {
		t.Errorf("Unsubscribe routed to mbx-a = %s, want NoError", c)
	}
	if c := unsub(nil); c != ews.ErrorSubscriptionNotFound {
		t.Errorf("second Unsubscribe = %s, want ErrorSubscriptionNotFound", c)
	}
}

// TestAffinityStreamSplitsByBackend: one GetStreamingEvents for
// subscriptions on two backends finds those on the backend it is routed
// to and names the others in ErrorSubscriptionIds.
func TestAffinityStreamSplitsByBackend(t *testing.T) {
	s := affinityServer(t)
	s.subs.minute = time.Millisecond
	var ids []string
	for _, addr := range []string{alice, bob} {
		r := do(t, s, nil, req{user: testSvc, pass: testPassword, body: envelope(version("Exchange2013_SP1")+impersonate("PrimarySmtpAddress", addr), subscribeAll)})
		ids = append(ids, find(t, r.body, "SubscriptionId").trimmed())
	}
	b := rawPost(t, s, nil, envelope(version("Exchange2013_SP1")+impersonate("PrimarySmtpAddress", alice),
		`<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>`+ids[0]+`</t:SubscriptionId><t:SubscriptionId>`+ids[1]+`</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>1</m:ConnectionTimeout></m:GetStreamingEvents>`))
	codes, bad := streamCodes(t, b)
	if diff := cmp.Diff([]ews.ResponseCode{ews.ErrorSubscriptionNotFound}, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s\n%s", diff, b)
	}
	if diff := cmp.Diff([]string{ids[1]}, bad); diff != "" {
		t.Errorf("ErrorSubscriptionIds (-want +got):\n%s", diff)
	}
}
