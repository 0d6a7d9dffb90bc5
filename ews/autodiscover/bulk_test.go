package autodiscover_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/scctest"
)

const svcEndpoint = "https://autodiscover.contoso.example/autodiscover/autodiscover.svc"

// bulkFake is an Autodiscover server with n mailboxes user<i>@contoso.example.
func bulkFake(t testing.TB, h *scctest.Hosts, n int) *scctest.Server {
	t.Helper()
	s := h.NewTLSServer(t, []string{"autodiscover.contoso.example"}, scctest.WithAuth(scctest.AuthNTLM))
	if err := s.AddServiceAccount(svcLogon, svcPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: fmt.Sprintf("user%d@contoso.example", i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.SetAutodiscoverEWSURL(mailEWS, "")
	return s
}

func bulkClient(t testing.TB, h *scctest.Hosts, opts ...autodiscover.Option) *autodiscover.Client {
	t.Helper()
	c, err := autodiscover.New(append([]autodiscover.Option{
		autodiscover.WithDialer(h.DialContext), autodiscover.WithTLSConfig(h.TLSConfig()),
		autodiscover.WithCredentials(autodiscover.NTLM(svcLogon, svcPassword)),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getUserSettingsRequests(s *scctest.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Operation == "GetUserSettings" && r.StatusCode == 200 {
			n++
		}
	}
	return n
}

// TestGetUserSettingsBatches asks for 250 users and some that fail: every
// user gets an answer in order, in ⌈n/100⌉ requests, none dropped.
func TestGetUserSettingsBatches(t *testing.T) {
	h := scctest.NewTestHosts(t)
	s := bulkFake(t, h, 250)
	mustUser(t, s, "user7@contoso.example", scctest.AutodiscoverUser{GroupingInformation: "PRDGRP07"})
	var boxes []string
	for i := range 250 {
		boxes = append(boxes, fmt.Sprintf("user%d@contoso.example", i))
	}
	boxes = append(boxes, "ghost@contoso.example", "not an address")
	got, err := bulkClient(t, h).GetUserSettings(context.Background(), svcEndpoint, boxes,
		autodiscover.SettingExternalEwsURL, autodiscover.SettingGroupingInformation, "NoSuchSetting")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(boxes) {
		t.Fatalf("GetUserSettings returned %d answers for %d mailboxes", len(got), len(boxes))
	}
	for i, r := range got[:250] {
		if r.Err != nil || r.Mailbox != boxes[i] || r.Settings.EWSURL() != mailEWS || r.Settings.GroupingInformation() == "" {
			t.Fatalf("answer %d = %+v, want settings of %s", i, r, boxes[i])
		}
		if len(r.SettingErrors) != 1 || r.SettingErrors[0].Setting != "NoSuchSetting" || r.SettingErrors[0].Code != "InvalidSetting" {
			t.Errorf("answer %d SettingErrors = %+v, want InvalidSetting for NoSuchSetting", i, r.SettingErrors)
		}
	}
	if g := got[7].Settings.GroupingInformation(); g != "PRDGRP07" {
		t.Errorf("GroupingInformation of user7 = %q, want PRDGRP07", g)
	}
	var ue *autodiscover.UserError
	if !errors.As(got[250].Err, &ue) || ue.Code != "InvalidUser" {
		t.Errorf("ghost: Err = %v, want InvalidUser", got[250].Err)
	}
	if got[251].Err == nil || !strings.HasPrefix(got[251].Err.Error(), "autodiscover: ") {
		t.Errorf("bad address: Err = %v, want an autodiscover error", got[251].Err)
	}
	if n := getUserSettingsRequests(s); n != 3 {
		t.Errorf("GetUserSettings requests = %d, want ⌈251/100⌉ = 3", n)
	}
}

// TestGetUserSettingsRedirects follows per-user RedirectAddress and
// RedirectUrl, refuses a foreign RedirectUrl, and stops a loop.
func TestGetUserSettingsRedirects(t *testing.T) {
	h := scctest.NewTestHosts(t)
	s := bulkFake(t, h, 3)
	mustUser(t, s, "alias@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "user1@contoso.example"})
	mustUser(t, s, "moved@contoso.example", scctest.AutodiscoverUser{RedirectURL: "https://ad2.contoso.example/autodiscover/autodiscover.svc"})
	mustUser(t, s, "leaky@contoso.example", scctest.AutodiscoverUser{RedirectURL: "https://evil.example/autodiscover/autodiscover.svc"})
	mustUser(t, s, "loop1@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "loop2@contoso.example"})
	mustUser(t, s, "loop2@contoso.example", scctest.AutodiscoverUser{RedirectAddress: "loop1@contoso.example"})
	evil := h.NewTLSServer(t, []string{"evil.example"})
	ad2 := h.NewTLSServer(t, []string{"ad2.contoso.example"}, scctest.WithAuth(scctest.AuthNTLM))
	seed(t, ad2)
	if _, err := ad2.AddMailbox(scctest.Mailbox{PrimarySMTP: "moved@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	boxes := []string{"alias@contoso.example", "moved@contoso.example", "leaky@contoso.example", "loop1@contoso.example"}
	got, err := bulkClient(t, h).GetUserSettings(context.Background(), svcEndpoint, boxes)
	if err != nil {
		t.Fatal(err)
	}
	if r := got[0]; r.Err != nil || r.Address != "user1@contoso.example" || r.Settings[autodiscover.SettingAutoDiscoverSMTPAddress] != "user1@contoso.example" {
		t.Errorf("alias = %+v, want the settings of user1", r)
	}
	if r := got[1]; r.Err != nil || r.Endpoint != "https://ad2.contoso.example/autodiscover/autodiscover.svc" || len(r.Redirects) != 1 || r.Settings.EWSURL() != mailEWS {
		t.Errorf("moved = %+v, want an answer from ad2 after one redirect", r)
	}
	if r := got[2]; r.Err == nil || !strings.Contains(r.Err.Error(), "evil.example") {
		t.Errorf("leaky = %+v, want a refused redirect naming evil.example", r)
	}
	if r := got[3]; r.Err == nil || !strings.Contains(r.Err.Error(), "loop") {
		t.Errorf("loop1 = %+v, want a redirect loop", r)
	}
	noCredentials(t, "evil.example", evil)
}

// TestGetUserSettingsRefusesForeignEndpoint: nothing is sent to an endpoint
// outside the first mailbox's registered domain.
func TestGetUserSettingsRefusesForeignEndpoint(t *testing.T) {
	h := scctest.NewTestHosts(t)
	evil := h.NewTLSServer(t, []string{"evil.example"})
	_, err := bulkClient(t, h).GetUserSettings(context.Background(), "https://evil.example/autodiscover/autodiscover.svc", []string{"user1@contoso.example"})
	if err == nil || !strings.Contains(err.Error(), "evil.example") {
		t.Errorf("GetUserSettings(evil) = %v, want a refusal", err)
	}
	noCredentials(t, "evil.example", evil)
	if n := len(evil.Requests()); n != 0 {
		t.Errorf("evil.example got %d requests, want 0", n)
	}
}

// BenchmarkGetUserSettings10000 asks for 10,000 users in batches of
// MaxUsersPerRequest against the fake over TLS with NTLM. It reports the
// requests per run (want ⌈10000/100⌉ = 100).
func BenchmarkGetUserSettings10000(b *testing.B) {
	const n = 10000
	h, err := scctest.NewHosts()
	if err != nil {
		b.Fatal(err)
	}
	s := bulkFake(b, h, n)
	boxes := make([]string, n)
	for i := range boxes {
		boxes[i] = fmt.Sprintf("user%d@contoso.example", i)
	}
	c := bulkClient(b, h)
	b.ResetTimer()
	for b.Loop() {
		got, err := c.GetUserSettings(context.Background(), svcEndpoint, boxes)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range got {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(getUserSettingsRequests(s))/float64(b.N), "requests/op")
}
