package impersonation

import (
	"context"
	"strings"
	"testing"

	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// TestOneOptionType: the same Option values work for every entry point
// (WithHTTPClient is the one way to hand over an HTTP client), and an
// option that belongs to the check or to Diagnose only is an error naming
// it at the other.
func TestOneOptionType(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 2)
	shared := []Option{WithHTTPClient(f.srv.Client()), WithEWSOptions()}

	rep, err := CheckUsers(context.Background(), f.cfg, users, shared...)
	if err != nil || !rep.OK() {
		t.Errorf("CheckUsers(shared options) = %v, %v; want every user ok", rep.Counts, err)
	}
	d, err := Diagnose(context.Background(), f.cfg, users[0].PrimarySMTP, shared...)
	if err != nil || !d.OK() {
		t.Errorf("Diagnose(shared options) = %v, %v; want it to pass", d.Fix(), err)
	}
	store := org.NewMemoryStore()
	o, err := store.Create(context.Background(), &org.Organization{Name: "Contoso", Email: f.cfg, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	if ar, err := Activate(context.Background(), store, o.ID, shared...); err != nil || ar.Activated != len(users) {
		t.Errorf("Activate(shared options) = %+v, %v; want every user activated", ar, err)
	}
	if _, err := Renew(context.Background(), store, o.ID, shared...); err != nil {
		t.Errorf("Renew(shared options) error = %v", err)
	}

	for _, tt := range []struct {
		name string
		opt  Option
	}{
		{"WithConcurrency", WithConcurrency(2)},
		{"WithWriteProbe", WithWriteProbe()},
		{"WithLogger", WithLogger(nil)},
	} {
		if _, err := Diagnose(context.Background(), f.cfg, users[0].PrimarySMTP, tt.opt); err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("Diagnose(%s) error = %v, want one naming %s", tt.name, err, tt.name)
		}
	}
	for _, tt := range []struct {
		name string
		opt  Option
	}{
		{"WithWriteTest", WithWriteTest()},
		{"WithStepTimeout", WithStepTimeout(1)},
		{"WithInsecureSkipVerify", WithInsecureSkipVerify()},
	} {
		rep, err := CheckUsers(context.Background(), f.cfg, users, append(shared, tt.opt)...)
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("CheckUsers(%s) error = %v, want one naming %s", tt.name, err, tt.name)
		}
		assertOneResultPerUser(t, rep, users)
	}
	for _, tt := range []struct {
		name string
		opt  Option
	}{
		{"WithHTTPClient", WithHTTPClient(nil)},
		{"WithBearerToken", WithBearerToken(nil)},
		{"WithAuthority", WithAuthority("http://login.example")},
	} {
		if _, err := CheckUsers(context.Background(), f.cfg, users, tt.opt); err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("CheckUsers(%s) error = %v, want one naming %s", tt.name, err, tt.name)
		}
		if _, err := Diagnose(context.Background(), f.cfg, users[0].PrimarySMTP, tt.opt); err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("Diagnose(%s) error = %v, want one naming %s", tt.name, err, tt.name)
		}
	}
}
