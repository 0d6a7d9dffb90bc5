package impersonation

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// TestCheckClassifiesEveryPerUserStatus runs one check over users that each
// meet a different condition on the fake server, and checks status, code and
// remediation of each.
func TestCheckClassifiesEveryPerUserStatus(t *testing.T) {
	f := newFake(t, scctest.Grant{}) // replaced below once the mailboxes exist
	add := func(m scctest.Mailbox) {
		t.Helper()
		if _, err := f.srv.AddMailbox(m); err != nil {
			t.Fatalf("AddMailbox(%s): %v", m.PrimarySMTP, err)
		}
	}
	for _, a := range []string{"ok@contoso.example", "ok-upn@contoso.example", "outside@contoso.example",
		"store@contoso.example", "moving@contoso.example", "busy@contoso.example", "noews@contoso.example",
		"denied@contoso.example", "dropped@contoso.example", "written@contoso.example"} {
		add(scctest.Mailbox{PrimarySMTP: a})
	}
	add(scctest.Mailbox{PrimarySMTP: "anna.lee@contoso.example", ProxyAddresses: []string{"anna@contoso.example"}})
	scope := []string{"ok@contoso.example", "ok-upn@contoso.example", "store@contoso.example", "moving@contoso.example",
		"busy@contoso.example", "noews@contoso.example", "denied@contoso.example", "dropped@contoso.example",
		"anna.lee@contoso.example", "written@contoso.example"}
	if err := f.srv.SetGrant(testLogon, scctest.ImpersonateScope(scope...)); err != nil {
		t.Fatalf("SetGrant: %v", err)
	}
	always := func(fault scctest.Fault) scctest.Reactor {
		return func(scctest.Call) scctest.Reaction { return scctest.Reaction{Fault: fault} }
	}
	f.srv.React("GetFolder", "store@contoso.example", always(scctest.MessageError(ews.ErrorMailboxStoreUnavailable)))
	f.srv.React("GetFolder", "moving@contoso.example", always(scctest.SOAPFault(ews.ErrorMailboxMoveInProgress, "")))
	f.srv.React("GetFolder", "busy@contoso.example", always(scctest.ServerBusy(time.Millisecond)))
	f.srv.React("GetFolder", "denied@contoso.example", always(scctest.MessageError(ews.ErrorAccessDenied)))
	f.srv.React("GetFolder", "dropped@contoso.example", always(scctest.DropConnection()))
	f.srv.React("CreateItem", "written@contoso.example", always(scctest.MessageError(ews.ErrorAccessDenied)))
	if err := f.srv.SetMailboxEWSEnabled("noews@contoso.example", false); err != nil {
		t.Fatalf("SetMailboxEWSEnabled: %v", err)
	}

	users := []org.User{
		{PrimarySMTP: "ok@contoso.example", ImpersonateBy: org.IdentityPrimarySMTP},
		{PrimarySMTP: "ok-upn@contoso.example", UPN: "ok-upn@contoso.example", ImpersonateBy: org.IdentityUPN},
		{PrimarySMTP: "outside@contoso.example"},
		{PrimarySMTP: "nobody@contoso.example"},
		{PrimarySMTP: "anna@contoso.example", ImpersonateBy: org.IdentityPrimarySMTP},
		{PrimarySMTP: "store@contoso.example"},
		{PrimarySMTP: "moving@contoso.example"},
		{PrimarySMTP: "busy@contoso.example"},
		{PrimarySMTP: "noews@contoso.example"},
		{PrimarySMTP: "denied@contoso.example"},
		{PrimarySMTP: "dropped@contoso.example"},
		{PrimarySMTP: "written@contoso.example"},
		{PrimarySMTP: "not an address"},
	}
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithWriteProbe(), WithConcurrency(4))...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)

	tests := []struct {
		addr       string
		status     Status
		code       ews.ResponseCode
		remedy     string // substring of the remediation
		writeProbe WriteProbe
	}{
		{"ok@contoso.example", StatusOK, "", "", WriteProbePassed},
		{"ok-upn@contoso.example", StatusOK, "", "", WriteProbePassed},
		{"outside@contoso.example", StatusOutOfScope, ews.ErrorImpersonateUserDenied, "management scope", ""},
		{"nobody@contoso.example", StatusNoMailbox, ews.ErrorNonExistentMailbox, "primary SMTP address", ""},
		{"anna@contoso.example", StatusNoMailbox, ews.ErrorNonExistentMailbox, "anna@contoso.example is a secondary (proxy) address", ""},
		{"store@contoso.example", StatusMailboxUnavailable, ews.ErrorMailboxStoreUnavailable, "database", ""},
		{"moving@contoso.example", StatusMailboxUnavailable, ews.ErrorMailboxMoveInProgress, "Get-MoveRequest", ""},
		{"busy@contoso.example", StatusThrottled, ews.ErrorServerBusy, "throttling", ""},
		{"noews@contoso.example", StatusBlockedByPolicy, "", "Set-CASMailbox", ""},
		{"denied@contoso.example", StatusError, ews.ErrorAccessDenied, "ErrorAccessDenied", ""},
		{"dropped@contoso.example", StatusNetworkError, "", "dropped", ""},
		{"written@contoso.example", StatusError, ews.ErrorAccessDenied, "not create items", WriteProbeFailed},
		{"not an address", StatusNoMailbox, "", "", ""},
	}
	got := byAddress(rep)
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			res, ok := got[tt.addr]
			if !ok {
				t.Fatalf("no result for %s", tt.addr)
			}
			if res.Status != tt.status || res.Code != tt.code {
				t.Errorf("result = %s/%s (%s), want %s/%s", res.Status, res.Code, res.Message, tt.status, tt.code)
			}
			if !strings.Contains(res.Remediation, tt.remedy) {
				t.Errorf("remediation = %q, want it to contain %q", res.Remediation, tt.remedy)
			}
			if res.Status != StatusOK && res.Remediation == "" {
				t.Errorf("remediation is empty for status %s", res.Status)
			}
			if res.WriteProbe != tt.writeProbe {
				t.Errorf("WriteProbe = %q, want %q", res.WriteProbe, tt.writeProbe)
			}
			if res.Status != StatusNotChecked && res.CheckedAt.IsZero() {
				t.Errorf("CheckedAt is zero")
			}
		})
	}
	if got := got["busy@contoso.example"].Attempts; got != defaultMaxAttempts {
		t.Errorf("busy user attempts = %d, want %d (the retry budget)", got, defaultMaxAttempts)
	}
	if got := got["ok@contoso.example"].Attempts; got != 1 {
		t.Errorf("ok user attempts = %d, want 1", got)
	}
	// The write probe left nothing behind in any mailbox.
	for _, a := range scope {
		items, err := f.srv.Items(a, "drafts")
		if err != nil {
			t.Fatalf("Items(%s, drafts): %v", a, err)
		}
		if len(items) != 0 {
			t.Errorf("Drafts of %s holds %d items after the write probe, want 0", a, len(items))
		}
	}
	f.srv.AssertNotImpersonated(t, "not an address")
}

// TestCheckStops covers the conditions that stop the whole check: every
// user gets exactly one result, the unprobed ones not-checked with the
// reason, and the error unwraps to the cause.
func TestCheckStops(t *testing.T) {
	t.Run("impersonation denied", func(t *testing.T) {
		f := newFake(t, scctest.NoImpersonation())
		users := f.addMailboxes(t, 50)
		rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(2))...)
		var se *StopError
		if !errors.As(err, &se) || se.Status != StatusImpersonationDenied || !errors.Is(err, ews.ErrorImpersonationDenied) {
			t.Fatalf("CheckUsers() error = %v, want a *StopError for impersonation-denied wrapping ErrorImpersonationDenied", err)
		}
		assertOneResultPerUser(t, rep, users)
		if rep.Counts[StatusImpersonationDenied] < 1 || rep.Counts[StatusImpersonationDenied]+rep.Counts[StatusNotChecked] != len(users) {
			t.Errorf("counts = %v, want impersonation-denied ≥ 1 and the rest not-checked", rep.Counts)
		}
		if n := f.srv.Stats().Operations["GetFolder"]; n > 1+2*2 {
			t.Errorf("server saw %d GetFolder requests, want the run to stop after the first denial (≤ preflight + 2 per worker)", n)
		}
		if !strings.Contains(rep.Stopped.Remediation, "New-ManagementRoleAssignment") {
			t.Errorf("stop remediation = %q, want the ApplicationImpersonation role assignment", rep.Stopped.Remediation)
		}
		for _, res := range rep.Results {
			if res.Status == StatusNotChecked && !strings.Contains(res.Message, "ErrorImpersonationDenied") {
				t.Errorf("not-checked message = %q, want the cause", res.Message)
			}
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		f := newFake(t, scctest.ImpersonateAll())
		users := f.addMailboxes(t, 200)
		f.cfg.Password = org.NewSecret("wrong-password")
		rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(MaxConcurrency))...)
		var ae *ews.AuthError
		if !errors.As(err, &ae) {
			t.Fatalf("CheckUsers() error = %v, want one wrapping *ews.AuthError", err)
		}
		assertOneResultPerUser(t, rep, users)
		if rep.Counts[StatusNotChecked] != len(users) || rep.Preflight == nil || rep.Preflight.Status != StatusAuthFailed {
			t.Errorf("counts = %v, preflight = %+v; want every user not-checked after an auth-failed preflight", rep.Counts, rep.Preflight)
		}
		if got := f.srv.Stats().FailedLogons; got[testLogon]+got[strings.ToLower(testLogon)] > 1 || len(got) > 1 {
			t.Errorf("server counted failed logons %v, want at most one", got)
		}
		for _, u := range users {
			f.srv.AssertNotImpersonated(t, u.PrimarySMTP)
		}
		if strings.Contains(rep.Stopped.Reason+rep.Stopped.Remediation, "wrong-password") {
			t.Errorf("the stop reason reveals the password")
		}
	})
	t.Run("EWS blocked", func(t *testing.T) {
		f := newFake(t, scctest.ImpersonateAll())
		users := f.addMailboxes(t, 5)
		f.srv.SetEWSEnabled(false)
		rep, err := CheckUsers(context.Background(), f.cfg, users, f.options()...)
		if err == nil || rep.Stopped == nil || rep.Stopped.Status != StatusBlockedByPolicy {
			t.Fatalf("CheckUsers() = %+v, %v; want a blocked-by-policy stop", rep.Stopped, err)
		}
		assertOneResultPerUser(t, rep, users)
		if rep.Counts[StatusNotChecked] != len(users) {
			t.Errorf("counts = %v, want all not-checked", rep.Counts)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		f := newFake(t, scctest.ImpersonateAll())
		users := f.addMailboxes(t, 3)
		rep, err := CheckUsers(context.Background(), f.cfg, users, WithRetryBudget(RetryBudget{BaseDelay: 1}))
		if err == nil || rep.Stopped == nil || rep.Stopped.Status != StatusNetworkError {
			t.Fatalf("CheckUsers() = %+v, %v; want a network-error stop", rep.Stopped, err)
		}
		if !strings.Contains(rep.Stopped.Remediation, "TLS") || !strings.Contains(rep.Stopped.Remediation, "trusted") {
			t.Errorf("remediation = %q, want it to name the untrusted TLS certificate", rep.Stopped.Remediation)
		}
		assertOneResultPerUser(t, rep, users)
	})
	t.Run("nothing listening", func(t *testing.T) {
		f := newFake(t, scctest.ImpersonateAll())
		users := f.addMailboxes(t, 3)
		f.srv.Close()
		rep, err := CheckUsers(context.Background(), f.cfg, users, f.options()...)
		if err == nil || rep.Stopped == nil || rep.Stopped.Status != StatusNetworkError {
			t.Fatalf("CheckUsers() = %+v, %v; want a network-error stop", rep.Stopped, err)
		}
		if !strings.Contains(rep.Stopped.Remediation, "TCP") {
			t.Errorf("remediation = %q, want it to name the TCP connection", rep.Stopped.Remediation)
		}
	})
	t.Run("invalid configuration", func(t *testing.T) {
		cfg := org.EmailConfiguration{AccessType: org.Impersonation, AccountLogon: "svc", EWSURL: "https://outlook.office365.com/EWS/Exchange.asmx", Password: org.NewSecret("x")}
		users := []org.User{{PrimarySMTP: "a@contoso.example"}, {PrimarySMTP: "b@contoso.example"}}
		rep, err := CheckUsers(context.Background(), cfg, users)
		var ve org.ValidationErrors
		if !errors.As(err, &ve) || !errors.Is(err, org.ErrImpersonationRetired) {
			t.Fatalf("CheckUsers() error = %v, want org.ValidationErrors wrapping ErrImpersonationRetired", err)
		}
		assertOneResultPerUser(t, rep, users)
		if rep.Counts[StatusNotChecked] != 2 {
			t.Errorf("counts = %v, want 2 not-checked", rep.Counts)
		}
		for _, want := range []string{"ApplicationImpersonation", "2025", "full_access_as_app", "X-AnchorMailbox"} {
			if !strings.Contains(rep.Stopped.Remediation, want) {
				t.Errorf("remediation = %q, want it to mention %q", rep.Stopped.Remediation, want)
			}
		}
	})
	t.Run("server error page", func(t *testing.T) {
		f := newFake(t, scctest.ImpersonateAll())
		users := f.addMailboxes(t, 3)
		f.srv.InjectNext(1, scctest.HTTPStatus(http.StatusNotFound))
		rep, err := CheckUsers(context.Background(), f.cfg, users, f.options()...)
		if err == nil || rep.Stopped == nil || rep.Stopped.Status != StatusError {
			t.Fatalf("CheckUsers() = %+v, %v; want an error stop", rep.Stopped, err)
		}
		assertOneResultPerUser(t, rep, users)
	})
}
