package mailbox

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMessageMemory holds the budget: at most 3 KB per stored
// message with a 1 KB body (change log entry included).
func TestMessageMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 10,000 messages")
	}
	const n = 10000
	m := newMailbox(t)
	m.GetFolder("inbox") // the standard folders are not the messages' cost
	before := heap()
	for i := 0; i < n; i++ {
		// Every message has its own body bytes, as messages from the
		// wire do.
		body := fmt.Sprintf("%05d", i) + strings.Repeat("x", 1024-5)
		_, err := m.CreateItem("inbox", Item{
			Subject: fmt.Sprintf("Message %05d", i), Body: Body{Content: body},
			From: &Address{Name: "Bob", Email: "bob@fabrikam.example"},
			To:   []Address{{Name: "Alice", Email: "alice@contoso.example"}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	per := float64(heap()-before) / n
	t.Logf("%.0f bytes per message with a 1 KB body", per)
	if per > 3072 {
		t.Errorf("%.0f bytes per message, want at most 3072", per)
	}
	runtime.KeepAlive(m)
}

// TestMailboxesAreCheap: 10,000 mailboxes that were never touched cost
// only their directory entry.
func TestMailboxesAreCheap(t *testing.T) {
	const n = 10000
	s := newStore(t, Options{})
	before := heap()
	for i := 0; i < n; i++ {
		s.Mailbox(fmt.Sprintf("user%05d@contoso.example", i))
	}
	per := float64(heap()-before) / n
	t.Logf("%.0f bytes per untouched mailbox", per)
	if per > 512 {
		t.Errorf("%.0f bytes per untouched mailbox, want at most 512", per)
	}
	runtime.KeepAlive(s)
}

func BenchmarkCreateMessage(b *testing.B) {
	m := newMailbox(b)
	body := strings.Repeat("x", 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.CreateItem("inbox", Item{Subject: "s", Body: Body{Content: body}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTouchMailbox(b *testing.B) {
	s := newStore(b, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Mailbox(fmt.Sprint("u", i, "@x.example")).GetFolder("inbox"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkItemChanges(b *testing.B) {
	m := newMailbox(b)
	for i := 0; i < 10000; i++ {
		mustItem(b, m, "inbox", Item{Subject: "s"})
	}
	point := m.Seq()
	res, _ := m.FindItems("inbox", Query{Max: 100})
	for _, it := range res.Items {
		m.SetIsRead(it.ID, true)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch, _, _, err := m.ItemChanges("inbox", point, 512)
		if err != nil || len(ch) != 100 {
			b.Fatalf("ItemChanges = %d, %v", len(ch), err)
		}
	}
}
