package scctest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
)

func TestServerBusyNextN(t *testing.T) {
	s := newTestServer(t)
	s.InjectNext(2, ServerBusy(1500*time.Millisecond))
	r := svcReq(imp(alice), getInbox)
	for i := range 2 {
		check(t, do(t, s, nil, r), want{status: 500, fault: ews.ErrorServerBusy, values: map[string]string{"BackOffMilliseconds": "1500"}})
		_ = i
	}
	check(t, do(t, s, nil, r), ok1())
	s.AssertFaultCount(t, ews.ErrorServerBusy, 2)
	// Unauthenticated requests do not consume injected faults.
	s.InjectNext(1, HTTPStatus(503))
	if got := do(t, s, nil, req{body: envelope("", getInbox)}); got.status != 401 {
		t.Fatalf("anonymous: status = %d, want 401", got.status)
	}
	if got := do(t, s, nil, r); got.status != 503 || got.header.Get("Retry-After") == "" {
		t.Errorf("status = %d (Retry-After %q), want 503 with Retry-After", got.status, got.header.Get("Retry-After"))
	}
}

func TestInjectFraction(t *testing.T) {
	count := func(seed uint64) int {
		s := newTestServer(t, WithSeed(seed))
		s.InjectFraction(0.5, ServerBusy(0))
		n := 0
		for range 40 {
			if do(t, s, nil, svcReq(imp(alice), getInbox)).fault == ews.ErrorServerBusy {
				n++
			}
		}
		return n
	}
	a, b := count(7), count(7)
	if a != b {
		t.Errorf("same seed gave %d and %d faults, want equal (deterministic)", a, b)
	}
	if a == 0 || a == 40 {
		t.Errorf("faults with p=0.5 = %d of 40, want some but not all", a)
	}
}

func TestDropConnection(t *testing.T) {
	s := newTestServer(t)
	s.InjectNext(1, DropConnection())
	hr, _ := http.NewRequest(http.MethodPost, s.EWSURL(), strings.NewReader(envelope(version("Exchange2013_SP1")+imp(alice), getInbox)))
	hr.Header.Set("Content-Type", "text/xml")
	hr.SetBasicAuth(testSvc, testPassword)
	if res, err := s.Client().Do(hr); err == nil {
		res.Body.Close()
		t.Fatalf("request on a dropped connection got status %d, want a transport error", res.StatusCode)
	}
	if got := s.Stats().Dropped; got != 1 {
		t.Errorf("Stats().Dropped = %d, want 1", got)
	}
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
}

func TestMaxConcurrency(t *testing.T) {
	s := newTestServer(t)
	s.SetMaxConcurrency(1)
	entered := make(chan struct{})
	release := make(chan struct{})
	var first atomic.Bool
	s.React("GetFolder", "", func(Call) Reaction {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
		return Reaction{}
	})
	done := make(chan resp)
	go func() { done <- do(t, s, &http.Client{Transport: &http.Transport{}}, svcReq(imp(alice), getInbox)) }()
	<-entered
	// A second request of the same account while the first is in flight.
	check(t, do(t, s, nil, svcReq(imp(bob), getInbox)), faultOf(ews.ErrorExceededConnectionCount))
	// Another principal has its own budget.
	if err := s.AddServiceAccount(`CONTOSO\other`, "pw", ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	check(t, do(t, s, nil, req{user: `CONTOSO\other`, pass: "pw", body: envelope(version("Exchange2013_SP1")+imp(bob), getInbox)}), ok1())
	close(release)
	check(t, <-done, ok1())
	check(t, do(t, s, nil, svcReq(imp(bob), getInbox)), ok1())
}

func TestReactorSeesCall(t *testing.T) {
	s := newTestServer(t)
	var mu sync.Mutex
	var calls []Call
	s.React("", "", func(c Call) Reaction {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, c)
		return Reaction{Delay: time.Millisecond}
	})
	check(t, do(t, s, nil, svcReq(impersonate("SmtpAddress", "alice.alias@contoso.example"), getInbox)), ok1())
	check(t, do(t, s, nil, req{user: "alice@ad.contoso.example", pass: "alice-pw", body: envelope("", getInbox)}), ok1())
	want := []Call{
		{Operation: "GetFolder", Mailbox: alice, Impersonated: true, Principal: testSvc},
		{Operation: "GetFolder", Mailbox: alice, Impersonated: false, Principal: "alice@ad.contoso.example"},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 2 || calls[0] != want[0] || calls[1] != want[1] {
		t.Errorf("calls = %+v, want %+v", calls, want)
	}
}

func TestLatencyServes(t *testing.T) {
	s := newTestServer(t)
	s.SetLatency(2*time.Millisecond, 3*time.Millisecond)
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
	s.ClearFaults()
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
}

func TestRequestLog(t *testing.T) {
	s := newTestServer(t)
	do(t, s, nil, req{body: envelope("", getInbox)})
	do(t, s, nil, req{user: testSvc, pass: testPassword, headers: map[string]string{"X-AnchorMailbox": "alice.alias@contoso.example"},
		body: envelope(version("Exchange2016")+impersonate("SID", "S-1-5-21-1-2-3-4"), getInbox)})
	mbs := s.Mailboxes()
	do(t, s, nil, req{user: testSvc, pass: testPassword, headers: map[string]string{"X-AnchorMailbox": alice},
		body: envelope(version("Exchange2016")+impersonate("SID", mbs[0].SID), getInbox)})
	log := s.Requests()
	if len(log) != 3 {
		t.Fatalf("len(Requests()) = %d, want 3", len(log))
	}
	if log[0].StatusCode != 401 || log[0].Operation != "" || log[0].Principal != "" {
		t.Errorf("anonymous entry = %+v", log[0])
	}
	e := log[2]
	if e.Operation != "GetFolder" || e.AuthScheme != AuthBasic || e.Principal != testSvc || e.ConnectingSIDKind != BySID ||
		e.ConnectingSID != mbs[0].SID || e.Impersonated != alice || e.AnchorMailbox != alice || e.RequestServerVersion != "Exchange2016" ||
		e.StatusCode != 200 || len(e.ResponseCodes) != 1 || e.ResponseCodes[0] != ews.NoError || e.Time.IsZero() {
		t.Errorf("entry = %+v", e)
	}
	if log[1].Fault != ews.ErrorNonExistentMailbox || log[1].Impersonated != "" {
		t.Errorf("unknown SID entry = %+v", log[1])
	}
	s.AssertAnchorMailbox(t)
	st := s.Stats()
	if st.Requests != 3 || st.StatusCodes[401] != 1 || st.StatusCodes[200] != 1 || st.Operations["GetFolder"] != 2 || st.Faults[ews.ErrorNonExistentMailbox] != 1 {
		t.Errorf("Stats() = %+v", st)
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.Stats().Requests != 0 {
		t.Errorf("ResetRequests left entries")
	}
}

// fakeTB records failures of the assertion helpers.
type fakeTB struct {
	testing.TB
	failed []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.failed = append(f.failed, format)
}

func TestAssertionsFail(t *testing.T) {
	s := newTestServer(t)
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
	ft := &fakeTB{TB: t}
	s.AssertRequestCount(ft, "GetFolder", 2)
	s.AssertImpersonated(ft, bob)
	s.AssertNotImpersonated(ft, "alice.alias@contoso.example")
	s.AssertAnchorMailbox(ft)
	s.AssertFaultCount(ft, ews.ErrorServerBusy, 1)
	if len(ft.failed) != 5 {
		t.Errorf("failed assertions = %d, want 5: %q", len(ft.failed), ft.failed)
	}
}

func TestTLSServer(t *testing.T) {
	s := NewTLSServer(t)
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice, Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.EWSURL(), "https://127.0.0.1:") || !strings.HasSuffix(s.EWSURL(), "/EWS/Exchange.asmx") {
		t.Fatalf("EWSURL() = %q", s.EWSURL())
	}
	check(t, do(t, s, nil, req{user: alice, pass: "pw", body: envelope(version("Exchange2013_SP1"), getInbox)}), ok1())
	// NTLM over TLS with the trusted client's TLS config.
	tr := s.Client().Transport.(*http.Transport).Clone()
	c := &http.Client{Transport: ntlmsspNegotiator(tr)}
	check(t, do(t, s, c, req{user: alice, pass: "pw", body: envelope(version("Exchange2013_SP1"), getInbox)}), ok1())
}

func TestCloseWaitsForInFlight(t *testing.T) {
	s := newTestServer(t)
	entered, release := make(chan struct{}), make(chan struct{})
	s.React("", "", func(Call) Reaction { close(entered); <-release; return Reaction{} })
	got := make(chan int, 1)
	go func() {
		hr, _ := http.NewRequest(http.MethodPost, s.EWSURL(), strings.NewReader(envelope(version("Exchange2013_SP1")+imp(alice), getInbox)))
		hr.Header.Set("Content-Type", "text/xml")
		hr.SetBasicAuth(testSvc, testPassword)
		res, err := s.Client().Do(hr)
		if err != nil {
			got <- -1
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		got <- res.StatusCode
	}()
	<-entered
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a request was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-closed
	if code := <-got; code != 200 {
		t.Errorf("in-flight request finished with %d, want 200", code)
	}
	s.Close() // idempotent
}

func TestParallelServersAreIndependent(t *testing.T) {
	for i := range 4 {
		t.Run(itoa(i), func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t)
			s.InjectNext(1, ServerBusy(time.Second))
			for range i {
				if _, err := s.AddItem(alice, "inbox", Message{Subject: "x"}); err != nil {
					t.Fatal(err)
				}
			}
			check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), faultOf(ews.ErrorServerBusy))
			r := do(t, s, nil, svcReq(imp(alice), getInbox))
			check(t, r, ok1())
			if n := find(t, r.body, "TotalCount").text; n != itoa(i) {
				t.Errorf("TotalCount = %s, want %d", n, i)
			}
			// Deterministic ids per server.
			if id, _ := s.FolderID(alice, "inbox"); id != "AAMkRgEAAAAAAAAAAAAAAAMAAAAAVbaOwQ==" {
				t.Errorf("FolderID = %s, want the same on every server", id)
			}
		})
	}
}
