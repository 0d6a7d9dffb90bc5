package impersonation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sccsync/scc/ews"
	"github.com/sccsync/scc/org"
)

// The marker of folders the provisioner created: a named string property
// in a property set of this library's own, whose value is the ID of the
// organization that provisioned the folder. A folder with the plan's name
// and class but without the marker was made by someone else.
const (
	ProvisionMarkerSetID = "6c0e3a51-2b8f-4d5e-9a47-5f1d3c8e2b90"
	ProvisionMarkerName  = "scc-provisioned-by"
)

// ProvisionMarker returns the extended property that marks the folders the
// provisioner created ([ProvisionMarkerSetID], [ProvisionMarkerName],
// String).
func ProvisionMarker() ews.ExtendedFieldURI {
	return ews.ExtendedFieldURI{PropertySetID: ProvisionMarkerSetID, PropertyName: ProvisionMarkerName, PropertyType: ews.PropertyString}
}

// fieldParentFolderID is folder:ParentFolderId, which the verification
// compares with the plan's parent folder.
const fieldParentFolderID ews.FieldURI = "folder:ParentFolderId"

// ProvisionResult is the outcome of provisioning one mailbox.
type ProvisionResult struct {
	// Folders has one entry per folder of the plan that was found or
	// created, in plan order.
	Folders []ProvisionedFolder
	// Categories are the plan's categories the master category list holds;
	// Added are those this run added.
	Categories []string
	Added      []string
	// SyncStates are the baseline sync states this run took, by the
	// entry of the plan's BaselineFolders (a folder Key or a
	// distinguished folder name); entries whose state was recorded for
	// the same folder are not taken again and not listed.
	SyncStates map[string]string
	// ParentFolders are the ids of the plan's parent folders (by
	// distinguished name) this run read or confirmed, as
	// org.SyncState.ParentFolders records them. A recorded id that a
	// recorded folder's parent did not match is left out.
	ParentFolders map[string]string
	// Verified: the recorded folders, categories and baselines were all
	// confirmed, so nothing was looked up by name, synced or written.
	Verified bool
	// Requests is how many EWS requests were sent (retries included);
	// Writes how many of them were CreateFolder or a write of the category
	// list. A verification that [Activate]'s check carried in its own
	// GetFolder is the check's request, not counted here.
	Requests int
	Writes   int
	// Err is nil when the mailbox holds everything the plan asks for. A
	// *FolderConflictError names a folder the provisioner will not take
	// over; other errors are the server's (quota, access denied, …). With
	// several problems it is their errors.Join.
	Err error
}

// ProvisionedFolder is one folder of the plan as found in the mailbox.
type ProvisionedFolder struct {
	Key         string `json:"key"` // the plan entry's Key
	FolderID    string `json:"folder_id"`
	DisplayName string `json:"display_name"`
	FolderClass string `json:"folder_class"`
	// Created: this run created the folder.
	Created bool `json:"created,omitempty"`
}

// FolderIDs returns the folder ids by plan key, as org.SyncState.Folders
// records them.
func (r *ProvisionResult) FolderIDs() map[string]string {
	if r == nil || len(r.Folders) == 0 {
		return nil
	}
	m := make(map[string]string, len(r.Folders))
	for _, f := range r.Folders {
		m[f.Key] = f.FolderID
	}
	return m
}

// ConflictKind says why a folder of the plan's name cannot be used.
type ConflictKind string

const (
	// ConflictOtherClass: a folder of the name exists with another class
	// (a mail folder where contacts are planned, say).
	ConflictOtherClass ConflictKind = "other-class"
	// ConflictNotOurs: a folder of the name and class exists without the
	// marker: someone made it by hand, and it may hold items the other
	// system must not take over.
	ConflictNotOurs ConflictKind = "not-ours"
	// ConflictOtherOrganization: the folder carries the marker of another
	// organization.
	ConflictOtherOrganization ConflictKind = "other-organization"
)

// FolderConflictError is a folder of the plan's name under the plan's
// parent that the provisioner does not take over.
type FolderConflictError struct {
	Kind        ConflictKind
	Key         string // plan entry
	DisplayName string
	Parent      string // distinguished parent
	WantClass   string
	FoundClass  string
	FoundOwner  string // marker value, for ConflictOtherOrganization
}

// Error says which folder is in the way and why.
func (e *FolderConflictError) Error() string {
	switch e.Kind {
	case ConflictOtherClass:
		return fmt.Sprintf("impersonation: the folder %q in %s is of class %s, not %s", e.DisplayName, e.Parent, e.FoundClass, e.WantClass)
	case ConflictOtherOrganization:
		return fmt.Sprintf("impersonation: the folder %q in %s was provisioned by organization %q", e.DisplayName, e.Parent, e.FoundOwner)
	}
	return fmt.Sprintf("impersonation: the folder %q in %s was not made by this provisioning (it has no marker); it is not taken over", e.DisplayName, e.Parent)
}

// Remediation says what the admin does about it.
func (e *FolderConflictError) Remediation() string {
	switch e.Kind {
	case ConflictOtherClass:
		return fmt.Sprintf("Rename or remove the user's folder %q in %s, or give the plan's folder %q another name.", e.DisplayName, e.Parent, e.Key)
	case ConflictOtherOrganization:
		return fmt.Sprintf("The mailbox is provisioned for organization %q too: remove it from one of the organizations, or give the plan's folder %q another name.", e.FoundOwner, e.Key)
	}
	return fmt.Sprintf("The user's own folder %q in %s is not taken over, so that its items are not synced without consent: rename or remove it (after moving its items), or give the plan's folder %q another name.", e.DisplayName, e.Parent, e.Key)
}

// provisioner provisions one mailbox through view (a client that
// impersonates it). send sends one request with the caller's retry policy
// and counts it.
type provisioner struct {
	view  *ews.Client
	orgID string
	plan  *org.ProvisioningPlan
	send  func(ctx context.Context, idempotent bool, write bool, call func(context.Context) error) error
	res   *ProvisionResult
	// checkCategories re-reads the category list even when the record
	// lists the plan's categories (WithCategoryCheck).
	checkCategories bool
	// prefetched, when not nil, is the answer to the verification's
	// GetFolder (one result per folder of verification), which the
	// check's GetFolder carried: verify sends nothing then.
	prefetched []ews.FolderResult
	// ver is the verification prefetched answers (the check computed it
	// for its request); nil makes verify compute it.
	ver *verification
}

// ProvisionMailbox provisions the mailbox view impersonates (a client made
// with ews.Client.With(ews.Impersonate(…), ews.AnchorMailbox(…))) with plan
// for the organization orgID, and returns what it found, created and sent.
// recorded is the user's stored sync state: its Folders, ParentFolders
// and Categories make a run after a successful one a verification of one
// request (a GetFolder of the recorded folders, and of their parents where
// ParentFolders lacks their ids), with no writes. Record the result's
// FolderIDs and ParentFolders for the next run.
//
// A recorded folder is still ours while it carries the marker and the
// plan's class under the plan's parent, also when the user renamed it; one
// the user deleted (moved to Deleted Items) or moved elsewhere is provided
// anew. For each folder of the plan without such a recorded folder, it lists the parent's
// children (one FindFolder for all parents) and takes the folder of the
// plan's name (names compare without regard to case, as Exchange compares
// them):
//
//   - none: it is created with the marker ([ProvisionMarker], value orgID);
//     a concurrent creator's ErrorFolderExists makes it look again instead
//     of creating a second copy;
//   - of the plan's class with this organization's marker: it is ours;
//   - of another class, without the marker (made by hand) or with another
//     organization's marker: a *FolderConflictError. A hand-made folder is
//     never adopted: its items would be synced without anyone having
//     chosen that.
//
// Categories are ensured with ews.Client.EnsureCategories unless recorded
// lists them all. A verification does not re-read the category list: a
// category the user deleted in Outlook comes back only when the plan's
// categories change or the record is cleared (items keep their category
// either way; the list gives it its colour).
//
// Per-mailbox problems are in the result's Err; the returned error is the
// same, so that a caller of one mailbox needs one check. Requests are sent
// once each (no retries beyond the client's own policy); [Activate]
// provisions with the check's back-off gate and retry budget instead.
func ProvisionMailbox(ctx context.Context, view *ews.Client, orgID string, plan *org.ProvisioningPlan, recorded org.SyncState) (*ProvisionResult, error) {
	if view == nil {
		return nil, errors.New("impersonation: ProvisionMailbox: client is nil")
	}
	if strings.TrimSpace(orgID) == "" {
		return nil, errors.New("impersonation: ProvisionMailbox: empty organization ID; it is the value of the folders' marker")
	}
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("impersonation: ProvisionMailbox: the provisioning plan is invalid: %w", err)
	}
	p := &provisioner{view: view, orgID: orgID, plan: plan, res: &ProvisionResult{}}
	p.send = func(ctx context.Context, _, write bool, call func(context.Context) error) error {
		p.res.Requests++
		if write {
			p.res.Writes++
		}
		return call(ctx)
	}
	p.run(ctx, recorded)
	return p.res, p.res.Err
}

// run provisions and fills p.res.
func (p *provisioner) run(ctx context.Context, recorded org.SyncState) {
	if p.plan == nil {
		p.res.Verified = true
		return
	}
	found := make([]*ProvisionedFolder, len(p.plan.Folders))
	var problems []error
	verifiedAll, err := p.verify(ctx, recorded, found)
	if err != nil {
		p.res.Err = err
		return
	}
	if !verifiedAll {
		problems = append(problems, p.ensureFolders(ctx, found)...)
		if ctx.Err() != nil && len(problems) > 0 {
			p.finish(found, problems)
			return
		}
	}
	catsVerified := true
	if names := p.planCategories(); len(names) > 0 {
		if recordedAll(recorded.Categories, names) && !p.checkCategories {
			p.res.Categories = names
		} else {
			if err := p.ensureCategories(ctx, names); err != nil {
				problems = append(problems, err)
			}
			// A re-read (WithCategoryCheck) that added nothing verified.
			catsVerified = recordedAll(recorded.Categories, names) && len(p.res.Added) == 0 && len(problems) == 0
		}
	}
	if err := p.baselines(ctx, recorded, found); err != nil {
		problems = append(problems, err)
	}
	p.res.Verified = verifiedAll && catsVerified && len(p.res.SyncStates) == 0 && len(problems) == 0
	p.finish(found, problems)
}

// baselines takes the baseline sync state of each entry of the plan's
// BaselineFolders that has none recorded for the folder found: a
// SyncFolderItems from no state to the end (IdOnly, 512 changes a page;
// the changes are dropped, only the state is kept). A recorded state of a
// plan folder counts only while the folder is the one recorded: a folder
// created anew gets a new baseline. Plan folders that were not found or
// made are skipped (their failure is reported already).
func (p *provisioner) baselines(ctx context.Context, recorded org.SyncState, found []*ProvisionedFolder) error {
	for _, b := range p.plan.BaselineFolders {
		var fid ews.FolderID
		if i := slices.IndexFunc(p.plan.Folders, func(f org.PlannedFolder) bool { return f.Key == b }); i >= 0 {
			if found[i] == nil {
				continue
			}
			if recorded.SyncStates[b] != "" && recorded.Folders[b] == found[i].FolderID {
				continue
			}
			fid = ews.FolderID{ID: found[i].FolderID}
		} else {
			if recorded.SyncStates[b] != "" {
				continue
			}
			fid = ews.DistinguishedFolder(ews.DistinguishedFolderName(b))
		}
		state, err := p.baseline(ctx, fid)
		if err != nil {
			return fmt.Errorf("impersonation: taking the baseline sync state of %s: %w", b, err)
		}
		if p.res.SyncStates == nil {
			p.res.SyncStates = map[string]string{}
		}
		p.res.SyncStates[b] = state
	}
	return nil
}

// baseline syncs the folder from no state to the end and returns the
// final state.
func (p *provisioner) baseline(ctx context.Context, fid ews.FolderID) (string, error) {
	state := ""
	for {
		var resp *ews.SyncFolderItemsResponse
		err := p.send(ctx, true, false, func(ctx context.Context) error {
			var err error
			resp, err = p.view.SyncFolderItems(ctx, &ews.SyncFolderItemsRequest{
				FolderID: fid, SyncState: state, Shape: ews.ShapeIDOnly, MaxChanges: ews.MaxSyncChanges})
			return err
		})
		if err != nil {
			return "", err
		}
		switch {
		case resp.SyncState == "":
			return "", errors.New("impersonation: SyncFolderItems answered without a SyncState")
		case !resp.IncludesLastItemInRange && len(resp.Changes) == 0 && resp.SyncState == state:
			return "", errors.New("impersonation: SyncFolderItems says more changes are waiting but returned none and the same SyncState; stopped instead of asking forever")
		}
		state = resp.SyncState
		if resp.IncludesLastItemInRange {
			return state, nil
		}
	}
}

func (p *provisioner) finish(found []*ProvisionedFolder, problems []error) {
	for _, f := range found {
		if f != nil {
			p.res.Folders = append(p.res.Folders, *f)
		}
	}
	p.res.Err = errors.Join(problems...)
}

func (p *provisioner) planCategories() []string {
	var names []string
	for _, c := range p.plan.Categories {
		names = append(names, c.Name)
	}
	return names
}

func recordedAll(recorded, names []string) bool {
	for _, n := range names {
		if !slices.ContainsFunc(recorded, func(r string) bool { return strings.EqualFold(r, n) }) {
			return false
		}
	}
	return true
}

// owner returns the marker's value on f.
func owner(f *ews.Folder) (string, bool) {
	v, ok := f.ExtendedProperty(ProvisionMarker())
	return v.Value, ok
}

// distinctParents returns the plan's parents, each once, in plan order.
func (p *provisioner) distinctParents(only func(i int) bool) []string {
	var out []string
	for i, f := range p.plan.Folders {
		if only(i) && !slices.Contains(out, f.Parent) {
			out = append(out, f.Parent)
		}
	}
	return out
}

// verify confirms the recorded folders with one GetFolder of them and of
// the parents whose ids are not recorded: each must exist, carry this
// organization's marker, have the plan's class and still sit in the
// plan's parent (a folder the user deleted sits in Deleted Items). It
// fills found for the confirmed ones and reports whether every plan folder
// was. Without a record for every folder it sends the request for those
// that have one; without any, none. When the check's GetFolder carried the
// verification (p.prefetched), nothing is sent; without recorded folders
// that answer still tells the parents' ids, for the record.
func (p *provisioner) verify(ctx context.Context, recorded org.SyncState, found []*ProvisionedFolder) (bool, error) {
	var v verification
	if p.ver != nil {
		v = *p.ver
	} else {
		v = p.verification(recorded)
	}
	parentID := v.known
	defer func() {
		if len(parentID) > 0 {
			p.res.ParentFolders = parentID
		}
	}()
	if len(v.ids) == 0 || (len(v.idx) == 0 && p.prefetched == nil) {
		return len(p.plan.Folders) == 0, nil
	}
	results := p.prefetched
	if results == nil {
		var resp *ews.GetFolderResponse
		err := p.send(ctx, true, false, func(ctx context.Context) error {
			var err error
			resp, err = p.view.GetFolder(ctx, v.request(nil, ews.ShapeIDOnly))
			if err == nil && len(resp.Results) != len(v.ids) {
				err = fmt.Errorf("impersonation: GetFolder answered %d results for %d folders", len(resp.Results), len(v.ids))
			}
			return err
		})
		if err != nil {
			return false, err
		}
		results = resp.Results
	}
	if len(results) != len(v.ids) {
		return false, fmt.Errorf("impersonation: GetFolder answered %d results for %d folders", len(results), len(v.ids))
	}
	for j, name := range v.parents {
		if r := results[len(v.idx)+j]; r.Err == nil && r.Folder.FolderID.ID != "" {
			parentID[name] = r.Folder.FolderID.ID
		}
	}
	// A recorded parent id that a folder's parent does not match is
	// dropped: the folder was moved, or the id is stale (a mailbox moved
	// to another database); the next run reads the parent anew rather
	// than trust either.
	var stale []string
	for j, i := range v.idx {
		r := results[j]
		pf := p.plan.Folders[i]
		if r.Err != nil {
			continue // deleted for good, or never there: look by name
		}
		f := r.Folder
		if own, _ := owner(&f); own != p.orgID || !strings.EqualFold(f.FolderClass, pf.FolderClass) {
			continue
		}
		if parentID[pf.Parent] == "" || f.ParentFolderID.ID != parentID[pf.Parent] {
			if recorded.ParentFolders[pf.Parent] == parentID[pf.Parent] {
				stale = append(stale, pf.Parent)
			}
			continue
		}
		found[i] = &ProvisionedFolder{Key: pf.Key, FolderID: f.FolderID.ID, DisplayName: f.DisplayName, FolderClass: f.FolderClass}
	}
	for _, name := range stale {
		delete(parentID, name)
	}
	return !slices.Contains(found, nil), nil
}

// verification is the GetFolder that confirms a record: the recorded
// folders (plan indexes idx), then the plan's distinct parents whose ids
// are not recorded (known holds those that are).
type verification struct {
	idx     []int
	parents []string
	known   map[string]string
	ids     []ews.FolderID
}

// verification returns the GetFolder that confirms recorded's folders and
// reads the parents' ids the record lacks; its ids are empty when there
// is nothing to ask. Without a recorded folder it asks only for parents,
// which is worth it only where the request is sent anyway (the check's).
func (p *provisioner) verification(recorded org.SyncState) verification {
	var v verification
	if p.plan == nil || len(p.plan.Folders) == 0 {
		return v
	}
	for i, f := range p.plan.Folders {
		if recorded.Folders[f.Key] != "" {
			v.idx = append(v.idx, i)
		}
	}
	v.known = make(map[string]string, len(p.plan.Folders))
	for _, name := range p.distinctParents(func(int) bool { return true }) {
		if id := recorded.ParentFolders[name]; id != "" {
			v.known[name] = id
		} else {
			v.parents = append(v.parents, name)
		}
	}
	v.ids = make([]ews.FolderID, 0, len(v.idx)+len(v.parents))
	for _, i := range v.idx {
		v.ids = append(v.ids, ews.FolderID{ID: recorded.Folders[p.plan.Folders[i].Key]})
	}
	for _, name := range v.parents {
		v.ids = append(v.ids, ews.DistinguishedFolder(ews.DistinguishedFolderName(name)))
	}
	return v
}

// request is the GetFolder of first followed by the verification's
// folders, with the properties the verification compares.
func (v verification) request(first []ews.FolderID, shape ews.BaseShape) *ews.GetFolderRequest {
	return &ews.GetFolderRequest{
		FolderIDs:            append(slices.Clone(first), v.ids...),
		Shape:                shape,
		AdditionalProperties: []ews.FieldURI{ews.FieldFolderDisplayName, ews.FieldFolderClass, fieldParentFolderID},
		ExtendedProperties:   []ews.ExtendedFieldURI{ProvisionMarker()},
	}
}

// children lists the children of the parents (one FindFolder for all,
// then further pages of the parents whose list was longer), keyed by
// parent.
func (p *provisioner) children(ctx context.Context, parents []string) (map[string][]ews.Folder, error) {
	out := make(map[string][]ews.Folder, len(parents))
	const pageSize = 500
	type want struct {
		parent string
		offset int
	}
	todo := make([]want, len(parents))
	for i, name := range parents {
		todo[i] = want{parent: name}
	}
	for len(todo) > 0 {
		// A batch shares one page offset: the first round asks all parents
		// at 0, later rounds one parent each.
		batch := todo
		if batch[0].offset > 0 {
			batch = todo[:1]
		}
		ids := make([]ews.FolderID, len(batch))
		for i, w := range batch {
			ids[i] = ews.DistinguishedFolder(ews.DistinguishedFolderName(w.parent))
		}
		var resp *ews.FindFolderResponse
		err := p.send(ctx, true, false, func(ctx context.Context) error {
			var err error
			resp, err = p.view.FindFolder(ctx, &ews.FindFolderRequest{
				ParentFolderIDs: ids,
				// The counts tell a deactivation whether a folder is empty.
				AdditionalProperties: []ews.FieldURI{ews.FieldFolderDisplayName, ews.FieldFolderClass, ews.FieldFolderTotalCount, ews.FieldFolderChildFolderCount},
				ExtendedProperties:   []ews.ExtendedFieldURI{ProvisionMarker()},
				Page:                 &ews.PageView{MaxEntries: pageSize, Offset: batch[0].offset},
			})
			if err == nil && len(resp.Results) != len(ids) {
				err = fmt.Errorf("impersonation: FindFolder answered %d results for %d folders", len(resp.Results), len(ids))
			}
			if err != nil {
				return err
			}
			for _, r := range resp.Results {
				if r.Err != nil {
					return r.Err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		var next []want
		for i, w := range batch {
			r := resp.Results[i]
			out[w.parent] = append(out[w.parent], r.Folders...)
			if !r.Page.IncludesLastItemInRange && len(r.Folders) > 0 {
				next = append(next, want{parent: w.parent, offset: w.offset + len(r.Folders)})
			}
		}
		todo = append(next, todo[len(batch):]...)
	}
	return out, nil
}

// match applies the ownership rules to the child of the plan folder's
// name, if any: the folder when it is ours, a conflict when it is not, or
// neither when there is none.
func (p *provisioner) match(pf org.PlannedFolder, kids []ews.Folder) (*ProvisionedFolder, error) {
	for i := range kids {
		f := &kids[i]
		if !strings.EqualFold(f.DisplayName, pf.DisplayName) {
			continue
		}
		own, marked := owner(f)
		switch {
		case !strings.EqualFold(f.FolderClass, pf.FolderClass):
			return nil, &FolderConflictError{Kind: ConflictOtherClass, Key: pf.Key, DisplayName: f.DisplayName, Parent: pf.Parent, WantClass: pf.FolderClass, FoundClass: f.FolderClass}
		case !marked:
			return nil, &FolderConflictError{Kind: ConflictNotOurs, Key: pf.Key, DisplayName: f.DisplayName, Parent: pf.Parent, WantClass: pf.FolderClass, FoundClass: f.FolderClass}
		case own != p.orgID:
			return nil, &FolderConflictError{Kind: ConflictOtherOrganization, Key: pf.Key, DisplayName: f.DisplayName, Parent: pf.Parent, WantClass: pf.FolderClass, FoundClass: f.FolderClass, FoundOwner: own}
		}
		return &ProvisionedFolder{Key: pf.Key, FolderID: f.FolderID.ID, DisplayName: f.DisplayName, FolderClass: f.FolderClass}, nil
	}
	return nil, nil
}

// newFolder is the folder CreateFolder makes for pf: the element of its
// class, and the marker.
func (p *provisioner) newFolder(pf org.PlannedFolder) ews.Folder {
	f := ews.Folder{DisplayName: pf.DisplayName, ExtendedProperties: []ews.ExtendedProperty{{Field: ProvisionMarker(), Value: p.orgID}}}
	switch {
	case strings.EqualFold(pf.FolderClass, "IPF.Contact"):
		f.Kind = ews.FolderKindContactsFolder
	case strings.EqualFold(pf.FolderClass, "IPF.Task"):
		f.Kind = ews.FolderKindTasksFolder
	case strings.EqualFold(pf.FolderClass, "IPF.Appointment"):
		f.Kind = ews.FolderKindCalendarFolder
	default:
		f.Kind, f.FolderClass = ews.FolderKindFolder, pf.FolderClass
	}
	return f
}

// ensureFolders finds or creates the plan folders found lacks.
func (p *provisioner) ensureFolders(ctx context.Context, found []*ProvisionedFolder) []error {
	parents := p.distinctParents(func(i int) bool { return found[i] == nil })
	kids, err := p.children(ctx, parents)
	if err != nil {
		return []error{err}
	}
	var problems []error
	missing := map[string][]int{} // parent → plan indexes to create
	for i, pf := range p.plan.Folders {
		if found[i] != nil {
			continue
		}
		f, err := p.match(pf, kids[pf.Parent])
		switch {
		case err != nil:
			problems = append(problems, err)
		case f != nil:
			found[i] = f
		default:
			missing[pf.Parent] = append(missing[pf.Parent], i)
		}
	}
	for _, parent := range parents {
		idx := missing[parent]
		if len(idx) == 0 {
			continue
		}
		folders := make([]ews.Folder, len(idx))
		for j, i := range idx {
			folders[j] = p.newFolder(p.plan.Folders[i])
		}
		var resp *ews.FolderResponse
		err := p.send(ctx, false, true, func(ctx context.Context) error {
			var err error
			resp, err = p.view.CreateFolder(ctx, &ews.CreateFolderRequest{
				ParentFolderID: ews.DistinguishedFolder(ews.DistinguishedFolderName(parent)), Folders: folders})
			if err == nil && len(resp.Results) != len(folders) {
				err = fmt.Errorf("impersonation: CreateFolder answered %d results for %d folders", len(resp.Results), len(folders))
			}
			if err == nil && len(folders) == 1 && resp.Results[0].Err != nil && !errors.Is(resp.Results[0].Err, ews.ErrorFolderExists) {
				// One folder: its error is the request's, so that the
				// retry budget applies to a busy server.
				err = resp.Results[0].Err
			}
			return err
		})
		if err != nil {
			problems = append(problems, err)
			continue
		}
		refind := false
		for j, i := range idx {
			r := resp.Results[j]
			pf := p.plan.Folders[i]
			switch {
			case r.Err == nil:
				found[i] = &ProvisionedFolder{Key: pf.Key, FolderID: r.Folder.FolderID.ID, DisplayName: pf.DisplayName, FolderClass: pf.FolderClass, Created: true}
			case errors.Is(r.Err, ews.ErrorFolderExists):
				refind = true // created meanwhile by someone else
			default:
				problems = append(problems, r.Err)
			}
		}
		if !refind {
			continue
		}
		again, err := p.children(ctx, []string{parent})
		if err != nil {
			problems = append(problems, err)
			continue
		}
		for _, i := range idx {
			if found[i] != nil || !errors.Is(resp.Results[slices.Index(idx, i)].Err, ews.ErrorFolderExists) {
				continue
			}
			pf := p.plan.Folders[i]
			f, err := p.match(pf, again[parent])
			switch {
			case err != nil:
				problems = append(problems, err)
			case f != nil:
				found[i] = f
			default:
				problems = append(problems, fmt.Errorf("impersonation: creating the folder %q in %s: Exchange answered ErrorFolderExists, and no folder of that name is listed: %w", pf.DisplayName, parent, resp.Results[slices.Index(idx, i)].Err))
			}
		}
	}
	return problems
}

// ensureCategories adds the plan's categories to the master category list.
func (p *provisioner) ensureCategories(ctx context.Context, names []string) error {
	cats := make([]ews.Category, len(p.plan.Categories))
	for i, c := range p.plan.Categories {
		cats[i] = ews.Category{Name: c.Name, Color: c.Color}
	}
	var added []ews.Category
	// EnsureCategories reads the list before it writes, so repeating it
	// after a failure adds nothing twice. It sends one or two requests;
	// they are counted as one read and, when something was added, a write.
	err := p.send(ctx, true, false, func(ctx context.Context) error {
		var err error
		added, err = p.view.EnsureCategories(ctx, cats)
		return err
	})
	if err != nil {
		return err
	}
	p.res.Categories = names
	for _, c := range added {
		p.res.Added = append(p.res.Added, c.Name)
	}
	if len(added) > 0 {
		p.res.Requests++
		p.res.Writes++
	}
	return nil
}

// codeFolderConflict is the Code of a provisioning stopped by a folder in
// the way (a *FolderConflictError).
const codeFolderConflict ews.ResponseCode = "folder-conflict"

// provision provisions user u of a run through view, with the run's
// back-off gate, concurrency limit and retry budget.
// verified, when not nil, is the answer to the verification ver that the
// check's GetFolder carried (see [run.checkUser]).
func (r *run) provision(ctx context.Context, view *ews.Client, u org.User, identityKind, address string, ver *verification, verified []ews.FolderResult) *Provision {
	p := &provisioner{view: view, orgID: r.s.orgID, plan: r.s.plan, res: &ProvisionResult{}, checkCategories: r.s.categoryCheck}
	if verified != nil {
		p.prefetched, p.ver = verified, ver
	}
	var failed *attempt
	p.send = r.sender("provisioning", identityKind, address, &p.res.Requests, &p.res.Writes, &failed)
	p.run(ctx, u.Sync)
	pr := &Provision{ProvisionResult: p.res, Status: StatusOK}
	if p.res.Err == nil {
		return pr
	}
	var conflicts []string
	var fixes []string
	for _, err := range unjoin(p.res.Err) {
		var ce *FolderConflictError
		if errors.As(err, &ce) {
			conflicts = append(conflicts, strings.TrimPrefix(ce.Error(), "impersonation: "))
			fixes = append(fixes, ce.Remediation())
		}
	}
	switch {
	case failed != nil:
		pr.Status, pr.Code, pr.Message = failed.status, failed.code, "provisioning the mailbox failed: "+failed.message
		pr.Remediation = provisionRemediation(*failed, r.remediationFor(*failed, identityKind, address))
		if len(fixes) > 0 {
			pr.Remediation += " " + strings.Join(fixes, " ")
		}
	case len(conflicts) > 0:
		pr.Status, pr.Code = StatusError, codeFolderConflict
		pr.Message = "provisioning the mailbox stopped: " + strings.Join(conflicts, "; ")
		pr.Remediation = strings.Join(fixes, " ")
	default:
		pr.Status, pr.Message = StatusNotChecked, "provisioning did not finish: "+p.res.Err.Error()
		pr.Remediation = "Run the activation again to finish provisioning."
	}
	return pr
}

// sender returns the send function of a provisioner or deprovisioner of
// one mailbox (verb says which, for the stop's reason): each request goes
// through the run's back-off gate, concurrency limit and retry budget and
// is counted in requests (and writes); the first failed attempt is kept
// in *failed. A failure every user would share (a 401, a server that
// stops answering) stops the run, as in the check.
func (r *run) sender(verb, identityKind, address string, requests, writes *int, failed **attempt) func(ctx context.Context, idempotent, write bool, call func(context.Context) error) error {
	return func(ctx context.Context, idempotent, write bool, call func(context.Context) error) error {
		a := r.do(ctx, r.s.budget.MaxAttempts, idempotent, call)
		*requests += a.attempts
		if write {
			*writes += a.attempts
		}
		switch {
		case a.cancelled:
			if err := context.Cause(ctx); err != nil {
				return err
			}
			return context.Canceled
		case a.status == StatusOK:
			return nil
		}
		if *failed == nil {
			*failed = &a
		}
		if a.status == StatusAuthFailed || a.stop {
			r.setStop(Stop{Status: a.status, Code: a.code,
				Reason:      fmt.Sprintf("Exchange answered %s while %s %s: every user would fail the same way: %s", a.code, verb, address, a.message),
				Remediation: r.remediationFor(a, identityKind, address)}, a.cause())
		}
		if a.err != nil {
			return a.err
		}
		return errors.New(a.message)
	}
}

// provisionRemediation names what stops a mailbox from being provisioned
// when the server refused a write; otherwise it is the check's remediation.
func provisionRemediation(a attempt, fallback string) string {
	switch a.code {
	case ews.ErrorQuotaExceeded:
		return "The mailbox is over its storage quota, so no folder can be added: free space or raise the quota (Set-Mailbox -ProhibitSendReceiveQuota), then activate again."
	case ews.ErrorAccessDenied:
		return "The service account may read the mailbox but not create folders in it: grant it impersonation with full access (ApplicationImpersonation on-premises, full_access_as_app for app-only), then activate again."
	case ews.ErrorFolderSave:
		return "Exchange could not save the folder: check the mailbox's folder limits (Get-MailboxFolderStatistics) and retention policies, then activate again."
	}
	return fallback
}

// unjoin returns the errors errors.Join combined, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
