package impersonation

import (
	"context"
	"testing"

	"github.com/sccsync/scc/scctest"
)

func TestCheckAllOK(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 25)
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options()...)
	if err != nil {
		t.Fatalf("CheckUsers() error = %v", err)
	}
	assertOneResultPerUser(t, rep, users)
	if got := rep.Counts[StatusOK]; got != len(users) {
		t.Errorf("Counts[ok] = %d, want %d; report: %+v", got, len(users), rep.Results[0])
	}
	if rep.Preflight == nil || rep.Preflight.Status != StatusOK {
		t.Errorf("Preflight = %+v, want ok", rep.Preflight)
	}
	if rep.ServerVersion == "" {
		t.Errorf("ServerVersion is empty, want the fake's build")
	}
	for _, u := range users {
		f.srv.AssertImpersonated(t, u.PrimarySMTP)
	}
}
