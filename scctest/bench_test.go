package scctest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// BenchmarkGetFolder compares an impersonated GetFolder (Basic auth) served
// by the fake with a bare net/http handler that returns a fixed body of the
// same size, side by side: the ratio of their ns/op is the fake's relative
// throughput (target: the fake reaches >= 50% of the bare handler's
// requests/s).
func BenchmarkGetFolder(b *testing.B) {
	body := envelope(version("Exchange2013_SP1")+imp(alice), getInbox)
	run := func(b *testing.B, url string, c *http.Client) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				hr, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
				hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
				hr.SetBasicAuth(testSvc, testPassword)
				res, err := c.Do(hr)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
	}
	s := NewServer(b)
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice}); err != nil {
		b.Fatal(err)
	}
	if err := s.AddServiceAccount(testSvc, testPassword, ImpersonateAll()); err != nil {
		b.Fatal(err)
	}
	sample := do(b, s, nil, req{user: testSvc, pass: testPassword, body: body})
	fixed := sample.body
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(fixed)))
		_, _ = w.Write(fixed)
	}))
	b.Cleanup(bare.Close)
	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	}
	b.Run("bare", func(b *testing.B) { run(b, bare.URL+EWSPath, client()) })
	b.Run("fake", func(b *testing.B) { run(b, s.EWSURL(), client()) })
	s.ResetRequests() // the log grows with b.N; keep memory flat between runs
}

// loadDirectory builds a server with n mailboxes of k inbox items each.
func loadDirectory(tb testing.TB, n, k int) *Server {
	s, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		addr := fmt.Sprintf("user%d@contoso.example", i)
		if _, err := s.AddMailbox(Mailbox{PrimarySMTP: addr}); err != nil {
			tb.Fatal(err)
		}
		for j := range k {
			m := Message{Subject: fmt.Sprintf("Message %d for user %d", j, i), Body: "Hello, this is a short test body.", From: "sender@example.org", To: []string{addr}}
			if _, err := s.AddItem(addr, "inbox", m); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return s
}

// heapAfterGC returns the live heap after a full collection.
func heapAfterGC() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// BenchmarkDirectoryMemory loads 10,000 mailboxes with 10 items each and
// reports the live heap they take after GC (target: <= 200 MB).
func BenchmarkDirectoryMemory(b *testing.B) {
	var mb float64
	for range b.N {
		before := heapAfterGC()
		s := loadDirectory(b, 10000, 10)
		after := heapAfterGC()
		mb = float64(after-before) / (1 << 20)
		runtime.KeepAlive(s)
		s.Close()
	}
	b.ReportMetric(mb, "MB-live-heap")
}

// BenchmarkMailboxesMemory100k adds 100,000 mailboxes without items (the
// directory of examples/checkaccess -demo -users 100000) and reports the
// live heap they take after GC.
func BenchmarkMailboxesMemory100k(b *testing.B) {
	var mb float64
	for range b.N {
		before := heapAfterGC()
		s := loadDirectory(b, 100000, 0)
		after := heapAfterGC()
		mb = float64(after-before) / (1 << 20)
		runtime.KeepAlive(s)
		s.Close()
	}
	b.ReportMetric(mb, "MB-live-heap")
}

// TestDirectoryMemory logs (does not assert) the same number once.
func TestDirectoryMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100,000 items")
	}
	before := heapAfterGC()
	s := loadDirectory(t, 10000, 10)
	after := heapAfterGC()
	mb := float64(after-before) / (1 << 20)
	t.Logf("10,000 mailboxes x 10 items: %.1f MB live heap after GC", mb)
	// The budget of issue 3. A live heap after two collections is not a
	// timing: it only grows if the directory's representation does.
	if mb > 200 {
		t.Errorf("10,000 mailboxes x 10 items take %.1f MB of live heap, want at most 200 MB", mb)
	}
	for _, addr := range []string{"user0@contoso.example", "user9999@contoso.example"} {
		if items, err := s.Items(addr, "inbox"); err != nil || len(items) != 10 {
			t.Errorf("Items(%s, inbox) = %d items, %v; want the 10 loaded", addr, len(items), err)
		}
	}
	runtime.KeepAlive(s)
	s.Close()
}

// BenchmarkFindItemExtendedProperty answers a FindItem with an IsEqualTo
// restriction on an extended property over a 10,000-item folder, through
// HTTP (target: <= 10 ms per request).
func BenchmarkFindItemExtendedProperty(b *testing.B) {
	s := NewServer(b)
	if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice}); err != nil {
		b.Fatal(err)
	}
	if err := s.AddServiceAccount(testSvc, testPassword, ImpersonateAll()); err != nil {
		b.Fatal(err)
	}
	s.mu.RLock()
	box := s.box(s.dir.lookupAddr(alice))
	s.mu.RUnlock()
	uri := mbx.ExtendedFieldURI{PropertySetID: "c11ff724-aa03-4555-9952-8fa248a11c3e", PropertyName: "Project", Type: mbx.PTString}
	for i := range 10000 {
		it := mbx.Item{Kind: mbx.Message, Subject: fmt.Sprintf("item %d", i), Extended: []mbx.ExtendedProperty{{URI: uri, Values: []string{fmt.Sprintf("P%d", i%500)}}}}
		if _, err := box.CreateItem("inbox", it); err != nil {
			b.Fatal(err)
		}
	}
	body := envelope(version("Exchange2013_SP1")+imp(alice), `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>`+
		`<m:Restriction><t:IsEqualTo><t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="Project" PropertyType="String"/>`+
		`<t:FieldURIOrConstant><t:Constant Value="P7"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>`+
		`<m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`)
	r := do(b, s, nil, req{user: testSvc, pass: testPassword, body: body})
	if n := strings.Count(string(r.body), "<t:ItemId "); n != 20 {
		b.Fatalf("FindItem found %d items, want 20", n)
	}
	c := s.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		hr, _ := http.NewRequest(http.MethodPost, s.EWSURL(), strings.NewReader(body))
		hr.Header.Set("Content-Type", "text/xml; charset=utf-8")
		hr.SetBasicAuth(testSvc, testPassword)
		res, err := c.Do(hr)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	b.StopTimer()
	s.ResetRequests()
}

// BenchmarkMessageMemory stores 10,000 messages with a 1 KB body in one
// mailbox through the seeding API and reports the live heap per message
// (target: <= 3 KB). Every body is its own 1,024-byte string.
func BenchmarkMessageMemory(b *testing.B) {
	body := strings.Repeat("0123456789abcdef", 64)
	var per float64
	for range b.N {
		s, err := New()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.AddMailbox(Mailbox{PrimarySMTP: alice}); err != nil {
			b.Fatal(err)
		}
		before := heapAfterGC()
		for i := range 10000 {
			if _, err := s.AddItem(alice, "inbox", Message{Subject: fmt.Sprintf("Message %d", i), Body: fmt.Sprintf("%05d", i) + body[5:], From: "sender@example.org", To: []string{alice}}); err != nil {
				b.Fatal(err)
			}
		}
		after := heapAfterGC()
		per = float64(after-before) / 10000
		runtime.KeepAlive(s)
		s.Close()
	}
	b.ReportMetric(per, "B-per-message")
}
