package org

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ProvisioningPlan is what activation adds to every mailbox before sync
// starts (impersonation.Activate provisions it): folders of the other
// system's own, categories in the master category list, the folders whose
// baseline sync state to take, and whether to start the watcher. It is part
// of the organization's configuration ([Organization.Provisioning]) and is
// checked by [Organization.Validate]. [DefaultProvisioningPlan] makes the
// usual one.
//
// Activation takes the baseline sync state of each of BaselineFolders and
// records it in [SyncState.SyncStates]. StartWatcher says whether the
// organization is to be watched: package impersonation's Watcher.Run
// refuses an organization whose plan has it off (activation itself starts
// no watcher; the admin tool runs one).
type ProvisioningPlan struct {
	// Folders are the folders to ensure in every mailbox.
	Folders []PlannedFolder `json:"folders,omitempty"`
	// Categories are the entries to ensure in every mailbox's master
	// category list.
	Categories []PlannedCategory `json:"categories,omitempty"`
	// BaselineFolders names the folders whose baseline sync state to take:
	// each is the Key of an entry of Folders or a distinguished folder
	// name such as "inbox" (see [ProvisioningParents]).
	BaselineFolders []string `json:"baselineFolders,omitempty"`
	// StartWatcher asks for the change watcher to run for the
	// organization's provisioned mailboxes; off, a watcher refuses to
	// watch the organization.
	StartWatcher bool `json:"startWatcher,omitempty"`
}

// PlannedFolder is one folder of a [ProvisioningPlan].
type PlannedFolder struct {
	// Key names the entry for good ("contacts", "tasks", "mail"): provisioned
	// folder ids are recorded under it ([SyncState.Folders]), so renaming
	// the folder in the plan keeps its record. 1 to 64 characters from
	// a-z 0-9 - _ .
	Key string `json:"key"`
	// DisplayName is the folder's name in the mailbox (1 to 255
	// characters, no control characters, no leading or trailing space).
	DisplayName string `json:"displayName"`
	// FolderClass is the folder's class: IPF.Contact, IPF.Task, IPF.Note,
	// IPF.Appointment, or a subclass such as IPF.Contact.CRM.
	FolderClass string `json:"folderClass"`
	// Parent is the distinguished folder it is created in, one of
	// [ProvisioningParents] (msgfolderroot is the top of the mailbox's
	// folder tree, beside the Inbox).
	Parent string `json:"parent"`
}

// PlannedCategory is one entry of a [ProvisioningPlan]'s categories.
type PlannedCategory struct {
	// Name is the category users assign to the items they want synced
	// (1 to 255 characters, no comma: Outlook separates categories with
	// commas).
	Name string `json:"name"`
	// Color is an Outlook colour preset 0 to 24, or [CategoryColorNone].
	Color int `json:"color"`
}

// CategoryColorNone is a category without a colour.
const CategoryColorNone = -1

// Field names of the plan as the admin panel shows them. Rows are "…
// row N", counting from 1.
const (
	FieldProvisioningFolders    = "Provisioning Folders"
	FieldProvisioningCategories = "Provisioning Categories"
	FieldBaselineFolders        = "Baseline Sync Folders"
)

// provisioningParents are the distinguished folders a plan may create
// folders in: the mailbox's folder tree and its default folders, not the
// root, search folders, recoverable items, archive or public folders.
var provisioningParents = []string{
	"msgfolderroot", "inbox", "contacts", "tasks", "calendar", "notes", "journal",
	"drafts", "sentitems", "deleteditems", "junkemail",
}

// ProvisioningParents returns the distinguished folder names a
// [PlannedFolder] may have as its Parent.
func ProvisioningParents() []string { return slices.Clone(provisioningParents) }

// provisioningClasses are the base folder classes a plan may use (a
// subclass adds ".Something").
var provisioningClasses = []string{"IPF.Note", "IPF.Contact", "IPF.Task", "IPF.Appointment", "IPF.StickyNote", "IPF.Journal"}

// DefaultProvisioningPlan returns the plan activation uses in the product
// this library models, for the other system named system (e.g. "CRM"):
// a contacts folder "<system> Contacts" under Contacts, a tasks folder
// "<system> Tasks" under Tasks, a mail folder "<system>" at the top of the
// folder tree, the category "<system>" (blue), baselines of the three
// folders and the watcher. An empty system is "Sync".
func DefaultProvisioningPlan(system string) *ProvisioningPlan {
	system = strings.TrimSpace(system)
	if system == "" {
		system = "Sync"
	}
	return &ProvisioningPlan{
		Folders: []PlannedFolder{
			{Key: "contacts", DisplayName: system + " Contacts", FolderClass: "IPF.Contact", Parent: "contacts"},
			{Key: "tasks", DisplayName: system + " Tasks", FolderClass: "IPF.Task", Parent: "tasks"},
			{Key: "mail", DisplayName: system, FolderClass: "IPF.Note", Parent: "msgfolderroot"},
		},
		Categories:      []PlannedCategory{{Name: system, Color: 7}},
		BaselineFolders: []string{"contacts", "tasks", "mail"},
		StartWatcher:    true,
	}
}

// Clone returns a deep copy of p (nil for nil).
func (p *ProvisioningPlan) Clone() *ProvisioningPlan {
	if p == nil {
		return nil
	}
	c := *p
	c.Folders = slices.Clone(p.Folders)
	c.Categories = slices.Clone(p.Categories)
	c.BaselineFolders = slices.Clone(p.BaselineFolders)
	return &c
}

// Folder returns the entry with the given key.
func (p *ProvisioningPlan) Folder(key string) (PlannedFolder, bool) {
	if p == nil {
		return PlannedFolder{}, false
	}
	for _, f := range p.Folders {
		if f.Key == key {
			return f, true
		}
	}
	return PlannedFolder{}, false
}

// Validate checks the plan alone, naming fields as [Organization.Validate]
// does, and returns nil or a [ValidationErrors] listing every problem. A nil
// plan (no provisioning) is valid.
func (p *ProvisioningPlan) Validate() error {
	c := &checker{}
	p.check(c)
	return c.result()
}

func folderRow(i int) string { return FieldProvisioningFolders + " row " + fmt.Sprint(i+1) }

func categoryRow(i int) string { return FieldProvisioningCategories + " row " + fmt.Sprint(i+1) }

func validPlanKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// checkPlanName reports what is wrong with a folder or category name, or "".
func checkPlanName(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "has no name."
	case !utf8.ValidString(s):
		return "has a name that is not valid UTF-8."
	case utf8.RuneCountInString(s) > 255:
		return fmt.Sprintf("has a name of %d characters; Exchange allows 255.", utf8.RuneCountInString(s))
	case hasInvisible(s):
		return fmt.Sprintf("has a name with control or invisible characters: %s.", quoteInput(s))
	case strings.TrimSpace(s) != s:
		return fmt.Sprintf("has a name with leading or trailing spaces: %s.", quoteInput(s))
	}
	return ""
}

// hasInvisible reports control and format characters (zero-width space,
// bidi marks, soft hyphen, …), which make two names look alike.
func hasInvisible(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}

func validFolderClass(class string) bool {
	for _, base := range provisioningClasses {
		if strings.EqualFold(class, base) {
			return true
		}
		if len(class) > len(base)+1 && strings.EqualFold(class[:len(base)+1], base+".") {
			rest := class[len(base)+1:]
			return !hasControl(rest) && !strings.ContainsAny(rest, " ") && utf8.ValidString(rest) && len(class) <= 255
		}
	}
	return false
}

func (p *ProvisioningPlan) check(c *checker) {
	if p == nil {
		return
	}
	keys := make(map[string]int, len(p.Folders))
	names := make(map[string]int, len(p.Folders)) // parent + folded name
	for i, f := range p.Folders {
		row := folderRow(i)
		switch {
		case !validPlanKey(f.Key):
			c.fail(row, fmt.Sprintf("has the key %s; a key is 1 to 64 characters from a-z 0-9 - _ .", quoteInput(f.Key)),
				"Enter a key such as contacts; it names the folder's record and should not change.", nil)
		default:
			if j, dup := keys[f.Key]; dup {
				c.fail(row, fmt.Sprintf("has the key %q of row %d.", f.Key, j+1), "Give each folder its own key.", ErrDuplicate)
			} else {
				keys[f.Key] = i
			}
		}
		if problem := checkPlanName(f.DisplayName); problem != "" {
			c.fail(row, problem, "Enter the folder's name as users should see it.", nil)
		}
		if !validFolderClass(f.FolderClass) {
			c.fail(row, fmt.Sprintf("has the folder class %s.", quoteInput(f.FolderClass)),
				"Choose IPF.Contact, IPF.Task, IPF.Note or IPF.Appointment (or a subclass such as IPF.Contact.CRM).", nil)
		}
		if !slices.Contains(provisioningParents, f.Parent) {
			c.fail(row, fmt.Sprintf("has the parent folder %s.", quoteInput(f.Parent)),
				"Choose one of "+strings.Join(provisioningParents, ", ")+".", nil)
		}
		if checkPlanName(f.DisplayName) == "" {
			k := f.Parent + "\x00" + strings.ToLower(f.DisplayName)
			if j, dup := names[k]; dup {
				c.fail(row, fmt.Sprintf("is the folder %q in %s of row %d (Exchange compares folder names without regard to case).", f.DisplayName, f.Parent, j+1),
					"Give each folder in one parent its own name.", ErrDuplicate)
			} else {
				names[k] = i
			}
		}
	}
	cats := make(map[string]int, len(p.Categories))
	for i, cat := range p.Categories {
		row := categoryRow(i)
		if problem := checkPlanName(cat.Name); problem != "" {
			c.fail(row, problem, "Enter the category's name.", nil)
		} else if strings.Contains(cat.Name, ",") {
			c.fail(row, fmt.Sprintf("has a comma in its name %s; Outlook separates categories with commas.", quoteInput(cat.Name)), "Remove the comma.", nil)
		} else if j, dup := cats[strings.ToLower(cat.Name)]; dup {
			c.fail(row, fmt.Sprintf("is the category %q of row %d (names compare without regard to case).", cat.Name, j+1), "Remove one of them.", ErrDuplicate)
		} else {
			cats[strings.ToLower(cat.Name)] = i
		}
		if cat.Color < CategoryColorNone || cat.Color > 24 {
			c.fail(row, fmt.Sprintf("has the colour %d.", cat.Color), "Choose a colour preset 0 to 24, or -1 for none.", nil)
		}
	}
	seen := map[string]bool{}
	for _, b := range p.BaselineFolders {
		_, planned := keys[b]
		switch {
		case seen[b]:
			c.fail(FieldBaselineFolders, fmt.Sprintf("lists %s twice.", quoteInput(b)), "Remove one of them.", ErrDuplicate)
		case !planned && !slices.Contains(provisioningParents, b):
			c.fail(FieldBaselineFolders, fmt.Sprintf("lists %s, which is neither the key of a provisioning folder nor a distinguished folder.", quoteInput(b)),
				"List folder keys such as contacts, or distinguished folders such as inbox.", nil)
		}
		seen[b] = true
	}
}

// cloneSync deep-copies the parts of a sync state that are shared by a
// shallow copy.
func cloneSync(s *SyncState) {
	if s.Folders != nil {
		s.Folders = maps.Clone(s.Folders)
	}
	if s.ParentFolders != nil {
		s.ParentFolders = maps.Clone(s.ParentFolders)
	}
	if s.Categories != nil {
		s.Categories = slices.Clone(s.Categories)
	}
	if s.SyncStates != nil {
		s.SyncStates = maps.Clone(s.SyncStates)
	}
	if s.Watch != nil {
		w := *s.Watch
		s.Watch = &w
	}
}
