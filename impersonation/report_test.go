package impersonation

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/scctest"
)

func sampleReport() *Report {
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	rs := []Result{
		{Index: 0, Address: "zoe@contoso.example", IdentityKind: "PrimarySmtpAddress", Identity: "zoe@contoso.example",
			Status: StatusOK, Attempts: 1, Duration: 12 * time.Millisecond, CheckedAt: t0.Add(time.Second)},
		{Index: 1, Address: "bob@contoso.example", IdentityKind: "PrincipalName", Identity: "bob@corp.contoso.example",
			Status: StatusOutOfScope, Code: ews.ErrorImpersonateUserDenied,
			Message:     "The account does not have permission to impersonate the requested user.",
			Remediation: "add to scope", Attempts: 1, Duration: 3 * time.Millisecond, CheckedAt: t0.Add(time.Second)},
		{Index: 2, Address: "=cmd@contoso.example", Status: StatusNoMailbox, Code: ews.ErrorNonExistentMailbox,
			Message: "The SMTP address has no mailbox associated with it.\nline two", Remediation: "use primary",
			Attempts: 1, CheckedAt: t0.Add(time.Second)},
		{Index: 3, Address: "amy@contoso.example", Status: StatusOK, Attempts: 2, WriteProbe: WriteProbePassed,
			CheckedAt: t0.Add(time.Second)},
		{Index: 4, Address: "al@contoso.example", Status: StatusNotChecked, Message: "cancelled"},
	}
	sortResults(rs)
	return &Report{
		Endpoint: "https://mail.contoso.example/EWS/Exchange.asmx", ServiceAccount: `CONTOSO\svc-sync`,
		ServerVersion: "15.2.1544.4", Started: t0, Finished: t0.Add(2 * time.Second), Total: len(rs),
		Counts: countResults(rs), Preflight: &Preflight{Status: StatusOK, Duration: time.Millisecond},
		Results: rs,
	}
}

func TestSortResults(t *testing.T) {
	r := sampleReport()
	var got []int
	for _, res := range r.Results {
		got = append(got, res.Index)
	}
	// out-of-scope, no-mailbox, not-checked, then OK by address.
	want := []int{1, 2, 4, 3, 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sorted indexes (-want +got):\n%s", diff)
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatalf("WriteTable() = %v", err)
	}
	out := buf.String()
	for _, want := range []string{
		"STATUS", "out-of-scope", "bob@contoso.example (bob@corp.contoso.example)", "ErrorImpersonateUserDenied",
		"Checked 4 of 5 users", "Exchange 15.2.1544.4", "What to do:", "[out-of-scope ×1] add to scope",
		"write probe passed", "Retried 1 users (1 extra requests)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteTable() output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "associated with it.\nline two") {
		t.Errorf("WriteTable() kept a newline inside a cell:\n%s", out)
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	r := sampleReport()
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatalf("WriteCSV() = %v", err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("reading WriteCSV output: %v", err)
	}
	if len(rows) != len(r.Results)+1 {
		t.Fatalf("WriteCSV() wrote %d rows, want %d", len(rows), len(r.Results)+1)
	}
	if diff := cmp.Diff(csvHeader, rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	// Row 2 is the no-mailbox result whose address starts with '='.
	if got, want := rows[2][1], "'=cmd@contoso.example"; got != want {
		t.Errorf("CSV address cell = %q, want %q (formula defused)", got, want)
	}
	if got, want := rows[2][6], "The SMTP address has no mailbox associated with it.\nline two"; got != want {
		t.Errorf("CSV message cell = %q, want %q (verbatim)", got, want)
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	r := sampleReport()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal(report) = %v", err)
	}
	for _, want := range []string{`"status":"out-of-scope"`, `"counts":{`, `"duration_ms":12`, `"server_version":"15.2.1544.4"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal = %v", err)
	}
	if diff := cmp.Diff(r, &back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestCSVSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""}, {"alice@x", "alice@x"}, {"=1+2", "'=1+2"}, {"+cmd", "'+cmd"}, {"-12.5", "-12.5"}, {"@SUM(A1)", "'@SUM(A1)"},
	}
	for _, tt := range tests {
		if got := csvSafe(tt.in); got != tt.want {
			t.Errorf("csvSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestInInputOrder: whatever order the users finish in (here the reverse
// of the input, forced by the fake server) and however the report sorts
// them, InInputOrder gives result i for user i.
func TestInInputOrder(t *testing.T) {
	f := newFake(t, scctest.ImpersonateAll())
	users := f.addMailboxes(t, 6)
	// Addresses out of alphabetical order, and one failure, so that the
	// sorted Results differ from the input order.
	users[1].PrimarySMTP = "zz-missing@contoso.example"
	users[0], users[5] = users[5], users[0]
	// Each existing mailbox waits until the next one in the input has been
	// answered, so the last input user completes first. (The missing
	// mailbox fails before the reactor, at once.)
	var chain []string
	for i, u := range users {
		if i != 1 {
			chain = append(chain, strings.ToLower(u.PrimarySMTP))
		}
	}
	var mu sync.Mutex
	closed := map[string]bool{}
	order := map[string]chan struct{}{}
	next := map[string]string{}
	for i, a := range chain {
		order[a] = make(chan struct{})
		if i+1 < len(chain) {
			next[a] = chain[i+1]
		}
	}
	f.srv.React("GetFolder", "", func(c scctest.Call) scctest.Reaction {
		if !c.Impersonated {
			return scctest.Reaction{}
		}
		a := strings.ToLower(c.Mailbox)
		if n, ok := next[a]; ok {
			<-order[n] // order is only read once built
		}
		mu.Lock()
		if !closed[a] {
			closed[a] = true
			close(order[a])
		}
		mu.Unlock()
		return scctest.Reaction{}
	})
	rep, _ := CheckUsers(context.Background(), f.cfg, users, f.options(WithConcurrency(len(users)))...)
	assertOneResultPerUser(t, rep, users)
	got := rep.InInputOrder()
	for i, res := range got {
		if res.Index != i || res.Address != users[i].PrimarySMTP {
			t.Errorf("InInputOrder()[%d] = index %d %s, want index %d %s", i, res.Index, res.Address, i, users[i].PrimarySMTP)
		}
	}
	if rep.Results[0].Index == 0 {
		t.Errorf("Report.Results[0] is input user 0; want the sorted order (problems first) to differ from input order for this test")
	}
}
