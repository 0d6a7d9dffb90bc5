package mailbox

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// testClock advances one second per reading, so every write has its own
// time.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newStore(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Now == nil {
		c := &testClock{t: time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)}
		opts.Now = c.now
	}
	s, err := NewStore(opts)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func newMailbox(t testing.TB) *Mailbox {
	t.Helper()
	return newStore(t, Options{}).Mailbox("alice@contoso.example")
}

func mustFolder(t testing.TB, m *Mailbox, parent string, nf NewFolder) Folder {
	t.Helper()
	f, err := m.CreateFolder(parent, nf)
	if err != nil {
		t.Fatalf("CreateFolder(%s, %q): %v", parent, nf.DisplayName, err)
	}
	return f
}

func mustItem(t testing.TB, m *Mailbox, folder string, it Item) Item {
	t.Helper()
	out, err := m.CreateItem(folder, it)
	if err != nil {
		t.Fatalf("CreateItem(%s, %q): %v", folder, it.Subject, err)
	}
	return out
}

func wantErr(t testing.TB, what string, err error, want *Error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s = %v, want success", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s = %v, want %s", what, err, want.Code)
	}
}
