package impersonation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/sccsync/scc/org"
)

// MailboxPosition is where a [Watcher] stands in one mailbox: what a
// restarted watcher resumes from.
type MailboxPosition struct {
	// SyncStates are the SyncFolderItems states of the watched folders, by
	// folder key, each advanced only after the handler returned for the
	// changes before it. An empty value means the folder's state was
	// dropped (the server refused it): sync it from the start.
	SyncStates map[string]string
	// Watch is the mailbox's subscription and the watermark of the last
	// event whose changes the handler has returned for.
	Watch org.WatchPosition
}

// PositionStore keeps the watcher's positions. The watcher loads them once
// when it starts and saves, in batches, the positions that changed since
// the last save; see [WithPositionStore]. The default, [OrgPositions],
// keeps them in the organization's users' org.SyncState.
//
// Implementations must be safe for concurrent use (the watcher calls one
// method at a time, but a caller may share the store).
type PositionStore interface {
	// LoadPositions returns the saved positions by mailbox, keyed by
	// org.AddressKey of the primary SMTP address. Mailboxes without a
	// position may be missing.
	LoadPositions(ctx context.Context) (map[string]MailboxPosition, error)
	// SavePositions stores the positions of the mailboxes in changed (same
	// keys), replacing the folders' states it names and the watch
	// position; folder states it does not name are kept.
	SavePositions(ctx context.Context, changed map[string]MailboxPosition) error
}

// OrgPositions returns the [PositionStore] that keeps positions in the
// organization orgID of store: each user's org.SyncState.SyncStates (merged
// by folder key, so baselines of other folders stay) and
// org.SyncState.Watch. A save is one org.Modify of the whole organization,
// which is why the watcher batches them ([WithSaveInterval]); users removed
// meanwhile are skipped.
func OrgPositions(store org.Store, orgID string) PositionStore {
	return &orgPositions{store: store, id: orgID}
}

type orgPositions struct {
	store org.Store
	id    string
}

func (p *orgPositions) LoadPositions(ctx context.Context) (map[string]MailboxPosition, error) {
	o, err := p.store.Get(ctx, p.id)
	if err != nil {
		return nil, fmt.Errorf("impersonation: loading the watcher's positions of organization %q: %w", p.id, err)
	}
	return positionsOf(o), nil
}

// positionsOf reads the positions recorded in o's users.
func positionsOf(o *org.Organization) map[string]MailboxPosition {
	out := make(map[string]MailboxPosition, len(o.Users))
	for _, u := range o.Users {
		k := org.AddressKey(u.PrimarySMTP)
		if k == "" {
			continue
		}
		if _, dup := out[k]; dup {
			continue
		}
		pos := MailboxPosition{SyncStates: maps.Clone(u.Sync.SyncStates)}
		if u.Sync.Watch != nil {
			pos.Watch = *u.Sync.Watch
		}
		out[k] = pos
	}
	return out
}

func (p *orgPositions) SavePositions(ctx context.Context, changed map[string]MailboxPosition) error {
	if len(changed) == 0 {
		return nil
	}
	_, err := org.Modify(ctx, p.store, p.id, func(o *org.Organization) error {
		seen := make(map[string]bool, len(changed))
		for i := range o.Users {
			k := org.AddressKey(o.Users[i].PrimarySMTP)
			pos, ok := changed[k]
			if !ok || seen[k] {
				continue
			}
			seen[k] = true
			st := &o.Users[i].Sync
			for f, s := range pos.SyncStates {
				if s == "" {
					delete(st.SyncStates, f)
					continue
				}
				if st.SyncStates == nil {
					st.SyncStates = make(map[string]string, len(pos.SyncStates))
				}
				st.SyncStates[f] = s
			}
			if len(st.SyncStates) == 0 {
				st.SyncStates = nil
			}
			w := pos.Watch
			st.Watch = &w
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("impersonation: saving the watcher's positions of organization %q: %w", p.id, err)
	}
	return nil
}

// saveWithin bounds the final save when Run's context is done.
const saveWithin = 30 * time.Second

// savePositions saves the positions that changed; it returns how many
// mailboxes were saved.
func (w *Watcher) savePositions(ctx context.Context) (int, error) {
	type snap struct {
		mb  *watchedMailbox
		ver uint64
	}
	w.mu.Lock()
	changed := make(map[string]MailboxPosition)
	var snaps []snap
	for _, mb := range w.mailboxes {
		if mb.savedVer == mb.ver {
			continue
		}
		changed[mb.key] = MailboxPosition{SyncStates: maps.Clone(mb.unsavedStates), Watch: mb.pos.Watch}
		snaps = append(snaps, snap{mb, mb.ver})
	}
	w.mu.Unlock()
	if len(changed) == 0 {
		return 0, nil
	}
	now := w.s.now().UTC()
	for k, p := range changed {
		p.Watch.UpdatedAt = now
		changed[k] = p
	}
	if err := w.positions.SavePositions(ctx, changed); err != nil {
		return 0, err
	}
	w.mu.Lock()
	for _, s := range snaps {
		if s.mb.ver == s.ver {
			s.mb.unsavedStates = nil
		}
		s.mb.savedVer = s.ver
		// States changed after the snapshot stay in unsavedStates (they
		// were merged there as they changed), so the next save has them.
	}
	w.mu.Unlock()
	return len(changed), nil
}

// saver saves the positions every interval until ctx is done, then once
// more with a fresh deadline.
func (w *Watcher) saver(ctx context.Context) {
	t := time.NewTicker(w.ws.saveInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.saveLogged(ctx)
		case <-w.saveNow:
			w.saveLogged(ctx)
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveWithin)
			w.saveLogged(sctx)
			cancel()
			return
		}
	}
}

func (w *Watcher) saveLogged(ctx context.Context) {
	n, err := w.savePositions(ctx)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			w.s.logger.Warn("watcher: saving positions failed; retrying at the next interval", "organization", w.orgID, "error", err.Error())
		}
		return
	}
	if n > 0 {
		w.s.logger.Debug("watcher: positions saved", "organization", w.orgID, "mailboxes", n)
	}
}

// validFolderKey reports whether k can name a watched folder.
func validFolderKey(k string) bool {
	return k != "" && strings.TrimSpace(k) == k && len(k) <= 64
}
