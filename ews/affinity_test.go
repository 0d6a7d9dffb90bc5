package ews_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sccsync/scc/ews"
)

// backends is a test server with several mailbox "backends", as Exchange
// Online has: a request goes to the backend its X-BackEndOverrideCookie
// names, else to the one of its X-AnchorMailbox. Subscriptions live on the
// backend that created them; a request that lands elsewhere gets
// ErrorSubscriptionNotFound. A request with X-PreferServerAffinity and no
// cookie gets one (EWS-FACTS-SYNC §10).
type backends struct {
	t    *testing.T
	mu   sync.Mutex
	subs map[string]string // subscription id -> backend
	n    int
	seen []http.Header
}

func newBackends(t *testing.T) (*backends, *fakeEWS) {
	b := &backends{t: t, subs: map[string]string{}}
	f := newFakeEWS(t, b.serve)
	return b, f
}

func (b *backends) serve(w http.ResponseWriter, r *http.Request, _ int) {
	body, _ := io.ReadAll(r.Body)
	s := string(body)
	backend := "be-" + r.Header.Get("X-Anchormailbox")
	hasCookie := false
	if c, err := r.Cookie(ews.BackEndOverrideCookie); err == nil {
		backend, _, _ = strings.Cut(c.Value, "~")
		hasCookie = true
	}
	b.mu.Lock()
	b.seen = append(b.seen, r.Header.Clone())
	b.mu.Unlock()
	if r.Header.Get("X-Preferserveraffinity") == "true" && !hasCookie {
		w.Header().Add("Set-Cookie", ews.BackEndOverrideCookie+"="+backend+"~1941996295; path=/; secure; HttpOnly")
	}
	known := func(id string) bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.subs[id] == backend
	}
	between := func(from, to string) string {
		_, rest, _ := strings.Cut(s, from)
		v, _, _ := strings.Cut(rest, to)
		return v
	}
	reply := func(file string, repl ...string) {
		soapReply(200, []byte(strings.NewReplacer(repl...).Replace(string(readTestdata(b.t, "responses/"+file)))))(w, r, 0)
	}
	switch {
	case strings.Contains(s, "<m:Subscribe>"):
		b.mu.Lock()
		b.n++
		id := fmt.Sprintf("sub-%d", b.n)
		b.subs[id] = backend
		b.mu.Unlock()
		reply("subscribe-streaming.xml", "JgBibjFwcjAzLnByb2Qub3V0bG9vay5jb20QAAAA", id)
	case strings.Contains(s, "<m:GetEvents>"):
		id := between("<m:SubscriptionId>", "<")
		if !known(id) {
			reply("getevents-ErrorSubscriptionNotFound.xml")
			return
		}
		reply("getevents-status.xml", "39ea5d0f-f062-455e-a1e9-89c0304390f4", id)
	case strings.Contains(s, "<m:GetStreamingEvents>"):
		for _, part := range strings.Split(s, "<t:SubscriptionId>")[1:] {
			id, _, _ := strings.Cut(part, "<")
			if !known(id) {
				reply("getstreamingevents-ErrorSubscriptionNotFound.xml", "JgBibjFwcjA0", id)
				return
			}
		}
		reply("getstreamingevents-closed.xml")
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func (b *backends) headers() []http.Header {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]http.Header(nil), b.seen...)
}

func streamOne(t *testing.T, c *ews.Client, ids []string, opts ...ews.CallOption) *ews.StreamMessage {
	t.Helper()
	s, err := c.GetStreamingEvents(context.Background(), &ews.GetStreamingEventsRequest{SubscriptionIDs: ids}, opts...)
	if err != nil {
		t.Fatalf("GetStreamingEvents = %v", err)
	}
	defer s.Close()
	m, err := s.Next()
	if err != nil {
		t.Fatalf("Next() = %v", err)
	}
	return m
}

// TestAffinityGroupRoutesNotifications follows Microsoft's recipe: members
// of a group subscribe impersonating themselves with the group's anchor and
// cookie, and the group's stream (impersonating the anchor) finds every
// subscription; without the group, a member's request lands on another
// backend and gets ErrorSubscriptionNotFound.
func TestAffinityGroupRoutesNotifications(t *testing.T) {
	b, f := newBackends(t)
	c := newClient(t, f)
	ctx := context.Background()
	g, err := ews.NewAffinityGroup("alfred@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	scope := ews.SubscriptionScope{AllFolders: true, EventTypes: ews.AllEventTypes()}
	var ids []string
	for _, member := range []string{"alfred@contoso.com", "alisa@contoso.com", "ronnie@contoso.com"} {
		s, err := c.SubscribeStreaming(ctx, &ews.StreamingSubscriptionRequest{SubscriptionScope: scope},
			ews.Impersonate(ews.PrimarySmtpAddress(member)), ews.Affinity(g))
		if err != nil {
			t.Fatalf("SubscribeStreaming(%s) = %v", member, err)
		}
		ids = append(ids, s.ID)
	}
	if got := g.Cookie(); got != "be-alfred@contoso.com~1941996295" {
		t.Errorf("Cookie() = %q, want the one the first Subscribe set", got)
	}
	hs := b.headers()
	for i, h := range hs {
		if h.Get("X-Anchormailbox") != "alfred@contoso.com" || h.Get("X-Preferserveraffinity") != "true" {
			t.Errorf("request %d: X-AnchorMailbox %q, X-PreferServerAffinity %q; want the anchor and true", i, h.Get("X-Anchormailbox"), h.Get("X-Preferserveraffinity"))
		}
		wantCookie := ""
		if i > 0 {
			wantCookie = ews.BackEndOverrideCookie + "=be-alfred@contoso.com~1941996295"
		}
		if got := h.Get("Cookie"); got != wantCookie {
			t.Errorf("request %d: Cookie %q, want %q", i, got, wantCookie)
		}
	}

	anchor := ews.Impersonate(ews.PrimarySmtpAddress(g.Anchor()))
	if m := streamOne(t, c, ids, anchor, ews.Affinity(g)); m.Err != nil || m.ConnectionStatus != ews.ConnectionClosed {
		t.Errorf("group stream = %+v, want Closed without error", m)
	}
	if got := b.headers()[len(hs)].Get("Cookie"); !strings.Contains(got, "be-alfred@contoso.com") {
		t.Errorf("GetStreamingEvents Cookie = %q, want the group's", got)
	}

	// Without the group, alisa's own anchor routes elsewhere.
	m := streamOne(t, c, ids[1:2], ews.Impersonate(ews.PrimarySmtpAddress("alisa@contoso.com")))
	if !errors.Is(m.Err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("stream without affinity = %v, want ErrorSubscriptionNotFound", m.Err)
	}
	_, err = c.GetEvents(ctx, ids[1], "AAAA", ews.Impersonate(ews.PrimarySmtpAddress("alisa@contoso.com")))
	if !errors.Is(err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("GetEvents without affinity = %v, want ErrorSubscriptionNotFound", err)
	}
}

// TestAffinityGroupsDoNotMix: two groups on one Client keep their own
// cookies.
func TestAffinityGroupsDoNotMix(t *testing.T) {
	b, f := newBackends(t)
	c := newClient(t, f)
	ctx := context.Background()
	scope := ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventNewMail}}
	groups := map[string]*ews.AffinityGroup{}
	subs := map[string]string{}
	for _, anchor := range []string{"alfred@contoso.com", "zoe@fabrikam.example"} {
		g, err := ews.NewAffinityGroup(anchor)
		if err != nil {
			t.Fatal(err)
		}
		groups[anchor] = g
		for i := 0; i < 2; i++ {
			s, err := c.SubscribeStreaming(ctx, &ews.StreamingSubscriptionRequest{SubscriptionScope: scope}, ews.Affinity(g))
			if err != nil {
				t.Fatal(err)
			}
			subs[s.ID] = anchor
		}
	}
	got := map[string]string{}
	for anchor, g := range groups {
		got[anchor] = g.Cookie()
	}
	want := map[string]string{"alfred@contoso.com": "be-alfred@contoso.com~1941996295", "zoe@fabrikam.example": "be-zoe@fabrikam.example~1941996295"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("group cookies (-want +got):\n%s", diff)
	}
	for id, anchor := range subs {
		n, err := c.GetEvents(ctx, id, "AAAA", ews.Affinity(groups[anchor]))
		if err != nil || n.SubscriptionID != id {
			t.Errorf("GetEvents(%s) in its group = %v, %v", id, n, err)
		}
	}
	if n := len(b.headers()); n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
}

// TestAffinityFirstRequestAlone: concurrent first Subscribes of a new group
// go one at a time until the cookie is known, so exactly one request picks
// the backend.
func TestAffinityFirstRequestAlone(t *testing.T) {
	b, f := newBackends(t)
	c := newClient(t, f)
	g, err := ews.NewAffinityGroup("alfred@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := c.SubscribeStreaming(context.Background(), &ews.StreamingSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{
				AllFolders: true, EventTypes: []ews.EventType{ews.EventNewMail}}},
				ews.Impersonate(ews.PrimarySmtpAddress(fmt.Sprintf("user%02d@contoso.com", i))), ews.Affinity(g))
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	without := 0
	for _, h := range b.headers() {
		if h.Get("Cookie") == "" {
			without++
		}
	}
	if without != 1 {
		t.Errorf("%d of 20 concurrent Subscribes went without the cookie, want 1", without)
	}
}

// TestAffinityWaitHonoursContext: a request waiting for the group's first
// request gives up when its context ends.
func TestAffinityWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	f := newFakeEWS(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			entered <- struct{}{}
			<-release
		}
		soapReply(200, readTestdata(t, "responses/subscribe-streaming.xml"))(w, r, n)
	})
	c := newClient(t, f)
	g, _ := ews.NewAffinityGroup("alfred@contoso.com")
	req := &ews.StreamingSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{AllFolders: true, EventTypes: []ews.EventType{ews.EventNewMail}}}
	first := make(chan error)
	go func() {
		_, err := c.SubscribeStreaming(context.Background(), req, ews.Affinity(g))
		first <- err
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.SubscribeStreaming(ctx, req, ews.Affinity(g))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("second Subscribe with a cancelled context = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first Subscribe = %v", err)
	}
}

func TestAffinityRefused(t *testing.T) {
	g, err := ews.NewAffinityGroup("alfred@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "alfred", "a b@contoso.com"} {
		if _, err := ews.NewAffinityGroup(bad); !errors.Is(err, ews.ErrInvalidRequest) {
			t.Errorf("NewAffinityGroup(%q) = %v, want ErrInvalidRequest", bad, err)
		}
	}
	f := newFakeEWS(t, soapReply(500, nil))
	c := newClient(t, f)
	ctx := context.Background()
	_, err = c.Folder(ctx, ews.DistinguishedFolder(ews.FolderInbox), ews.Affinity(g))
	if !errors.Is(err, ews.ErrInvalidRequest) || !strings.Contains(err.Error(), "Affinity applies to Subscribe") {
		t.Errorf("GetFolder with Affinity = %v, want ErrInvalidRequest", err)
	}
	_, err = c.SyncFolderItems(ctx, &ews.SyncFolderItemsRequest{FolderID: ews.DistinguishedFolder(ews.FolderInbox)}, ews.Affinity(g))
	if !errors.Is(err, ews.ErrInvalidRequest) {
		t.Errorf("SyncFolderItems with Affinity = %v, want ErrInvalidRequest", err)
	}
	if err := c.Unsubscribe(ctx, "x", ews.Affinity(nil)); !errors.Is(err, ews.ErrInvalidRequest) {
		t.Errorf("Unsubscribe with Affinity(nil) = %v, want ErrInvalidRequest", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("sent %d requests, want 0", n)
	}
}
