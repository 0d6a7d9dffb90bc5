package impersonation

import (
	"fmt"
	"testing"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

const (
	testLogon    = `CONTOSO\svc-sync`
	testPassword = "Sync-Secret-42!"
)

// fake is a TLS fake Exchange server with a service account, and the
// configuration and options that point a check at it.
type fake struct {
	srv  *scctest.Server
	cfg  org.EmailConfiguration
	opts []Option
}

// newFake starts a fake server whose service account has grant, with NTLM.
func newFake(t testing.TB, grant scctest.Grant, opts ...scctest.Option) *fake {
	t.Helper()
	srv := scctest.NewTLSServer(t, opts...)
	if err := srv.AddServiceAccount(testLogon, testPassword, grant); err != nil {
		t.Fatalf("AddServiceAccount: %v", err)
	}
	return &fake{
		srv: srv,
		cfg: org.EmailConfiguration{
			AccessType:   org.Impersonation,
			AccountLogon: testLogon,
			Password:     org.NewSecret(testPassword),
			EWSURL:       srv.EWSURL(),
			AuthMethod:   org.AuthBasic,
		},
		opts: []Option{WithHTTPClient(srv.Client()), WithRetryBudget(RetryBudget{BaseDelay: 1})},
	}
}

// addMailboxes adds n mailboxes user0000@contoso.example… and returns them
// as org users impersonated by primary SMTP address.
func (f *fake) addMailboxes(t testing.TB, n int) []org.User {
	t.Helper()
	users := make([]org.User, n)
	for i := range users {
		addr := fmt.Sprintf("user%04d@contoso.example", i)
		if _, err := f.srv.AddMailbox(scctest.Mailbox{PrimarySMTP: addr}); err != nil {
			t.Fatalf("AddMailbox(%s): %v", addr, err)
		}
		users[i] = org.User{PrimarySMTP: addr, ImpersonateBy: org.IdentityPrimarySMTP}
	}
	return users
}

// options returns the fake's options followed by more.
func (f *fake) options(more ...Option) []Option {
	return append(append([]Option(nil), f.opts...), more...)
}

// byAddress indexes a report's results.
func byAddress(r *Report) map[string]Result {
	m := make(map[string]Result, len(r.Results))
	for _, res := range r.Results {
		m[res.Address] = res
	}
	return m
}

// assertOneResultPerUser checks the report's central promise.
func assertOneResultPerUser(t *testing.T, r *Report, users []org.User) {
	t.Helper()
	if r.Total != len(users) || len(r.Results) != len(users) {
		t.Fatalf("report has Total %d and %d results, want %d", r.Total, len(r.Results), len(users))
	}
	seen := make([]bool, len(users))
	sum := 0
	for _, res := range r.Results {
		if res.Index < 0 || res.Index >= len(users) || seen[res.Index] {
			t.Fatalf("result index %d is out of range or repeated", res.Index)
		}
		seen[res.Index] = true
		if res.Address != users[res.Index].PrimarySMTP {
			t.Errorf("result %d has address %q, want %q", res.Index, res.Address, users[res.Index].PrimarySMTP)
		}
		if !res.Status.Known() {
			t.Errorf("result for %s has unknown status %q", res.Address, res.Status)
		}
	}
	for _, n := range r.Counts {
		sum += n
	}
	if sum != len(users) {
		t.Errorf("counts add up to %d, want %d", sum, len(users))
	}
}
