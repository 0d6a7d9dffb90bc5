package ews_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/ews/autodiscover"
	"github.com/sccsync/scc/scctest"
)

// affinityWorld is a fake Exchange over https with two backends, mbx-a
// holding 210 mailboxes (one group of 200 and an overflow group of 10) and
// mbx-b holding 40, the SOAP Autodiscover to find their grouping, and a
// service account that may impersonate them all.
type affinityWorld struct {
	s       *scctest.Server
	hosts   *scctest.Hosts
	httpc   *http.Client
	members map[string]string // address -> backend
}

const affinityEWSURL = "https://mail.contoso.example/EWS/Exchange.asmx"

func newAffinityWorld(t *testing.T) *affinityWorld {
	t.Helper()
	h := scctest.NewTestHosts(t)
	s := h.NewTLSServer(t, []string{"autodiscover.contoso.example", "mail.contoso.example"},
		scctest.WithAuth(scctest.AuthNTLM), scctest.WithBackends("mbx-a", "mbx-b"))
	if err := s.AddServiceAccount(svcLogon, svcPassword, scctest.ImpersonateAll()); err != nil {
		t.Fatal(err)
	}
	s.SetAutodiscoverEWSURL(affinityEWSURL, "")
	w := &affinityWorld{s: s, hosts: h, members: map[string]string{}}
	for i := range 250 {
		addr, backend := fmt.Sprintf("a%03d@contoso.example", i), "mbx-a"
		if i >= 210 {
			addr, backend = fmt.Sprintf("b%03d@contoso.example", i), "mbx-b"
		}
		if _, err := s.AddMailbox(scctest.Mailbox{PrimarySMTP: addr}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMailboxBackend(addr, backend); err != nil {
			t.Fatal(err)
		}
		w.members[addr] = backend
	}
	tr := &http.Transport{DialContext: h.DialContext, TLSClientConfig: h.TLSConfig(), MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	w.httpc = &http.Client{Transport: tr}
	return w
}

func (w *affinityWorld) client(t *testing.T) *ews.Client {
	t.Helper()
	c, err := ews.NewClient(affinityEWSURL, ews.WithHTTPClient(w.httpc), ews.WithNTLM(svcLogon, svcPassword), ews.WithRetryPolicy(fastRetries()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// group is one affinity group of Microsoft's recipe.
type group struct {
	key     string
	members []string
	g       *ews.AffinityGroup
	subs    map[string]string // subscription id -> member
}

// groupsFromAutodiscover builds the groups as Microsoft's recipe says:
// GroupingInformation + ExternalEwsUrl from SOAP Autodiscover, sorted,
// split at 200 (the overflow named key-2, key-3, ...), anchored at the
// alphabetically first member.
func (w *affinityWorld) groupsFromAutodiscover(t *testing.T, ctx context.Context) []*group {
	t.Helper()
	ad, err := autodiscover.New(
		autodiscover.WithCredentials(autodiscover.NTLM(svcLogon, svcPassword)),
		autodiscover.WithDialer(w.hosts.DialContext), autodiscover.WithTLSConfig(w.hosts.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer ad.CloseIdleConnections()
	var addrs []string
	for a := range w.members {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	answers, err := ad.GetUserSettings(ctx, "https://autodiscover.contoso.example/autodiscover/autodiscover.svc", addrs,
		autodiscover.SettingExternalEwsURL, autodiscover.SettingGroupingInformation)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string][]string{}
	var keys []string
	for _, a := range answers {
		if a.Err != nil {
			t.Fatalf("GetUserSettings(%s) = %v", a.Mailbox, a.Err)
		}
		if got, want := a.Settings.GroupingInformation(), w.members[a.Mailbox]; got != want {
			t.Errorf("GroupingInformation(%s) = %q, want its backend %q", a.Mailbox, got, want)
		}
		k := a.Settings.GroupingInformation() + a.Settings.EWSURL()
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], a.Mailbox)
	}
	var out []*group
	for _, k := range keys {
		all := byKey[k]
		slices.Sort(all)
		for i := 0; len(all) > 0; i++ {
			n := min(len(all), ews.MaxStreamingSubscriptions)
			gk := k
			if i > 0 {
				gk = fmt.Sprintf("%s-%d", k, i+1)
			}
			g, err := ews.NewAffinityGroup(all[0])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, &group{key: gk, members: all[:n], g: g, subs: map[string]string{}})
			all = all[n:]
		}
	}
	return out
}

// subscribe subscribes every member of gr, impersonating the member, as
// part of the group.
func (gr *group) subscribe(t *testing.T, ctx context.Context, c *ews.Client) {
	t.Helper()
	ids := make([]string, len(gr.members))
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(8)
	for i, m := range gr.members {
		eg.Go(func() error {
			sub, err := c.SubscribeStreaming(ectx, &ews.StreamingSubscriptionRequest{SubscriptionScope: ews.SubscriptionScope{
				AllFolders: true, EventTypes: []ews.EventType{ews.EventNewMail}}},
				ews.Impersonate(ews.PrimarySmtpAddress(m)), ews.Affinity(gr.g))
			if err != nil {
				return fmt.Errorf("SubscribeStreaming(%s) = %w", m, err)
			}
			ids[i] = sub.ID
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		gr.subs[id] = gr.members[i]
	}
}

func (gr *group) ids() []string {
	var out []string
	for id := range gr.subs {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// TestAffinityGroupsEndToEnd follows Microsoft's affinity recipe against
// the fake over real sockets: Autodiscover gives each mailbox's
// GroupingInformation, the groups (at most 200 each) subscribe with
// Affinity, each group's one GetStreamingEvents connection (impersonating
// its anchor, with the group's cookie) delivers every member's events.
// Without the group's cookie and anchor, the same stream lands on another
// backend and fails with ErrorSubscriptionNotFound naming the
// subscriptions.
func TestAffinityGroupsEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := newAffinityWorld(t)
	c := w.client(t)
	groups := w.groupsFromAutodiscover(t, ctx)
	var sizes []string
	for _, gr := range groups {
		sizes = append(sizes, fmt.Sprintf("%s:%d", gr.key[:5], len(gr.members)))
	}
	if want := []string{"mbx-a:200", "mbx-a:10", "mbx-b:40"}; !slices.Equal(sizes, want) {
		t.Fatalf("groups = %v, want %v", sizes, want)
	}
	for _, gr := range groups {
		gr.subscribe(t, ctx, c)
		backend := w.members[gr.g.Anchor()]
		want, err := w.s.AffinityCookie(backend)
		if err != nil {
			t.Fatal(err)
		}
		if got := gr.g.Cookie(); got != want {
			t.Errorf("group %s cookie = %q, want the one of %s (%q)", gr.key, got, backend, want)
		}
	}

	// One connection per group, impersonating its anchor.
	type opened struct {
		gr *group
		st *ews.EventStream
	}
	var streams []opened
	for _, gr := range groups {
		st, err := c.GetStreamingEvents(ctx, &ews.GetStreamingEventsRequest{SubscriptionIDs: gr.ids(), ConnectionTimeout: 5 * time.Minute},
			ews.Impersonate(ews.PrimarySmtpAddress(gr.g.Anchor())), ews.Affinity(gr.g))
		if err != nil {
			t.Fatalf("GetStreamingEvents(group %s) = %v", gr.key, err)
		}
		defer st.Close()
		m, err := st.Next()
		if err != nil || m.Err != nil || m.ConnectionStatus != ews.ConnectionOK {
			t.Fatalf("group %s first message = %+v, %v; want ConnectionStatus OK", gr.key, m, err)
		}
		streams = append(streams, opened{gr, st})
	}
	for addr := range w.members {
		if _, err := w.s.DeliverMail(addr, "inbox", scctest.Message{Subject: "hello " + addr}); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range streams {
		missing := idSet(o.gr.subs)
		for len(missing) > 0 {
			m, err := o.st.Next()
			if err != nil {
				t.Fatalf("group %s: Next() = %v with %d members still without their NewMailEvent", o.gr.key, err, len(missing))
			}
			if m.Err != nil {
				t.Fatalf("group %s: stream error %v", o.gr.key, m.Err)
			}
			for _, n := range m.Notifications {
				for _, e := range n.Events {
					if e.Type == ews.EventNewMail {
						delete(missing, n.SubscriptionID)
					}
				}
			}
		}
	}

	// The b group's subscriptions asked for from mbx-a's backend: once
	// without any affinity (impersonating a's anchor, which also sets
	// X-AnchorMailbox to it), once with a's group (its cookie).
	a, b := groups[0], groups[2]
	for name, opts := range map[string][]ews.CallOption{
		"no affinity":     {ews.Impersonate(ews.PrimarySmtpAddress(a.g.Anchor()))},
		"the wrong group": {ews.Impersonate(ews.PrimarySmtpAddress(b.g.Anchor())), ews.Affinity(a.g)},
	} {
		t.Run(name, func(t *testing.T) {
			st, err := c.GetStreamingEvents(ctx, &ews.GetStreamingEventsRequest{SubscriptionIDs: b.ids(), ConnectionTimeout: time.Minute}, opts...)
			if err != nil {
				t.Fatalf("GetStreamingEvents = %v, want a stream carrying the error", err)
			}
			defer st.Close()
			m, err := st.Next()
			if err != nil {
				t.Fatalf("Next() = %v", err)
			}
			var se *ews.SubscriptionError
			if !errors.As(m.Err, &se) || !errors.Is(m.Err, ews.ErrorSubscriptionNotFound) {
				t.Fatalf("stream message error = %v, want a *SubscriptionError with ErrorSubscriptionNotFound", m.Err)
			}
			if got := slices.Sorted(slices.Values(se.SubscriptionIDs)); !slices.Equal(got, b.ids()) {
				t.Errorf("SubscriptionIDs = %d ids, want the group's %d", len(got), len(b.ids()))
			}
		})
	}
}

// TestAffinityAnchorMoves: after a group's anchor moves to another
// backend, the group's cookie still routes to the backend holding its
// subscriptions (EWS-FACTS-SYNC §10), while a new group anchored there
// without the cookie lands on the anchor's new backend and finds nothing.
func TestAffinityAnchorMoves(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := newAffinityWorld(t)
	c := w.client(t)
	gr := &group{members: []string{"a000@contoso.example", "a001@contoso.example"}, subs: map[string]string{}}
	var err error
	if gr.g, err = ews.NewAffinityGroup(gr.members[0]); err != nil {
		t.Fatal(err)
	}
	gr.subscribe(t, ctx, c)
	if err := w.s.SetMailboxBackend(gr.members[0], "mbx-b"); err != nil {
		t.Fatal(err)
	}
	open := func(g *ews.AffinityGroup) *ews.StreamMessage {
		st, err := c.GetStreamingEvents(ctx, &ews.GetStreamingEventsRequest{SubscriptionIDs: gr.ids(), ConnectionTimeout: time.Minute},
			ews.Impersonate(ews.PrimarySmtpAddress(gr.members[0])), ews.Affinity(g))
		if err != nil {
			t.Fatalf("GetStreamingEvents = %v", err)
		}
		defer st.Close()
		m, err := st.Next()
		if err != nil {
			t.Fatalf("Next() = %v", err)
		}
		return m
	}
	if m := open(gr.g); m.Err != nil || m.ConnectionStatus != ews.ConnectionOK {
		t.Errorf("with the group's cookie: %+v, want ConnectionStatus OK", m)
	}
	fresh, err := ews.NewAffinityGroup(gr.members[0])
	if err != nil {
		t.Fatal(err)
	}
	if m := open(fresh); !errors.Is(m.Err, ews.ErrorSubscriptionNotFound) {
		t.Errorf("a new group (no cookie) after the move: error %v, want ErrorSubscriptionNotFound", m.Err)
	}
	if want, _ := w.s.AffinityCookie("mbx-b"); fresh.Cookie() != want {
		t.Errorf("new group cookie = %q, want mbx-b's %q", fresh.Cookie(), want)
	}
}

func idSet(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
