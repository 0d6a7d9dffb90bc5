package impersonation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// DeactivationReport is the outcome of [Deactivate].
type DeactivationReport struct {
	// OrganizationID is the organization's ID in the store.
	OrganizationID string
	// Deactivated: users whose sync this run stopped (they were not
	// Deactivated before).
	Deactivated int
	// Removed: (with [WithRemoveProvisioning]) users whose provisioning
	// this run removed completely: no folder of ours and none of the
	// categories is left.
	Removed int
	// RemoveFailed: users of whom something is left: a folder that holds
	// items, a refusal of Exchange. Their results say what and how to fix
	// it; their sync state keeps the folders that are left, and the next
	// Deactivate with removal tries again.
	RemoveFailed int
	// NotChecked: users whose removal did not run (the run stopped or was
	// cancelled first). They are deactivated all the same, and the next
	// Deactivate with removal continues with them.
	NotChecked int
	// Unchanged: selected users with nothing to do: already deactivated,
	// and nothing left to remove (or no removal asked).
	Unchanged int
	// Unknown are the addresses of [WithUsers] that are no user of the
	// organization.
	Unknown []string
	// Saved reports whether the organization was written; Version is its
	// version afterwards.
	Saved   bool
	Version int64
	// Results has one entry per selected user, in the organization's
	// order.
	Results []DeactivationResult
	// Stopped is why the removal ended before every user (nil when it did
	// not, or did not run).
	Stopped *Stop
	// Started and Finished bound the run.
	Started, Finished time.Time
}

// DeactivationResult is what [Deactivate] did to one user.
type DeactivationResult struct {
	Address string `json:"address"`
	// Status is StatusOK when the user's sync is stopped and, if removal
	// was asked, everything of ours is gone; StatusNotChecked when the
	// removal did not run; otherwise the failure (StatusError with Code
	// "folder-not-empty" for a kept folder, or what Exchange answered).
	Status      Status           `json:"status"`
	Code        ews.ResponseCode `json:"code,omitempty"`
	Message     string           `json:"message,omitempty"`
	Remediation string           `json:"remediation,omitempty"`
	// Deactivated: this run stopped the user's sync.
	Deactivated bool `json:"deactivated,omitempty"`
	// RemovedFolders are the folders this run deleted; GoneFolders the
	// keys of recorded folders that were already gone; KeptFolders those
	// left in place, with the reason.
	RemovedFolders []ProvisionedFolder `json:"removed_folders,omitempty"`
	GoneFolders    []string            `json:"gone_folders,omitempty"`
	KeptFolders    []KeptFolder        `json:"kept_folders,omitempty"`
	// RemovedCategories are the category names taken out of the master
	// category list (or found absent from it).
	RemovedCategories []string `json:"removed_categories,omitempty"`
	// Requests and Writes count the EWS requests of the removal (retries
	// included) and those of them that changed the mailbox.
	Requests int `json:"requests,omitempty"`
	Writes   int `json:"writes,omitempty"`
}

// Deactivate stops sync for users of the organization orgID and records
// it in store: each selected user becomes org.Deactivated with
// DeactivatedAt set, its failure code and message cleared and its sync
// states (SyncState.SyncStates) dropped, so that a later [Activate] takes
// new baselines. The users are those of [WithUsers], or by default every
// user activation touched (Active, NeedsRenewal, Failed). Stopping sync
// sends nothing to Exchange.
//
// With [WithRemoveProvisioning] it then removes from each deactivated
// mailbox what activation created, through the service account, with the
// same preflight, back-off gate, concurrency limit and retry budget as
// [Activate] (the options of the check apply):
//
//   - the folders of ours: those recorded in the user's SyncState.Folders,
//     and any folder in a plan parent that carries this organization's
//     marker (left by an activation that crashed before recording it). A
//     folder without the marker is never removed. An empty folder (no
//     items, no subfolders) is hard-deleted; one that holds something is
//     kept and reported (StatusError, Code "folder-not-empty", with a
//     remediation) unless [WithRemoveContent] is given, which moves it to
//     Deleted Items with its content;
//   - the plan's categories, and those recorded, from the master category
//     list (ews.Client.RemoveCategories; items keep the names they
//     carry). A category of the same name the user had before activation
//     goes too.
//
// A typical removal costs three or four requests per mailbox: a
// FindFolder of the plan's parents, a DeleteFolder, and a read (and a
// write when something is there) of the category list.
//
// The record is updated to what is left: the ids of removed or vanished
// folders are dropped, the others kept, so that it always lists every
// folder of ours that may still be there. Deactivate is idempotent: a
// second run finds the users deactivated and, when nothing is left to
// remove, sends no request and writes nothing. It is resumable: users the
// removal did not reach (a crash, a cancelled context, a run stopped by a
// 401) are deactivated and keep their record, and the next Deactivate
// with removal continues with them.
//
// It is safe against concurrent edits, a concurrent [Activate] included:
// sync is stopped with one org.Modify before any folder is touched (so a
// sync engine that honours the status stops writing into them), and the
// removal is recorded with another, which drops only the folder ids this
// run removed or found gone and so keeps the folders a concurrent
// activation recreated. Whichever of the two saves last decides the
// user's status; the record stays true to the mailbox either way, and no
// mailbox ever holds two copies of a folder. Users removed or re-identified
// meanwhile are left alone.
//
// The watcher's position (SyncState.Watch) is left to the watcher, which
// stops watching a Deactivated user.
//
// The error is the removal's (a [*StopError]) or the store's; the report
// is returned whenever the organization was read.
func Deactivate(ctx context.Context, store org.Store, orgID string, opts ...Option) (*DeactivationReport, error) {
	s, optErr := newSettings(opts)
	if optErr != nil {
		return nil, optErr
	}
	o, err := load(ctx, "Deactivate", store, orgID)
	if err != nil {
		return nil, err
	}
	dr := &DeactivationReport{OrganizationID: o.ID, Version: o.Version, Started: s.now()}
	sel, unknown := selectForDeactivation(o, s)
	dr.Unknown = unknown
	now := s.now().UTC()

	type target struct {
		idx      int
		key      string
		identity org.Identity
		stop     bool
		remove   bool
	}
	targets := make([]target, 0, len(sel))
	results := make([]DeactivationResult, len(sel))
	stops := 0
	for j, i := range sel {
		u := o.Users[i]
		t := target{idx: i, key: org.AddressKey(u.PrimarySMTP), identity: u.ImpersonationIdentity()}
		t.stop = u.Sync.Status != org.Deactivated
		t.remove = s.remove && (t.stop || leftOver(u.Sync))
		if t.stop {
			stops++
		}
		targets = append(targets, t)
		results[j] = DeactivationResult{Address: u.PrimarySMTP, Status: StatusOK}
	}
	finish := func(err error) (*DeactivationReport, error) {
		dr.Results = results
		dr.Unchanged, dr.Removed, dr.RemoveFailed, dr.NotChecked = 0, 0, 0, 0
		for j, t := range targets {
			res := &results[j]
			switch {
			case res.Status == StatusNotChecked:
				dr.NotChecked++
			case !t.remove:
				if !res.Deactivated {
					dr.Unchanged++
				}
			case res.Status == StatusOK:
				dr.Removed++
			default:
				dr.RemoveFailed++
			}
		}
		dr.Finished = s.now()
		return dr, err
	}

	// 1. Stop sync, before any folder is touched.
	cur := o
	if stops > 0 {
		saved, err := org.Modify(ctx, store, o.ID, func(fresh *org.Organization) error {
			dr.Deactivated = 0
			for j := range results {
				results[j].Deactivated = false
			}
			index := addressIndex(fresh)
			for j, t := range targets {
				i, ok := index[t.key]
				if !t.stop || !ok || fresh.Users[i].ImpersonationIdentity() != t.identity {
					continue
				}
				st := &fresh.Users[i].Sync
				if st.Status == org.Deactivated {
					continue // a concurrent Deactivate was first
				}
				st.Status, st.DeactivatedAt = org.Deactivated, now
				st.Code, st.Message, st.Remediation = "", "", ""
				st.SyncStates = nil
				results[j].Deactivated = true
				dr.Deactivated++
			}
			return nil
		})
		if err != nil {
			return finish(fmt.Errorf("impersonation: saving the deactivation of organization %q: %w", o.ID, err))
		}
		cur, dr.Saved, dr.Version = saved, true, saved.Version
		s.logger.Info("deactivation saved", "organization", o.ID, "version", saved.Version, "deactivated", dr.Deactivated)
	}

	// 2. Remove the provisioning, from the records just saved (they hold
	// what a concurrent activation recorded meanwhile).
	var rm []int // indexes into targets
	var users []org.User
	index := addressIndex(cur)
	for j, t := range targets {
		if !t.remove {
			continue
		}
		i, ok := index[t.key]
		if !ok || cur.Users[i].ImpersonationIdentity() != t.identity {
			t.remove = false
			targets[j] = t
			continue
		}
		rm = append(rm, j)
		users = append(users, cur.Users[i])
	}
	if len(rm) == 0 {
		return finish(nil)
	}
	s.plan, s.orgID = cur.Provisioning, cur.ID
	r := newRun(s, cur.Email, users)
	removals := make([]*removal, len(users))
	r.work = func(ctx context.Context, i int) Result { return r.deprovisionUser(ctx, i, removals) }
	rep, runErr := r.connect(nil)
	if rep == nil {
		rep, runErr = r.execute(ctx)
		r.client.CloseIdleConnections()
	}
	dr.Stopped = rep.Stopped
	for _, res := range rep.Results {
		j := rm[res.Index]
		out := &results[j]
		out.Status, out.Code, out.Message, out.Remediation = res.Status, res.Code, res.Message, res.Remediation
		if rv := removals[res.Index]; rv != nil {
			out.RemovedFolders, out.GoneFolders, out.KeptFolders = rv.removed, rv.gone, rv.kept
			out.RemovedCategories = rv.categories
			out.Requests, out.Writes = rv.requests, rv.writes
		}
	}

	// 3. Record what is left.
	changed := false
	for _, rv := range removals {
		if rv != nil && (len(rv.dropped) > 0 || len(rv.adopted) > 0 || rv.catsDone) {
			changed = true
		}
	}
	for _, j := range rm {
		if results[j].Status != StatusOK && results[j].Status != StatusNotChecked {
			changed = true
		}
	}
	if !changed {
		return finish(runErr)
	}
	sctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
		defer cancel()
	}
	saved, err := org.Modify(sctx, store, o.ID, func(fresh *org.Organization) error {
		index := addressIndex(fresh)
		for k, j := range rm {
			t := targets[j]
			i, ok := index[t.key]
			if !ok || fresh.Users[i].ImpersonationIdentity() != t.identity {
				continue
			}
			recordRemoval(&fresh.Users[i].Sync, removals[k], results[j])
		}
		return nil
	})
	if err != nil {
		return finish(errors.Join(runErr, fmt.Errorf("impersonation: saving the removal of organization %q: %w", o.ID, err)))
	}
	dr.Saved, dr.Version = true, saved.Version
	s.logger.Info("deactivation removal saved", "organization", o.ID, "version", saved.Version)
	return finish(runErr)
}

// selectForDeactivation returns the indexes of the users Deactivate acts
// on, and the addresses of WithUsers that are no user of o.
func selectForDeactivation(o *org.Organization, s *settings) (sel []int, unknown []string) {
	if len(s.addresses) == 0 {
		for i, u := range o.Users {
			switch u.Sync.Status {
			case org.Active, org.NeedsRenewal, org.Failed:
				sel = append(sel, i)
			case org.Deactivated:
				if s.remove && leftOver(u.Sync) {
					sel = append(sel, i)
				}
			}
		}
		return dedupe(o, sel), nil
	}
	sel, unknown = selectByAddress(o, s.addresses)
	return sel, unknown
}

// selectByAddress returns the indexes of the users with the addresses, in
// the organization's order and each once, and the unknown addresses.
func selectByAddress(o *org.Organization, addresses []string) (sel []int, unknown []string) {
	index := addressIndex(o)
	picked := map[int]bool{}
	for _, a := range addresses {
		i, ok := index[org.AddressKey(a)]
		if !ok {
			if !slices.Contains(unknown, a) {
				unknown = append(unknown, a)
			}
			continue
		}
		picked[i] = true
	}
	for i := range o.Users {
		if picked[i] {
			sel = append(sel, i)
		}
	}
	return sel, unknown
}

// dedupe keeps the first row of each mailbox listed twice.
func dedupe(o *org.Organization, sel []int) []int {
	index := addressIndex(o)
	out := sel[:0]
	for _, i := range sel {
		if index[org.AddressKey(o.Users[i].PrimarySMTP)] == i {
			out = append(out, i)
		}
	}
	return out
}

// addressIndex maps each address key to its first row.
func addressIndex(o *org.Organization) map[string]int {
	index := make(map[string]int, len(o.Users))
	for i, u := range o.Users {
		if k := org.AddressKey(u.PrimarySMTP); k != "" {
			if _, dup := index[k]; !dup {
				index[k] = i
			}
		}
	}
	return index
}

// leftOver reports whether a user's record lists provisioning that may
// still be in the mailbox.
func leftOver(st org.SyncState) bool {
	return len(st.Folders) > 0 || len(st.Categories) > 0
}

// recordRemoval applies one user's removal to its fresh sync state: the
// folder ids removed, gone or not ours are dropped (only where the record
// still holds that id: a folder a concurrent activation recreated stays),
// kept folders of ours that were not recorded are added, the removed
// categories are dropped, and a failure is recorded while the user is
// deactivated.
func recordRemoval(st *org.SyncState, rv *removal, res DeactivationResult) {
	if rv != nil {
		for k, id := range rv.dropped {
			if st.Folders[k] == id {
				delete(st.Folders, k)
			}
		}
		for k, id := range rv.adopted {
			if st.Folders[k] == "" {
				if st.Folders == nil {
					st.Folders = map[string]string{}
				}
				st.Folders[k] = id
			}
		}
		if len(st.Folders) == 0 {
			st.Folders = nil
		}
		if rv.catsDone {
			st.Categories = slices.DeleteFunc(st.Categories, func(n string) bool {
				return slices.ContainsFunc(rv.categories, func(m string) bool { return strings.EqualFold(m, n) })
			})
			if len(st.Categories) == 0 {
				st.Categories = nil
			}
		}
	}
	if st.Status != org.Deactivated || res.Status == StatusNotChecked {
		return
	}
	if res.Status == StatusOK {
		st.Code, st.Message, st.Remediation = "", "", ""
		return
	}
	code := string(res.Code)
	if code == "" {
		code = string(res.Status)
	}
	st.Code, st.Message, st.Remediation = code, res.Message, res.Remediation
}

// deprovisionUser removes the provisioning of the run's user i; the
// details go to removals[i].
func (r *run) deprovisionUser(ctx context.Context, i int, removals []*removal) Result {
	u := r.users[i]
	res := r.report.Results[i]
	start := time.Now()
	view, _ := r.viewOf(u)
	out := &removal{}
	removals[i] = out
	var failed *attempt
	p := &provisioner{view: view, orgID: r.s.orgID, plan: r.s.plan, res: &ProvisionResult{}}
	p.send = r.sender("removing the provisioning of", res.IdentityKind, res.Address, &out.requests, &out.writes, &failed)
	d := &deprovisioner{p: p, content: r.s.removeContent, out: out}
	d.run(ctx, u.Sync)
	res.Duration = time.Since(start)
	res.CheckedAt = r.s.now()
	var full, notOurs []string
	for _, k := range out.kept {
		switch k.Reason {
		case KeptNotEmpty:
			full = append(full, fmt.Sprintf("%q (%d items, %d subfolders)", k.DisplayName, k.TotalCount, k.ChildFolderCount))
		case KeptNotOurs:
			notOurs = append(notOurs, fmt.Sprintf("%q", k.DisplayName))
		}
	}
	switch {
	case ctx.Err() != nil && failed == nil && len(out.problems) > 0:
		// Cancelled, or stopped by another user's failure.
		r.notChecked(ctx, &res)
		res.CheckedAt = time.Time{}
	case failed != nil:
		res.Status, res.Code, res.Attempts = failed.status, failed.code, failed.attempts
		res.Message = "removing the provisioning failed: " + failed.message
		res.Remediation = removalRemediation(*failed, r.remediationFor(*failed, res.IdentityKind, res.Address))
	case len(out.problems) > 0:
		a := attempt{outcome: classify(out.problems[0])}
		res.Status, res.Code = a.status, a.code
		res.Message = "removing the provisioning failed: " + errors.Join(out.problems...).Error()
		res.Remediation = removalRemediation(a, r.remediationFor(a, res.IdentityKind, res.Address))
	case len(full) > 0:
		res.Status, res.Code = StatusError, codeFolderNotEmpty
		res.Message = "kept the provisioned folders that are not empty: " + strings.Join(full, ", ")
		res.Remediation = "Move the items out of the folders (or let the user do it) and run Deactivate with WithRemoveProvisioning again, or pass WithRemoveContent to move the folders with their items to the user's Deleted Items."
	default:
		res.Status, res.Code, res.Message, res.Remediation = StatusOK, "", "", ""
		if len(notOurs) > 0 {
			res.Message = "left the recorded folders " + strings.Join(notOurs, ", ") + " in place: they no longer carry this organization's marker, so they are not ours to remove"
		}
	}
	r.s.logger.Debug("provisioning removed", "address", res.Address, "status", res.Status, "code", res.Code,
		"removed", len(out.removed), "kept", len(out.kept))
	return res
}

// removalRemediation names what stops a removal when Exchange refused a
// delete or a write; otherwise it is the check's remediation.
func removalRemediation(a attempt, fallback string) string {
	switch a.code {
	case ews.ErrorAccessDenied:
		return "The service account may read the mailbox but not delete folders or change the category list in it: grant it impersonation with full access (ApplicationImpersonation on-premises, full_access_as_app for app-only), then run Deactivate with removal again."
	case ews.ErrorQuotaExceeded:
		return "The mailbox is over its storage quota, so Exchange refused to save the category list (or to move a folder to Deleted Items): free space or raise the quota (Set-Mailbox -ProhibitSendReceiveQuota), then run Deactivate with removal again."
	case ews.ErrorCannotDeleteObject:
		return "Exchange refused to delete the folder (a retention hold or policy may keep it: Get-Mailbox | Format-List LitigationHoldEnabled,InPlaceHolds): lift the hold or leave the folder, then run Deactivate with removal again."
	}
	return fallback
}
