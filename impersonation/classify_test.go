package impersonation

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

// TestClassify maps the ews error values to statuses. The values are built
// the way the ews package returns them; the end-to-end tests cover the same
// paths over real sockets.
func TestClassify(t *testing.T) {
	busy := &ews.FaultError{Operation: "GetFolder", StatusCode: 500, Code: ews.ErrorServerBusy,
		MessageXML: ews.MessageXML{{Name: "BackOffMilliseconds", Value: "1500"}}}
	tests := []struct {
		name   string
		err    error
		status Status
		code   ews.ResponseCode
		retry  bool
		gate   bool
		stop   bool
		lower  bool
	}{
		{"success", nil, StatusOK, "", false, false, false, false},
		{"throttled fault", &ews.ThrottledError{Operation: "GetFolder", BackOff: 1500 * time.Millisecond, StatusCode: 500, Err: busy},
			StatusThrottled, ews.ErrorServerBusy, true, true, false, false},
		{"busy fault", busy, StatusThrottled, ews.ErrorServerBusy, true, true, false, false},
		{"503", &ews.HTTPError{Operation: "GetFolder", StatusCode: http.StatusServiceUnavailable}, StatusThrottled, "", true, true, false, false},
		{"403", &ews.HTTPError{Operation: "GetFolder", StatusCode: http.StatusForbidden}, StatusBlockedByPolicy, "", false, false, false, false},
		{"outage redirect", &ews.HTTPError{Operation: "GetFolder", StatusCode: http.StatusFound}, StatusError, "", true, false, false, false},
		{"401", &ews.AuthError{Operation: "GetFolder", Scheme: "NTLM", StatusCode: 401}, StatusAuthFailed, "", false, false, true, false},
		{"impersonation denied", &ews.FaultError{Code: ews.ErrorImpersonationDenied}, StatusImpersonationDenied, ews.ErrorImpersonationDenied, false, false, true, false},
		{"user denied", &ews.FaultError{Code: ews.ErrorImpersonateUserDenied}, StatusOutOfScope, ews.ErrorImpersonateUserDenied, false, false, false, false},
		{"no mailbox message", &ews.ResponseError{Code: ews.ErrorNonExistentMailbox}, StatusNoMailbox, ews.ErrorNonExistentMailbox, false, false, false, false},
		{"bad SID", &ews.FaultError{Code: ews.ErrorInvalidSid}, StatusNoMailbox, ews.ErrorInvalidSid, false, false, false, false},
		{"store unavailable", &ews.ResponseError{Code: ews.ErrorMailboxStoreUnavailable}, StatusMailboxUnavailable, ews.ErrorMailboxStoreUnavailable, true, false, false, false},
		{"connection count", &ews.FaultError{Code: ews.ErrorExceededConnectionCount}, StatusThrottled, ews.ErrorExceededConnectionCount, true, false, false, true},
		{"inner transient", &ews.ResponseError{Code: ews.ErrorInternalServerError, MessageXML: ews.MessageXML{{Name: "InnerErrorResponseCode", Value: "ErrorTimeoutExpired"}}},
			StatusError, ews.ErrorInternalServerError, true, false, false, false},
		{"access denied", &ews.ResponseError{Code: ews.ErrorAccessDenied}, StatusError, ews.ErrorAccessDenied, false, false, false, false},
		{"delegated token", &ews.FaultError{Code: ews.ErrorInvalidExchangeImpersonationHeaderData,
			Message: "ExchangeImpersonation SOAP header must not exist for this type of OAuth token."}, StatusError, ews.ErrorInvalidExchangeImpersonationHeaderData, false, false, true, false},
		{"dropped", &ews.TransportError{Operation: "GetFolder", MaybeSent: true, Err: errors.New("EOF")}, StatusNetworkError, "", true, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := classify(tt.err)
			got := [4]bool{o.retry, o.gate, o.stop, o.lower}
			want := [4]bool{tt.retry, tt.gate, tt.stop, tt.lower}
			if o.status != tt.status || o.code != tt.code || got != want {
				t.Errorf("classify(%v) = %s/%s retry,gate,stop,lower=%v, want %s/%s %v", tt.err, o.status, o.code, got, tt.status, tt.code, want)
			}
		})
	}
	if o := classify(busy); o.backoff != 1500*time.Millisecond {
		t.Errorf("classify(busy fault).backoff = %v, want 1.5s", o.backoff)
	}
}

// TestCheckNotTLS: an https:// URL pointing at a plain-HTTP port is named as
// such.
func TestCheckNotTLS(t *testing.T) {
	srv := scctest.NewServer(t)
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 1)
	f.cfg.EWSURL = strings.Replace(srv.EWSURL(), "http://", "https://", 1)
	rep, err := CheckUsers(context.Background(), f.cfg, users, f.options()...)
	if err == nil || rep.Stopped == nil || rep.Stopped.Status != StatusNetworkError || !strings.Contains(rep.Stopped.Remediation, "does not speak TLS") {
		t.Fatalf("CheckUsers() = %+v, %v; want a network-error stop saying the port does not speak TLS", rep.Stopped, err)
	}
}
