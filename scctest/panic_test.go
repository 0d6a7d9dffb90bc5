package scctest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sccsync/scc/ews"
)

// recordingTB is a testing.TB whose Errorf records instead of failing, safe
// for the handler goroutines that call it.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// panicServer is newTestServer on a recordingTB.
func panicServer(t *testing.T) (*Server, *recordingTB) {
	t.Helper()
	rt := &recordingTB{TB: t}
	s := NewServer(rt)
	for _, m := range []string{alice, bob} {
		if _, err := s.AddMailbox(Mailbox{PrimarySMTP: m}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddServiceAccount(testSvc, testPassword, ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	return s, rt
}

const createInDrafts = `<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items><t:Message><t:Subject>after the panic</t:Subject></t:Message></m:Items></m:CreateItem>`

// TestPanicInReactor: a panicking reactor fails its request alone with
// ErrorInternalServerError, the test hears of it, and other requests are
// served.
func TestPanicInReactor(t *testing.T) {
	s, rt := panicServer(t)
	s.React("", bob, func(Call) Reaction { panic("reactor bug") })
	check(t, do(t, s, nil, svcReq(imp(bob), getInbox)), faultOf(ews.ErrorInternalServerError))
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
	errs := rt.errors()
	if len(errs) != 1 || !strings.Contains(errs[0], "reactor bug") || !strings.Contains(errs[0], "GetFolder") {
		t.Errorf("errors reported to t = %q, want one naming the panic and GetFolder", errs)
	}
	if got := s.Stats().Faults[ews.ErrorInternalServerError]; got != 1 {
		t.Errorf("Stats().Faults[ErrorInternalServerError] = %d, want 1", got)
	}
}

// TestPanicInOperation: an operation that panics while holding the server
// lock releases it: a later write (which needs the lock exclusively) is
// served, and Close (the cleanup) returns.
func TestPanicInOperation(t *testing.T) {
	s, rt := panicServer(t)
	s.opHook = func(op string) {
		if op == "GetFolder" {
			panic("operation bug")
		}
	}
	check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), faultOf(ews.ErrorInternalServerError))
	check(t, do(t, s, nil, svcReq(imp(alice), createInDrafts)), ok1())
	if items, err := s.Items(alice, "drafts"); err != nil || len(items) != 1 {
		t.Errorf("Items(alice, drafts) = %d items, %v; want the one created after the panic", len(items), err)
	}
	if errs := rt.errors(); len(errs) != 1 || !strings.Contains(errs[0], "operation bug") {
		t.Errorf("errors reported to t = %q, want one naming the panic", errs)
	}
}
