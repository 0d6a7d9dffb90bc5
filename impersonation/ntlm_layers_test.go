package impersonation

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
	"github.com/sccsync/scc/scctest"
)

// TestCheckNTLMThroughLayers: a check over NTLM with the wire trace or a
// logging RoundTripper, at full concurrency, passes every user with the
// right password and costs no failed logon (the wire trace used to stop
// the check with the right password in 20 of 20 runs).
func TestCheckNTLMThroughLayers(t *testing.T) {
	passThrough := func(next http.RoundTripper) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) { return next.RoundTrip(r) })
	}
	for name, opt := range map[string]ews.Option{
		"wire trace": ews.WithWireTrace(io.Discard),
		"middleware": ews.WithTransportMiddleware(passThrough),
	} {
		for _, method := range []org.AuthMethod{org.AuthNTLM, org.AuthNegotiate} {
			t.Run(name+"/"+method.String(), func(t *testing.T) {
				f := newFake(t, scctest.ImpersonateAll(), scctest.WithAuth(scctest.AuthNTLM))
				users := f.addMailboxes(t, 50)
				f.cfg.AuthMethod = method
				rep, err := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(MaxConcurrency), WithEWSOptions(opt))...)
				if err != nil {
					t.Fatalf("CheckUsers() error = %v", err)
				}
				if rep.Counts[StatusOK] != len(users) {
					t.Errorf("counts = %v, want %d ok", rep.Counts, len(users))
				}
				if got := f.srv.Stats().FailedLogons; len(got) != 0 {
					t.Errorf("server counted failed logons %v with the right password, want none", got)
				}
			})
		}
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
