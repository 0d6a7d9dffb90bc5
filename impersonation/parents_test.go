package impersonation

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sccsync/scc/ews"
)

// folderIDsAsked counts, per anchor mailbox, the folder ids (plain and
// distinguished) of the GetFolder requests that pass through it.
type folderIDsAsked struct {
	mu sync.Mutex
	n  map[string][]int
}

func (c *folderIDsAsked) middleware(next http.RoundTripper) http.RoundTripper {
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			body, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return nil, err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if s := string(body); strings.Contains(s, "<m:GetFolder>") {
				ids := strings.Count(s, "<t:FolderId ") + strings.Count(s, "<t:DistinguishedFolderId ")
				c.mu.Lock()
				if c.n == nil {
					c.n = map[string][]int{}
				}
				a := r.Header.Get("X-AnchorMailbox")
				c.n[a] = append(c.n[a], ids)
				c.mu.Unlock()
			}
		}
		return next.RoundTrip(r)
	})
}

// take returns the counts so far and starts over.
func (c *folderIDsAsked) take() map[string][]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	return n
}

// TestActivateRecordsParentFolders: activation records the ids of the
// plan's parent folders, so that a run after it asks for the inbox and the
// three plan folders (4 ids) instead of also the three parents (7); a
// record without them (written before they were kept) costs the 7 once
// and is completed; a recorded parent id that no longer matches costs a
// lookup by name (no write, no second folder) and is read anew next time.
func TestActivateRecordsParentFolders(t *testing.T) {
	ctx := context.Background()
	const n = 3
	f, store, o, viewOf := activatedFixture(t, n)
	plan := o.Provisioning
	parents := map[string]string{}
	for _, name := range []string{"contacts", "tasks", "msgfolderroot"} {
		resp, err := viewOf(o.Users[0].PrimarySMTP).GetFolder(ctx, &ews.GetFolderRequest{
			FolderIDs: []ews.FolderID{ews.DistinguishedFolder(ews.DistinguishedFolderName(name))}, Shape: ews.ShapeIDOnly})
		if err != nil || resp.Results[0].Err != nil {
			t.Fatalf("GetFolder(%s) = %v, %v", name, resp, err)
		}
		parents[name] = resp.Results[0].Folder.FolderID.ID
	}
	if diff := cmp.Diff(parents, o.Users[0].Sync.ParentFolders); diff != "" {
		t.Fatalf("first activation's recorded parent folders mismatch (-want +got):\n%s", diff)
	}

	var asked folderIDsAsked
	again := func(t *testing.T, want int) *ActivationReport {
		t.Helper()
		asked.take()
		ar, err := Activate(ctx, store, o.ID, f.options(WithEWSOptions(ews.WithTransportMiddleware(asked.middleware)))...)
		if err != nil {
			t.Fatalf("Activate() error = %v", err)
		}
		if ar.Provisioned != n || ar.ProvisionFailed != 0 {
			t.Fatalf("Activate() = %+v, want %d provisioned", ar, n)
		}
		got := asked.take()
		for _, u := range o.Users {
			if g := got[u.PrimarySMTP]; len(g) == 0 || g[0] != want {
				t.Errorf("GetFolder requests for %s asked %v folder ids, want the first to ask %d", u.PrimarySMTP, g, want)
			}
		}
		return ar
	}
	setParents := func(t *testing.T, edit func(m map[string]string) map[string]string) {
		t.Helper()
		cur, err := store.Get(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range cur.Users {
			cur.Users[i].Sync.ParentFolders = edit(cur.Users[i].Sync.ParentFolders)
		}
		if _, err := store.Update(ctx, cur); err != nil {
			t.Fatal(err)
		}
	}
	recorded := func(t *testing.T) []map[string]string {
		t.Helper()
		cur, err := store.Get(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]string
		for _, u := range cur.Users {
			out = append(out, u.Sync.ParentFolders)
		}
		return out
	}
	wantParents := func(t *testing.T, user0 map[string]string) {
		t.Helper()
		got := recorded(t)
		// Each mailbox has its own ids; compare the first's, and that all
		// have every parent.
		if diff := cmp.Diff(user0, got[0]); diff != "" {
			t.Errorf("recorded parent folders mismatch (-want +got):\n%s", diff)
		}
		for i, m := range got {
			if len(m) != len(user0) {
				t.Errorf("user %d records %d parents %v, want %d", i, len(m), m, len(user0))
			}
		}
	}

	t.Run("again asks 4", func(t *testing.T) {
		ar := again(t, 4)
		if ar.Unchanged != n || ar.Repaired != 0 {
			t.Errorf("Activate(again) = %+v, want all unchanged", ar)
		}
		for _, res := range ar.Check.Results {
			if p := res.Provision; p == nil || !p.Verified || p.Requests != 0 {
				t.Errorf("provision of %s = %+v, want verified by the check's request", res.Address, p)
			}
		}
		wantParents(t, parents)
	})

	t.Run("old record asks 7 once", func(t *testing.T) {
		setParents(t, func(map[string]string) map[string]string { return nil })
		ar := again(t, 7)
		for _, res := range ar.Check.Results {
			if p := res.Provision; p == nil || !p.Verified || p.Requests != 0 {
				t.Errorf("provision of %s = %+v, want verified by the check's request", res.Address, p)
			}
		}
		wantParents(t, parents)
		again(t, 4)
	})

	t.Run("stale parent id", func(t *testing.T) {
		// A parent id that is some other real folder's (here the
		// contacts folder's, recorded as the tasks folder's parent).
		setParents(t, func(m map[string]string) map[string]string {
			m = maps.Clone(m)
			m["tasks"] = m["contacts"]
			return m
		})
		f.srv.ResetRequests()
		ar := again(t, 4)
		if c := opCounts(f.srv); c["CreateFolder"] != 0 || c["UpdateUserConfiguration"] != 0 {
			t.Errorf("Activate(stale parent) sent writes: %v", c)
		}
		for _, res := range ar.Check.Results {
			if p := res.Provision; p == nil || p.Verified || p.Writes != 0 {
				t.Errorf("provision of %s = %+v, want a lookup by name without writes", res.Address, p)
			}
		}
		for _, u := range o.Users {
			if diff := cmp.Diff(map[string]int{"contacts": 1, "tasks": 1, "mail": 1}, ourFolders(t, viewOf(u.PrimarySMTP), plan, o.ID)); diff != "" {
				t.Errorf("%s folders of ours mismatch (-want +got):\n%s", u.PrimarySMTP, diff)
			}
		}
		withoutTasks := maps.Clone(parents)
		delete(withoutTasks, "tasks")
		wantParents(t, withoutTasks)
		again(t, 5)
		wantParents(t, parents)
		again(t, 4)
	})
}
