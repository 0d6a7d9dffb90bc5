package impersonation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// saveTimeout bounds saving the outcomes of a check whose context was
// cancelled: outcomes already obtained are still recorded.
const saveTimeout = 30 * time.Second

// ActivationReport is the outcome of [Activate] or [Renew].
type ActivationReport struct {
	// OrganizationID is the organization's ID in the store.
	OrganizationID string
	// Activated: users that passed and were not active before.
	Activated int
	// Renewed: active users that passed against a changed configuration
	// (or were marked NeedsRenewal) and are active again with the new
	// configuration's fingerprint.
	Renewed int
	// Failed: users whose sync state became (or changed as) Failed.
	Failed int
	// NeedsRenewal: (Renew only) users that were active but whose access
	// could not be proven with the current configuration: the check
	// stopped before them (a wrong new password stops it at the first
	// 401), was cancelled, or failed only temporarily. They are marked
	// NeedsRenewal with the cause as their Code and Message, keep their
	// old fingerprint, and the next Renew checks them again.
	NeedsRenewal int
	// Unchanged: users whose outcome equals what was stored; only their
	// check time was updated.
	Unchanged int
	// NotChecked: users the check did not reach (stopped, cancelled) and,
	// for Activate, active users with only a temporary failure (throttled,
	// mailbox unavailable, network), users removed or re-identified by a
	// concurrent edit during the check, and repeated rows of a mailbox
	// listed twice. Their stored state is kept. (Renew marks the active
	// ones among them NeedsRenewal instead.)
	NotChecked int
	// Skipped: users Renew did not need to check.
	Skipped int
	// Provisioned: users whose mailbox was provisioned with the
	// organization's plan (folders found, created or verified; ids
	// recorded in their sync state). ProvisionFailed: users that passed
	// the check but whose mailbox could not be provisioned; they are Failed
	// with the cause and its remediation (they are also in Failed or
	// Unchanged).
	Provisioned     int
	ProvisionFailed int
	// Repaired: provisioned users that had been provisioned before and
	// lacked something this run put back (a folder the user deleted, a
	// category, a baseline, or what a changed plan adds); they are in
	// Provisioned too.
	Repaired int
	// Saved reports whether the organization was written; Version is its
	// version afterwards.
	Saved   bool
	Version int64
	// Check is the check's report (of the users that were checked).
	Check *Report
}

// Activate checks every user of the organization orgID and records the
// outcomes in store, as an admin panel's Save does after "Check Users
// Exchange Impersonated Access":
//
//   - users that pass become Active, with the check time and the email
//     configuration's org.ConfigFingerprint (ActivatedAt is set when they were not
//     active before);
//   - users that fail become Failed, with the EWS code (or the status when
//     there is none, e.g. "blocked-by-policy") and the message;
//   - an Active user whose check failed only temporarily (throttled,
//     mailbox unavailable, network error) keeps its state;
//   - users the check did not reach keep their state;
//   - with a provisioning plan (org.Organization.Provisioning), each user
//     that passes is provisioned as [ProvisionMailbox] does, through the
//     check's back-off gate, concurrency limit and retry budget; the
//     folder ids are recorded in the user's SyncState.Folders, and a user
//     whose mailbox cannot be provisioned (a folder in the way, quota,
//     access denied) becomes Failed with the cause and its remediation
//     (SyncState.Remediation; counted in ActivationReport.ProvisionFailed).
//     A provisioned user costs no more request per run: the check's
//     GetFolder carries the verification of its recorded folders, so a
//     run that finds everything in place sends one request per user and
//     no writes.
//
// Activate is idempotent: running it again with the same outcomes changes
// only the check times. It is safe against concurrent edits: the outcomes
// are applied with org.Modify to a freshly read copy of the organization
// (retried on org.ErrConflict), matched by primary SMTP address, so users
// added, removed or renamed meanwhile and every other field edited meanwhile
// are kept; an outcome is dropped if its user was removed or now
// impersonates with a different identity.
//
// Outcomes obtained before ctx was cancelled are still saved. The error is
// the check's (a [*StopError]) or the store's; the report is returned
// whenever the check ran.
func Activate(ctx context.Context, store org.Store, orgID string, opts ...Option) (*ActivationReport, error) {
	o, err := load(ctx, "Activate", store, orgID)
	if err != nil {
		return nil, err
	}
	sel := make([]int, len(o.Users))
	for i := range sel {
		sel[i] = i
	}
	if s, _ := newSettings(opts); len(s.addresses) > 0 {
		sel, _ = selectByAddress(o, s.addresses)
	}
	return record(ctx, store, o, sel, nil, opts)
}

// Renew re-checks the users whose activation may no longer hold because
// the email configuration changed: every Active user whose stored
// ConfigFingerprint differs from the current configuration's org.ConfigFingerprint
// (the password, EWS URL, Account Logon, auth method, version, … changed
// since the user was checked), every NeedsRenewal user, and every Failed
// user checked with another configuration (the new one may fix them). The outcomes are recorded as by
// [Activate] (passing users are Renewed and keep their ActivatedAt), with
// one difference: a failed renewal always shows. An active user whose
// access the check could not prove with the new configuration (the check
// stopped, for example at the first 401 of a wrong new password, or was
// cancelled, or the user failed only temporarily) becomes NeedsRenewal
// with the cause as Code and Message and counts in
// ActivationReport.NeedsRenewal, instead of staying Active with a stale
// fingerprint. Users that are not activated, or active or failed with the
// current fingerprint, are not checked and count as Skipped.
func Renew(ctx context.Context, store org.Store, orgID string, opts ...Option) (*ActivationReport, error) {
	o, err := load(ctx, "Renew", store, orgID)
	if err != nil {
		return nil, err
	}
	fp := org.ConfigFingerprint(store, o.Email)
	only := map[int]bool{}
	if s, _ := newSettings(opts); len(s.addresses) > 0 {
		picked, _ := selectByAddress(o, s.addresses)
		for _, i := range picked {
			only[i] = true
		}
		if len(picked) == 0 {
			only[-1] = true // nothing selected
		}
	}
	var sel []int
	repair := map[int]bool{}
	for i, u := range o.Users {
		if len(only) > 0 && !only[i] {
			continue
		}
		switch u.Sync.Status {
		case org.NeedsRenewal:
			sel = append(sel, i)
		case org.Active, org.Failed:
			switch {
			case u.Sync.ConfigFingerprint != fp:
				sel = append(sel, i)
			case u.Sync.Status == org.Active && !covers(u.Sync, o.Provisioning):
				sel = append(sel, i)
				repair[i] = true
			}
		}
	}
	if len(sel) == 0 {
		now := time.Now()
		return &ActivationReport{OrganizationID: o.ID, Skipped: len(o.Users), Version: o.Version,
			Check: &Report{Endpoint: redactURL(o.Email.EWSURL), Started: now, Finished: now, Counts: Counts{}, Results: []Result{}}}, nil
	}
	// Renew re-reads every checked mailbox's category list (see
	// WithCategoryCheck): a renewal is rare, and one request per user
	// buys back the categories users deleted.
	opts = append(slices.Clone(opts), WithCategoryCheck())
	return record(ctx, store, o, sel, func(i int) bool { return !repair[i] }, opts)
}

// covers reports whether a user's record holds everything plan asks for:
// a folder id per plan folder, every category and every baseline. A
// record that does not was provisioned with an older plan.
func covers(st org.SyncState, plan *org.ProvisioningPlan) bool {
	if plan == nil {
		return true
	}
	for _, f := range plan.Folders {
		if st.Folders[f.Key] == "" {
			return false
		}
	}
	for _, c := range plan.Categories {
		if !recordedAll(st.Categories, []string{c.Name}) {
			return false
		}
	}
	for _, b := range plan.BaselineFolders {
		if st.SyncStates[b] == "" {
			return false
		}
	}
	return true
}

// load reads the organization for the exported func fn (Activate, Renew).
func load(ctx context.Context, fn string, store org.Store, orgID string) (*org.Organization, error) {
	if store == nil {
		return nil, fmt.Errorf("impersonation: %s: store is nil; pass the store the organization was saved in", fn)
	}
	if strings.TrimSpace(orgID) == "" {
		// A caller that built an Organization and never saved it, or saved
		// it and dropped the returned copy, has no ID: say so rather than
		// `organization not found: ""`. Still matches org.ErrNotFound.
		return nil, &wrappedError{
			msg: "impersonation: " + fn + ": empty organization ID; save the organization with store.Create first and pass the ID it returns",
			err: org.ErrNotFound,
		}
	}
	o, err := store.Get(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("impersonation: loading organization %q: %w", orgID, err)
	}
	return o, nil
}

// outcomeOf is one checked user's outcome, keyed for re-application.
type outcomeOf struct {
	key      string
	identity org.Identity
	res      Result
	renew    bool
}

// record checks the users of o at indexes sel and saves the outcomes.
// renew (nil for Activate) says which users, by index in o.Users, are
// renewed: an active one whose access was not proven becomes
// NeedsRenewal. The others (Activate's, and Renew's repairs of an older
// plan's provisioning) keep their state when not proven.
func record(ctx context.Context, store org.Store, o *org.Organization, sel []int, renewFor func(int) bool, opts []Option) (*ActivationReport, error) {
	s, _ := newSettings(opts) // CheckUsers reports option errors
	users := make([]org.User, len(sel))
	for i, j := range sel {
		users[i] = o.Users[j]
	}
	if o.Provisioning != nil {
		opts = append(slices.Clone(opts), withProvisioning(o.ID, o.Provisioning))
	}
	rep, checkErr := CheckUsers(ctx, o.Email, users, opts...)
	ar := &ActivationReport{OrganizationID: o.ID, Skipped: len(o.Users) - len(sel), Version: o.Version, Check: rep}
	if rep == nil {
		return ar, checkErr
	}
	fp := org.ConfigFingerprint(store, o.Email)
	now := s.now().UTC()
	// A mailbox listed twice has one stored state, that of its first row
	// (the row the fresh copy's index finds below). Later rows with the
	// same address failed validation as duplicates; that failure is the
	// row's, and must not overwrite the mailbox's real outcome.
	first := make(map[string]int, len(users))
	for i, u := range users {
		if k := org.AddressKey(u.PrimarySMTP); k != "" {
			if _, dup := first[k]; !dup {
				first[k] = i
			}
		}
	}
	outcomes := make([]outcomeOf, 0, len(rep.Results))
	for _, res := range rep.Results {
		u := users[res.Index]
		renew := renewFor != nil && renewFor(sel[res.Index])
		key := org.AddressKey(u.PrimarySMTP)
		if i, ok := first[key]; !ok || i != res.Index || (res.Status == StatusNotChecked && !renew) {
			ar.NotChecked++
			continue
		}
		if res.Status == StatusNotChecked && rep.Stopped != nil && rep.Stopped.Status != StatusNotChecked {
			// Stored as the cause: the stop's code, or its status
			// (auth-failed for a wrong password).
			res.Code = rep.Stopped.Code
			if res.Code == "" {
				res.Code = ews.ResponseCode(rep.Stopped.Status)
			}
		}
		outcomes = append(outcomes, outcomeOf{key: key, identity: u.ImpersonationIdentity(), res: res, renew: renew})
	}
	if len(outcomes) == 0 {
		return ar, checkErr
	}
	notChecked := ar.NotChecked
	change := func(fresh *org.Organization) error {
		ar.Activated, ar.Renewed, ar.Failed, ar.NeedsRenewal, ar.Unchanged, ar.NotChecked = 0, 0, 0, 0, 0, notChecked
		ar.Provisioned, ar.ProvisionFailed, ar.Repaired = 0, 0, 0
		index := make(map[string]int, len(fresh.Users))
		for i, u := range fresh.Users {
			if k := org.AddressKey(u.PrimarySMTP); k != "" {
				if _, dup := index[k]; !dup {
					index[k] = i
				}
			}
		}
		for _, oc := range outcomes {
			i, ok := index[oc.key]
			if !ok || fresh.Users[i].ImpersonationIdentity() != oc.identity {
				ar.NotChecked++ // removed or re-identified meanwhile
				continue
			}
			st := &fresh.Users[i].Sync
			provisioned := !st.ProvisionedAt.IsZero()
			kind := applyOutcome(st, withProvision(oc.res), fp, now, oc.renew)
			switch recordProvision(st, oc.res.Provision, kind, now) {
			case 1:
				ar.Provisioned++
				if p := oc.res.Provision; provisioned && (p.Writes > 0 || len(p.SyncStates) > 0) {
					ar.Repaired++
				}
			case -1:
				ar.ProvisionFailed++
			}
			switch kind {
			case kindActivated:
				ar.Activated++
			case kindRenewed:
				ar.Renewed++
			case kindFailed:
				ar.Failed++
			case kindNeedsRenewal:
				ar.NeedsRenewal++
			case kindUnchanged:
				ar.Unchanged++
			default:
				ar.NotChecked++
			}
		}
		return nil
	}
	sctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
		defer cancel()
	}
	saved, err := org.Modify(sctx, store, o.ID, change)
	if err != nil {
		return ar, errors.Join(checkErr, fmt.Errorf("impersonation: saving the outcomes of organization %q: %w", o.ID, err))
	}
	ar.Saved, ar.Version = true, saved.Version
	s.logger.Info("activation saved", "organization", o.ID, "version", saved.Version, "activated", ar.Activated,
		"renewed", ar.Renewed, "failed", ar.Failed, "needsRenewal", ar.NeedsRenewal, "unchanged", ar.Unchanged, "notChecked", ar.NotChecked)
	return ar, checkErr
}

// outcomeKind is what applying one outcome did.
type outcomeKind int

const (
	kindNotChecked outcomeKind = iota
	kindActivated
	kindRenewed
	kindFailed
	kindNeedsRenewal
	kindUnchanged
)

// temporary statuses do not demote an active user.
func temporary(s Status) bool {
	return s == StatusThrottled || s == StatusMailboxUnavailable || s == StatusNetworkError
}

// applyOutcome updates a user's sync state with one check result. With
// renew, an active user whose access the result does not prove (not
// checked, or a temporary failure) becomes NeedsRenewal with the cause.
func applyOutcome(st *org.SyncState, res Result, fp string, now time.Time, renew bool) outcomeKind {
	wasActive := st.Status == org.Active || st.Status == org.NeedsRenewal
	switch {
	case renew && wasActive && (res.Status == StatusNotChecked || temporary(res.Status)):
		code := string(res.Code)
		if code == "" {
			code = string(res.Status)
		}
		if st.Status == org.NeedsRenewal && st.Code == code && st.Message == res.Message {
			st.CheckedAt = now
			return kindUnchanged
		}
		// The fingerprint stays the old one: the access is not proven for
		// the current configuration.
		st.Status, st.Code, st.Message = org.NeedsRenewal, code, res.Message
		st.CheckedAt = now
		return kindNeedsRenewal
	case res.Status == StatusNotChecked:
		return kindNotChecked
	case res.Status == StatusOK:
		kind := kindUnchanged
		switch {
		case !wasActive:
			kind = kindActivated
			st.ActivatedAt = now
		case st.Status == org.NeedsRenewal || st.ConfigFingerprint != fp:
			kind = kindRenewed
			if st.ActivatedAt.IsZero() {
				st.ActivatedAt = now
			}
		}
		st.Status, st.Code, st.Message, st.Remediation = org.Active, "", "", ""
		st.CheckedAt, st.ConfigFingerprint = now, fp
		return kind
	case temporary(res.Status) && wasActive:
		return kindNotChecked
	}
	code := string(res.Code)
	if code == "" {
		code = string(res.Status)
	}
	kind := kindFailed
	if st.Status == org.Failed && st.Code == code && st.Message == res.Message && st.ConfigFingerprint == fp {
		kind = kindUnchanged
	}
	st.Status, st.Code, st.Message, st.Remediation = org.Failed, code, res.Message, ""
	st.CheckedAt, st.ConfigFingerprint = now, fp
	return kind
}

// withProvision returns res as the outcome to record: a failed
// provisioning of a user that passed the check is the user's failure.
func withProvision(res Result) Result {
	if p := res.Provision; res.Status == StatusOK && p != nil && p.Status != StatusOK {
		res.Status, res.Code, res.Message, res.Remediation = p.Status, p.Code, p.Message, p.Remediation
	}
	return res
}

// recordProvision stores a provisioning outcome in the user's sync state
// after applyOutcome: the folder ids and categories found, the baseline
// sync states taken, and the time.
// Folders found by a provisioning that failed elsewhere are recorded too,
// so the next run verifies them instead of looking them up. It returns 1
// for a provisioned user, -1 for a failed one, 0 otherwise.
func recordProvision(st *org.SyncState, p *Provision, kind outcomeKind, now time.Time) int {
	if p == nil || p.ProvisionResult == nil || kind == kindNotChecked {
		return 0
	}
	ids := p.FolderIDs()
	// The parents' ids the run read or confirmed replace the record's: a
	// run that failed before verifying carries the recorded ones forward.
	// A record that stays the same keeps its maps and slices: a no-op run
	// over 10,000 users should not remake 30,000 of them.
	if !maps.Equal(st.ParentFolders, p.ParentFolders) {
		st.ParentFolders = maps.Clone(p.ParentFolders)
	}
	if len(p.SyncStates) > 0 {
		// New baselines replace the states of the same entries (taken for
		// a folder since replaced); the watcher's states of the others
		// stay.
		if st.SyncStates == nil {
			st.SyncStates = make(map[string]string, len(p.SyncStates))
		}
		maps.Copy(st.SyncStates, p.SyncStates)
	}
	if p.Status == StatusOK {
		if !maps.Equal(st.Folders, ids) {
			st.Folders = ids
		}
		if !slices.Equal(st.Categories, p.Categories) {
			st.Categories = slices.Clone(p.Categories)
		}
		st.ProvisionedAt = now
		return 1
	}
	if len(ids) > 0 {
		if st.Folders == nil {
			st.Folders = make(map[string]string, len(ids))
		}
		maps.Copy(st.Folders, ids)
	}
	if st.Status == org.Failed {
		st.Remediation = p.Remediation
		return -1
	}
	return 0
}

// wrappedError is an error with its own complete message that still
// matches err with errors.Is and errors.As.
type wrappedError struct {
	msg string
	err error
}

func (e *wrappedError) Error() string { return e.msg }
func (e *wrappedError) Unwrap() error { return e.err }
