package impersonation

import (
	"context"
	"errors"
	"net/http/httptrace"
	"strings"
	"sync/atomic"

	"github.com/sccsync/scc/ews"
)

// errAuthGateClosed is what a request gets that the auth gate held back:
// Exchange had already rejected the service account's password in this
// run, so sending it again would only count another failed logon.
var errAuthGateClosed = errors.New("impersonation: not sent: Exchange rejected the service account's password earlier in this run")

// authGate is shared by every worker of a check. The first request whose
// password Exchange rejects (HTTP 401 to Basic or to an NTLM response)
// closes it, before the worker even classifies the answer; from then on no
// request of the run is written: requests not yet sent are refused, and a
// request that is getting its connection or writing its headers is
// cancelled before they leave (closing its connection, so the buffered
// Authorization header never reaches the wire). Only requests already on
// the wire when the 401 arrived can still cost a failed logon; their
// number is bounded by the concurrency.
//
// Bearer tokens do not close it: ews refreshes a token once on a 401, and
// a rejected token locks nothing out.
type authGate struct {
	closed atomic.Bool
}

// sawResult closes the gate when err is Exchange rejecting a password.
func (g *authGate) sawResult(err error) {
	var ae *ews.AuthError
	if errors.As(err, &ae) && credentialsTried(ae) && !strings.EqualFold(ae.Scheme, "Bearer") {
		g.closed.Store(true)
	}
}

// guard returns ctx with hooks that cancel the request (through cancel)
// when the gate is closed by the time it has a connection or writes its
// Authorization header; held reports whether they did.
func (g *authGate) guard(ctx context.Context, cancel context.CancelFunc) (_ context.Context, held func() bool) {
	var h atomic.Bool
	check := func() {
		if g.closed.Load() {
			h.Store(true)
			cancel()
		}
	}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn: func(string) { check() },
		GotConn: func(httptrace.GotConnInfo) { check() },
		WroteHeaderField: func(key string, _ []string) {
			if strings.EqualFold(key, "Authorization") {
				check()
			}
		},
	})
	return ctx, h.Load
}
