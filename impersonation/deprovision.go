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

// KeptReason says why a deactivation left a provisioned folder in place.
type KeptReason string

const (
	// KeptNotEmpty: the folder holds items or subfolders, and
	// [WithRemoveContent] was not given.
	KeptNotEmpty KeptReason = "not-empty"
	// KeptNotOurs: the recorded folder no longer carries this
	// organization's marker; it is not removed, and no longer recorded.
	KeptNotOurs KeptReason = "not-ours"
	// KeptFailed: Exchange refused to delete the folder (or to show it);
	// the result's Code and Message say why.
	KeptFailed KeptReason = "failed"
)

// KeptFolder is a folder a deactivation did not remove.
type KeptFolder struct {
	ProvisionedFolder
	Reason KeptReason `json:"reason"`
	// TotalCount and ChildFolderCount are the folder's items and
	// subfolders, for KeptNotEmpty.
	TotalCount       int `json:"total_count,omitempty"`
	ChildFolderCount int `json:"child_folder_count,omitempty"`
}

// codeFolderNotEmpty is the Code of a deactivation that kept a folder
// holding items.
const codeFolderNotEmpty ews.ResponseCode = "folder-not-empty"

// removal is what removing one mailbox's provisioning did.
type removal struct {
	removed []ProvisionedFolder // deleted by this run
	gone    []string            // recorded keys whose folder was already gone
	kept    []KeptFolder
	// dropped are the recorded keys to forget: removed, gone or not ours.
	dropped map[string]string // key → the id that was recorded
	// adopted are folders of ours that were kept but not recorded (made
	// by an activation that crashed before it saved): recorded now, so
	// that the next deactivation finds them.
	adopted map[string]string
	// categories are the names taken out of the list (or found absent);
	// catsDone says the list holds none of the names any more.
	categories []string
	catsDone   bool
	requests   int
	writes     int
	problems   []error
}

// deprovisioner removes one mailbox's provisioning through view.
type deprovisioner struct {
	p        *provisioner // for its children listing and send
	content  bool
	recorded map[string]string // the record's folder ids by key
	out      *removal
}

// candidate is a folder of ours found in the mailbox.
type candidate struct {
	key string
	f   ews.Folder
}

// run removes what the record and the plan say activation created.
func (d *deprovisioner) run(ctx context.Context, recorded org.SyncState) {
	p := d.p
	d.recorded = recorded.Folders
	d.out.dropped, d.out.adopted = map[string]string{}, map[string]string{}
	var parents []string
	if p.plan != nil {
		parents = p.distinctParents(func(int) bool { return true })
	}
	keyOf := map[string]string{} // recorded id → key
	for k, id := range recorded.Folders {
		if id != "" {
			keyOf[id] = k
		}
	}
	var ours []candidate
	seen := map[string]bool{}
	if len(parents) > 0 {
		kids, err := p.children(ctx, parents)
		if err != nil {
			d.out.problems = append(d.out.problems, err)
			d.categories(ctx, recorded)
			return
		}
		// Every folder in a plan parent that carries this organization's
		// marker was made by activation: those under their recorded key,
		// the others (created by a run that crashed before it recorded
		// them) under the key of the plan folder of their name.
		for _, parent := range parents {
			for _, f := range kids[parent] {
				if own, _ := owner(&f); own != p.orgID {
					continue
				}
				key, ok := keyOf[f.FolderID.ID]
				if !ok {
					key = p.planKey(parent, f.DisplayName)
				}
				seen[f.FolderID.ID] = true
				ours = append(ours, candidate{key: key, f: f})
			}
		}
	}
	// Recorded folders elsewhere (moved by the user) or gone.
	var elsewhere []string
	for id := range keyOf {
		if !seen[id] {
			elsewhere = append(elsewhere, id)
		}
	}
	slices.Sort(elsewhere)
	if len(elsewhere) > 0 {
		found, err := d.lookup(ctx, elsewhere, keyOf)
		if err != nil {
			d.out.problems = append(d.out.problems, err)
		}
		ours = append(ours, found...)
	}
	var hard, move []candidate
	for _, c := range ours {
		switch {
		case c.f.TotalCount == 0 && c.f.ChildFolderCount == 0:
			hard = append(hard, c)
		case d.content:
			move = append(move, c)
		default:
			d.out.kept = append(d.out.kept, KeptFolder{ProvisionedFolder: provisioned(c), Reason: KeptNotEmpty,
				TotalCount: c.f.TotalCount, ChildFolderCount: c.f.ChildFolderCount})
			d.adopt(c)
		}
	}
	d.delete(ctx, ews.HardDelete, hard)
	d.delete(ctx, ews.MoveToDeletedItems, move)
	d.categories(ctx, recorded)
}

// adopt records a kept folder of ours whose key has no record.
func (d *deprovisioner) adopt(c candidate) {
	if c.key != "" && d.recorded[c.key] == "" {
		d.out.adopted[c.key] = c.f.FolderID.ID
	}
}

// planKey is the Key of the plan folder named name in parent, or "".
func (p *provisioner) planKey(parent, name string) string {
	for _, pf := range p.plan.Folders {
		if pf.Parent == parent && strings.EqualFold(pf.DisplayName, name) {
			return pf.Key
		}
	}
	return ""
}

func provisioned(c candidate) ProvisionedFolder {
	return ProvisionedFolder{Key: c.key, FolderID: c.f.FolderID.ID, DisplayName: c.f.DisplayName, FolderClass: c.f.FolderClass}
}

// lookup reads recorded folders that are not in their plan parent: ours
// are returned, gone ones and those without our marker are dropped from
// the record.
func (d *deprovisioner) lookup(ctx context.Context, ids []string, keyOf map[string]string) ([]candidate, error) {
	p := d.p
	fids := make([]ews.FolderID, len(ids))
	for i, id := range ids {
		fids[i] = ews.FolderID{ID: id}
	}
	var resp *ews.GetFolderResponse
	err := p.send(ctx, true, false, func(ctx context.Context) error {
		var err error
		resp, err = p.view.GetFolder(ctx, &ews.GetFolderRequest{
			FolderIDs: fids,
			AdditionalProperties: []ews.FieldURI{ews.FieldFolderDisplayName, ews.FieldFolderClass,
				ews.FieldFolderTotalCount, ews.FieldFolderChildFolderCount},
			ExtendedProperties: []ews.ExtendedFieldURI{ProvisionMarker()},
		})
		if err == nil && len(resp.Results) != len(ids) {
			err = fmt.Errorf("impersonation: GetFolder answered %d results for %d folders", len(resp.Results), len(ids))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []candidate
	var problems []error
	for i, r := range resp.Results {
		key := keyOf[ids[i]]
		switch {
		case gone(r.Err):
			d.out.gone = append(d.out.gone, key)
			d.out.dropped[key] = ids[i]
		case r.Err != nil:
			problems = append(problems, r.Err)
		default:
			f := r.Folder
			if own, _ := owner(&f); own != p.orgID {
				d.out.kept = append(d.out.kept, KeptFolder{ProvisionedFolder: provisioned(candidate{key, f}), Reason: KeptNotOurs})
				d.out.dropped[key] = ids[i]
				continue
			}
			out = append(out, candidate{key: key, f: f})
		}
	}
	return out, errors.Join(problems...)
}

// gone reports whether a folder's error says it no longer exists.
func gone(err error) bool {
	return errors.Is(err, ews.ErrorItemNotFound) || errors.Is(err, ews.ErrorFolderNotFound)
}

// delete deletes the candidates with one DeleteFolder.
func (d *deprovisioner) delete(ctx context.Context, how ews.DeleteType, cs []candidate) {
	if len(cs) == 0 {
		return
	}
	p := d.p
	ids := make([]ews.FolderID, len(cs))
	for i, c := range cs {
		ids[i] = c.f.FolderID
	}
	var resp *ews.StatusResponse
	// Repeating a DeleteFolder is safe: a folder already deleted answers
	// ErrorItemNotFound, which counts as removed.
	err := p.send(ctx, true, true, func(ctx context.Context) error {
		var err error
		resp, err = p.view.DeleteFolder(ctx, &ews.DeleteFolderRequest{FolderIDs: ids, DeleteType: how})
		if err == nil && len(resp.Results) != len(ids) {
			err = fmt.Errorf("impersonation: DeleteFolder answered %d results for %d folders", len(resp.Results), len(ids))
		}
		if err == nil && len(ids) == 1 && resp.Results[0].Err != nil && !gone(resp.Results[0].Err) {
			// One folder: its error is the request's, so that the retry
			// budget and the run's classification apply.
			err = resp.Results[0].Err
		}
		return err
	})
	if err != nil {
		d.out.problems = append(d.out.problems, err)
		for _, c := range cs {
			d.out.kept = append(d.out.kept, KeptFolder{ProvisionedFolder: provisioned(c), Reason: KeptFailed})
			d.adopt(c)
		}
		return
	}
	for i, r := range resp.Results {
		c := cs[i]
		if r.Err != nil && !gone(r.Err) {
			d.out.problems = append(d.out.problems, r.Err)
			d.out.kept = append(d.out.kept, KeptFolder{ProvisionedFolder: provisioned(c), Reason: KeptFailed})
			d.adopt(c)
			continue
		}
		d.out.removed = append(d.out.removed, provisioned(c))
		if c.key != "" {
			d.out.dropped[c.key] = c.f.FolderID.ID
		}
	}
}

// categories takes the plan's and the recorded categories out of the
// master category list.
func (d *deprovisioner) categories(ctx context.Context, recorded org.SyncState) {
	p := d.p
	var names []string
	add := func(n string) {
		if !slices.ContainsFunc(names, func(m string) bool { return strings.EqualFold(m, n) }) {
			names = append(names, n)
		}
	}
	if p.plan != nil {
		for _, c := range p.plan.Categories {
			add(c.Name)
		}
	}
	for _, n := range recorded.Categories {
		add(n)
	}
	if len(names) == 0 {
		d.out.catsDone = true
		return
	}
	var removed []ews.Category
	err := p.send(ctx, true, false, func(ctx context.Context) error {
		var err error
		removed, err = p.view.RemoveCategories(ctx, names)
		return err
	})
	if err != nil {
		d.out.problems = append(d.out.problems, err)
		return
	}
	if len(removed) > 0 {
		d.out.requests++
		d.out.writes++
	}
	d.out.categories, d.out.catsDone = names, true
}
