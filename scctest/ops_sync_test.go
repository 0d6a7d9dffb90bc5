package scctest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

var syncStateRE = regexp.MustCompile(`<m:SyncState>([^<]*)</m:SyncState>`)

// stateOf returns the SyncState of a sync response.
func stateOf(t *testing.T, r resp) string {
	t.Helper()
	m := syncStateRE.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("response has no SyncState:\n%s", r.body)
	}
	return string(m[1])
}

func syncItemsBody(shape, state string, max string, extra string) string {
	st := ""
	if state != "" {
		st = "<m:SyncState>" + state + "</m:SyncState>"
	}
	return `<m:SyncFolderItems><m:ItemShape><t:BaseShape>` + shape + `</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId>` +
		st + extra + `<m:MaxChangesReturned>` + max + `</m:MaxChangesReturned></m:SyncFolderItems>`
}

// TestSyncWire drives SyncFolderItems and SyncFolderHierarchy with raw
// SOAP, so that the captured set (-capture) holds every change element and
// every error shape of both operations for the schema check.
func TestSyncWire(t *testing.T) {
	s := newTestServer(t)
	var ids []string
	for i := range 5 {
		id, err := s.AddItem(alice, "inbox", Message{Subject: fmt.Sprintf("s%d", i), From: bob, To: []string{alice}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id.ID)
	}
	r := do(t, s, nil, svcReq(imp(alice), syncItemsBody("AllProperties", "", "3", "")))
	check(t, r, ok1())
	if n := strings.Count(string(r.body), "<t:Create>"); n != 3 || !strings.Contains(string(r.body), "<m:IncludesLastItemInRange>false<") {
		t.Fatalf("first page: %d creates, want 3 and not last\n%s", n, r.body)
	}
	r = do(t, s, nil, svcReq(imp(alice), syncItemsBody("Default", stateOf(t, r), "512", "")))
	check(t, r, ok1())
	if n := strings.Count(string(r.body), "<t:Create>"); n != 2 || !strings.Contains(string(r.body), "<m:IncludesLastItemInRange>true<") {
		t.Fatalf("second page: %d creates, want 2 and last\n%s", n, r.body)
	}
	state := stateOf(t, r)
	func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		b := s.box(s.dir.lookupAddr(alice))
		if _, err := b.SetIsRead(ids[0], true); err != nil {
			t.Fatal(err)
		}
		if _, err := b.DeleteItem(ids[1], mbx.HardDelete); err != nil {
			t.Fatal(err)
		}
		if _, err := b.MoveItem(ids[2], "drafts"); err != nil {
			t.Fatal(err)
		}
		if _, err := b.CreateFolder("inbox", mbx.NewFolder{DisplayName: "Sub"}); err != nil {
			t.Fatal(err)
		}
	}()
	r = do(t, s, nil, svcReq(imp(alice), syncItemsBody("IdOnly", state, "512", `<m:Ignore><t:ItemId Id="`+ids[4]+`"/></m:Ignore>`)))
	check(t, r, ok1())
	body := string(r.body)
	if !strings.Contains(body, `<t:ReadFlagChange><t:ItemId Id="`+ids[0]+`"/><t:IsRead>true</t:IsRead></t:ReadFlagChange>`) ||
		!strings.Contains(body, `<t:Delete><t:ItemId Id="`+ids[1]+`"/></t:Delete>`) || !strings.Contains(body, `<t:Delete><t:ItemId Id="`+ids[2]+`"/></t:Delete>`) {
		t.Errorf("net changes lack the ReadFlagChange of %s or the Deletes of %s, %s:\n%s", ids[0], ids[1], ids[2], body)
	}

	hier := func(shape, state string) string {
		st := ""
		if state != "" {
			st = "<m:SyncState>" + state + "</m:SyncState>"
		}
		return `<m:SyncFolderHierarchy><m:FolderShape><t:BaseShape>` + shape + `</t:BaseShape></m:FolderShape>` + st + `</m:SyncFolderHierarchy>`
	}
	r = do(t, s, nil, svcReq(imp(alice), hier("AllProperties", "")))
	check(t, r, ok1())
	if !strings.Contains(string(r.body), "<t:DisplayName>Sub</t:DisplayName>") || !strings.Contains(string(r.body), "<m:IncludesLastFolderInRange>true<") {
		t.Errorf("initial hierarchy lacks folder Sub or is not last:\n%s", r.body)
	}
	hstate := stateOf(t, r)
	func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		b := s.box(s.dir.lookupAddr(alice))
		f, err := b.GetFolder("inbox")
		if err != nil {
			t.Fatal(err)
		}
		subs, err := b.FindFolders(f.ID, mbx.Shallow)
		if err != nil || len(subs) != 1 {
			t.Fatalf("FindFolders(inbox) = %v, %v", subs, err)
		}
		if err := b.DeleteFolder(subs[0].ID, mbx.HardDelete); err != nil {
			t.Fatal(err)
		}
		if _, err := b.CreateFolder("msgfolderroot", mbx.NewFolder{DisplayName: "New"}); err != nil {
			t.Fatal(err)
		}
	}()
	r = do(t, s, nil, svcReq(imp(alice), hier("Default", hstate)))
	check(t, r, ok1())
	if !strings.Contains(string(r.body), "<t:Delete><t:FolderId ") || !strings.Contains(string(r.body), "<t:DisplayName>New</t:DisplayName>") {
		t.Errorf("hierarchy net changes lack the Delete of Sub or the Create of New:\n%s", r.body)
	}

	s.mu.RLock()
	goneFolder := mbx.EncodeID(mbx.IDInfo{Kind: mbx.KindFolderID, Mailbox: s.box(s.dir.lookupAddr(alice)).Index(), Num: 999})
	s.mu.RUnlock()
	errs := []struct {
		name string
		body string
		want want
	}{
		{"MaxChangesReturned 0", syncItemsBody("IdOnly", "", "0", ""), faultOf(ews.ErrorSchemaValidation)},
		{"MaxChangesReturned 513", syncItemsBody("IdOnly", "", "513", ""), faultOf(ews.ErrorSchemaValidation)},
		{"MaxChangesReturned missing", `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId></m:SyncFolderItems>`, faultOf(ews.ErrorSchemaValidation)},
		{"bad SyncScope", strings.Replace(syncItemsBody("IdOnly", "", "5", ""), "</m:SyncFolderItems>", "<m:SyncScope>Everything</m:SyncScope></m:SyncFolderItems>", 1), faultOf(ews.ErrorSchemaValidation)},
		{"associated items", strings.Replace(syncItemsBody("IdOnly", "", "5", ""), "</m:SyncFolderItems>", "<m:SyncScope>NormalAndAssociatedItems</m:SyncScope></m:SyncFolderItems>", 1), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidRequest}}},
		{"tampered item state", syncItemsBody("IdOnly", "B"+state[1:], "5", ""), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidSyncStateData}}},
		{"hierarchy state for items", syncItemsBody("IdOnly", hstate, "5", ""), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidSyncStateData}}},
		{"item state for hierarchy", hier("IdOnly", state), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidSyncStateData}}},
		{"folder gone", strings.Replace(syncItemsBody("IdOnly", "", "5", ""), `<t:DistinguishedFolderId Id="inbox"/>`, `<t:FolderId Id="`+goneFolder+`"/>`, 1), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorSyncFolderNotFound}}},
		{"unknown property", strings.Replace(syncItemsBody("IdOnly", "", "5", ""), "</t:BaseShape>", `</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Nonsense"/></t:AdditionalProperties>`, 1), want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidPropertyRequest}}},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, s, nil, svcReq(imp(alice), tc.body))
			check(t, r, tc.want)
			if tc.want.status == 200 && !strings.Contains(string(r.body), "<m:SyncState></m:SyncState>") && !strings.Contains(string(r.body), "<m:SyncState/>") {
				t.Errorf("error response has no empty SyncState:\n%s", r.body)
			}
		})
	}
	// A state of another mailbox is foreign.
	r = do(t, s, nil, svcReq(imp(bob), syncItemsBody("IdOnly", state, "5", "")))
	check(t, r, want{status: 200, classes: []string{"Error"}, codes: []ews.ResponseCode{ews.ErrorInvalidSyncStateData}})
}

// BenchmarkSyncFolderItemsPage measures the fake answering one
// SyncFolderItems page of 512 Create changes (Default shape) over a real
// socket, request to last byte (target: <= 20 ms per page).
func BenchmarkSyncFolderItemsPage(b *testing.B) {
	s := NewServer(b)
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice}); err != nil {
		b.Fatal(err)
	}
	if err := s.AddServiceAccount(testSvc, testPassword, ImpersonateAll()); err != nil {
		b.Fatal(err)
	}
	for i := range 1200 {
		if _, err := s.AddItem(alice, "inbox", Message{Subject: fmt.Sprintf("m%04d", i), From: bob, To: []string{alice}, Body: "hello"}); err != nil {
			b.Fatal(err)
		}
	}
	body := []byte(envelope(version("Exchange2013_SP1")+imp(alice), syncItemsBody("Default", "", "512", "")))
	c := s.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		hr, _ := http.NewRequest(http.MethodPost, s.EWSURL(), bytes.NewReader(body))
		hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
		hr.SetBasicAuth(testSvc, testPassword)
		res, err := c.Do(hr)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || n < 512*100 {
			b.Fatalf("status %d, %d bytes", res.StatusCode, n)
		}
	}
}
