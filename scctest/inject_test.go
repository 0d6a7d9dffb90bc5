package scctest

import (
	"testing"
	"time"

	"github.com/sccsync/scc/ews"
)

// injCall is one request of TestInjectTargeted: its mailbox, whether it is
// a GetFolder (else a ResolveNames, standing for a client's preflight), and
// the answer it gets.
type injCall struct {
	mailbox string
	get     bool
	want    want
}

// TestInjectTargeted: a targeted fault fires on the calls it names, counted
// among the matching requests only; other operations (a preflight) and
// other mailboxes do not use it up.
func TestInjectTargeted(t *testing.T) {
	const resolve = `<m:ResolveNames ReturnFullContactData="false"><m:UnresolvedEntry>bob</m:UnresolvedEntry></m:ResolveNames>`
	busy := faultOf(ews.ErrorServerBusy)
	tests := []struct {
		name  string
		when  []Condition
		calls []injCall
	}{
		{
			name: "bob's second GetFolder",
			when: []Condition{ForOperation("GetFolder"), ForMailbox("BOB@contoso.example"), OnCall(2)},
			calls: []injCall{
				{bob, false, ok1()}, // preflight: another operation
				{alice, true, ok1()},
				{bob, true, ok1()},
				{alice, true, ok1()},
				{bob, true, busy},
				{bob, true, ok1()},
			},
		},
		{
			name: "every GetFolder of alice, by alias",
			when: []Condition{ForOperation("GetFolder"), ForMailbox("alice.alias@contoso.example")},
			calls: []injCall{
				{alice, true, busy},
				{bob, true, ok1()},
				{alice, false, ok1()},
				{alice, true, busy},
			},
		},
		{
			name: "calls two and three of any operation",
			when: []Condition{OnCall(2), Times(2)},
			calls: []injCall{
				{alice, false, ok1()},
				{bob, true, busy},
				{alice, false, faultOf(ews.ErrorServerBusy)},
				{bob, true, ok1()},
			},
		},
		{
			name: "first two of bob",
			when: []Condition{ForMailbox(bob), Times(2)},
			calls: []injCall{
				{alice, true, ok1()},
				{bob, true, busy},
				{bob, false, busy},
				{bob, true, ok1()},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			if err := s.SetGrant(testSvc, ImpersonateAll()); err != nil {
				t.Fatal(err)
			}
			if err := s.Inject(ServerBusy(time.Second), tt.when...); err != nil {
				t.Fatal(err)
			}
			for i, c := range tt.calls {
				body := resolve
				if c.get {
					body = getInbox
				}
				got := do(t, s, nil, svcReq(imp(c.mailbox), body))
				if got.status != c.want.status || got.fault != c.want.fault {
					t.Errorf("call %d (%s, GetFolder %v) = %d %s, want %d %s", i+1, c.mailbox, c.get, got.status, got.fault, c.want.status, c.want.fault)
				}
			}
		})
	}
}

// TestInjectBeforeReactors: a targeted fault answers even when a reactor
// also fails the request; the reactor still sees it.
func TestInjectBeforeReactors(t *testing.T) {
	s := newTestServer(t)
	seen := 0
	s.React("", "", func(Call) Reaction { seen++; return Reaction{Fault: MessageError(ews.ErrorMailboxMoveInProgress)} })
	if err := s.Inject(HTTPStatus(503), OnCall(1)); err != nil {
		t.Fatal(err)
	}
	if got := do(t, s, nil, svcReq(imp(alice), getInbox)); got.status != 503 {
		t.Errorf("first call = %d, want 503 from the targeted fault", got.status)
	}
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), want{status: 200, codes: []ews.ResponseCode{ews.ErrorMailboxMoveInProgress}})
	if seen != 2 {
		t.Errorf("reactor saw %d calls, want 2", seen)
	}
	s.ClearFaults()
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
}

func TestInjectRefuses(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name string
		f    Fault
		when []Condition
	}{
		{"zero fault", Fault{}, nil},
		{"unknown operation", ServerBusy(0), []Condition{ForOperation("GetFolders")}},
		{"empty operation", ServerBusy(0), []Condition{ForOperation("")}},
		{"empty mailbox", ServerBusy(0), []Condition{ForMailbox(" ")}},
		{"call zero", ServerBusy(0), []Condition{OnCall(0)}},
		{"times zero", ServerBusy(0), []Condition{Times(0)}},
		{"twice", ServerBusy(0), []Condition{OnCall(1), OnCall(2)}},
		{"zero condition", ServerBusy(0), []Condition{{}}},
	}
	for _, tt := range tests {
		if err := s.Inject(tt.f, tt.when...); err == nil {
			t.Errorf("Inject(%v, %v) = nil error, want one", tt.f, tt.when)
		}
	}
}
