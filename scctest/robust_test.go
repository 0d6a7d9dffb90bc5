package scctest

import (
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
)

// TestCreateItemWithoutSubject: a draft or MIME import often has no
// Subject; CreateItem stores it with an empty subject (Exchange does), it
// does not fail or panic.
func TestCreateItemWithoutSubject(t *testing.T) {
	rt := &recordingTB{TB: t}
	s := NewServer(rt)
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddServiceAccount(testSvc, testPassword, ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, item string }{
		{"empty message", `<t:Message/>`},
		{"body only", `<t:Message><t:Body BodyType="Text">no subject here</t:Body></t:Message>`},
		{"mime only", `<t:Message><t:MimeContent CharacterSet="UTF-8">VG86IGJvYkBjb250b3NvLmV4YW1wbGUNCg0KaGk=</t:MimeContent></t:Message>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="drafts"/></m:SavedItemFolderId><m:Items>` + tc.item + `</m:Items></m:CreateItem>`
			check(t, do(t, s, nil, svcReq(imp(alice), body)), ok1())
		})
	}
	if errs := rt.errors(); len(errs) != 0 {
		t.Errorf("errors reported to t = %q, want none", errs)
	}
	if items, err := s.Items(alice, "drafts"); err != nil || len(items) != 3 {
		t.Errorf("Items(alice, drafts) = %d items, %v; want 3", len(items), err)
	}
}

// TestPanicInEveryOperation: whatever operation panics, and whichever is
// registered later, fails that request alone with ErrorInternalServerError,
// reports the panic to the t of NewServer(t), and the next request is
// served.
func TestPanicInEveryOperation(t *testing.T) {
	s, rt := panicServer(t)
	var ops []string
	for _, op := range strings.Fields(schemaOperations) {
		if _, ok := operations(op); ok {
			ops = append(ops, op)
		}
	}
	if len(ops) < 8 {
		t.Fatalf("found %d registered operations (%q), want at least 8", len(ops), ops)
	}
	for i, op := range ops {
		t.Run(op, func(t *testing.T) {
			s.opHook = func(got string) {
				if got == op {
					panic("bug in " + op)
				}
			}
			check(t, do(t, s, nil, svcReq(imp(alice), "<m:"+op+"/>")), faultOf(ews.ErrorInternalServerError))
			s.opHook = nil
			check(t, do(t, s, nil, svcReq(imp(alice), getInbox)), ok1())
			errs := rt.errors()
			if len(errs) != i+1 || !strings.Contains(errs[i], "bug in "+op) {
				t.Errorf("errors reported to t = %d, last %q; want %d, the last naming the panic in %s", len(errs), errs[len(errs)-1], i+1, op)
			}
		})
	}
}
