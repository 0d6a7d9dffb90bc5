package ews

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// CategoryListName is the user configuration on the calendar folder that
// holds Outlook's master category list (MS-OXOCFG).
const CategoryListName = "CategoryList"

// Category is one entry of the master category list. Items name their
// categories in item:Categories without needing an entry; the list gives a
// name its colour in Outlook.
type Category struct {
	Name string
	// Color is -1 (none) or a preset 0 to 24 (CategoryColorRed, ...).
	Color int
	// GUID identifies the entry ("{...}"); EnsureCategories makes one for a
	// new entry.
	GUID string
}

// A few of Outlook's 25 category colour presets.
const (
	CategoryColorNone   = -1
	CategoryColorRed    = 0
	CategoryColorOrange = 1
	CategoryColorPeach  = 2
	CategoryColorYellow = 3
	CategoryColorGreen  = 4
	CategoryColorTeal   = 5
	CategoryColorOlive  = 6
	CategoryColorBlue   = 7
	CategoryColorPurple = 8
)

// CategoryList is a parsed master category list (the XmlData of
// CategoryList). It keeps the document as read, so attributes this package
// does not know survive a rewrite.
type CategoryList struct {
	doc  *etree.Document
	root *etree.Element
}

const categoryNamespace = "CategoryList.xsd"

// NewCategoryList returns an empty list.
func NewCategoryList() *CategoryList {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0"`)
	root := doc.CreateElement("categories")
	root.CreateAttr("default", "")
	root.CreateAttr("xmlns", categoryNamespace)
	return &CategoryList{doc: doc, root: root}
}

// ParseCategoryList reads the XML of a master category list, leniently: a
// byte order mark, extra attributes and unknown elements are kept.
func ParseCategoryList(data []byte) (*CategoryList, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if _, err := parseTree(context.Background(), data); err != nil {
		return nil, fmt.Errorf("ews: category list: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("ews: category list: %w", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "categories" {
		return nil, errors.New("ews: category list: the root element is not <categories>")
	}
	return &CategoryList{doc: doc, root: root}, nil
}

// Categories returns the entries in document order.
func (l *CategoryList) Categories() []Category {
	var out []Category
	for _, e := range l.root.ChildElements() {
		if e.Tag == "category" {
			out = append(out, categoryOf(e))
		}
	}
	return out
}

// categoryOf reads one category element.
func categoryOf(e *etree.Element) Category {
	color, err := strconv.Atoi(strings.TrimSpace(e.SelectAttrValue("color", "-1")))
	if err != nil {
		color = CategoryColorNone
	}
	return Category{Name: e.SelectAttrValue("name", ""), Color: color, GUID: e.SelectAttrValue("guid", "")}
}

// find returns the entry named name, compared case-insensitively as Outlook
// does.
func (l *CategoryList) find(name string) *etree.Element {
	for _, e := range l.root.ChildElements() {
		if e.Tag == "category" && strings.EqualFold(e.SelectAttrValue("name", ""), name) {
			return e
		}
	}
	return nil
}

// Ensure adds the categories that have no entry yet (by name,
// case-insensitively) and returns those it added; existing entries, with the
// colour a user may have chosen, stay as they are.
func (l *CategoryList) Ensure(cats ...Category) ([]Category, error) {
	var added []Category
	for _, c := range cats {
		if strings.TrimSpace(c.Name) == "" {
			return nil, invalidf("EnsureCategories: a category has an empty name")
		}
		if len(c.Name) > 255 {
			return nil, invalidf("EnsureCategories: category name %q is longer than 255 bytes", clip(c.Name))
		}
		if err := checkText("EnsureCategories", "category name", c.Name); err != nil {
			return nil, err
		}
		if c.Color < -1 || c.Color > 24 {
			return nil, invalidf("EnsureCategories: category %q has colour %d, outside -1..24", clip(c.Name), c.Color)
		}
		if l.find(c.Name) != nil {
			continue
		}
		if c.GUID == "" {
			c.GUID = newGUID()
		}
		e := l.root.CreateElement("category")
		e.CreateAttr("name", c.Name)
		e.CreateAttr("color", strconv.Itoa(c.Color))
		e.CreateAttr("keyboardShortcut", "0")
		e.CreateAttr("guid", c.GUID)
		e.CreateAttr("renameOnFirstUse", "0")
		added = append(added, c)
	}
	if len(added) > 0 {
		l.root.CreateAttr("lastSavedTime", time.Now().UTC().Format("2006-01-02T15:04:05.000"))
	}
	return added, nil
}

// Remove deletes the entries named names (compared case-insensitively,
// as Outlook does) and returns those it removed; names without an entry
// are skipped. Items that carry a removed category keep it (they store
// the name); Outlook shows it without a colour.
func (l *CategoryList) Remove(names ...string) []Category {
	var removed []Category
	for _, name := range names {
		for e := l.find(name); e != nil; e = l.find(name) {
			removed = append(removed, categoryOf(e))
			l.root.RemoveChild(e)
		}
	}
	if len(removed) > 0 {
		l.root.CreateAttr("lastSavedTime", time.Now().UTC().Format("2006-01-02T15:04:05.000"))
	}
	return removed
}

// Bytes returns the list's XML.
func (l *CategoryList) Bytes() []byte {
	var buf bytes.Buffer
	l.doc.WriteTo(&buf)
	return buf.Bytes()
}

// newGUID returns a random (version 4) GUID in braces, as Outlook writes
// them.
func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("{%x-%x-%x-%x-%x}", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Categories reads the master category list of the mailbox (impersonate it
// with [Client.With]). A mailbox without a list has no categories.
func (c *Client) Categories(ctx context.Context, opts ...CallOption) ([]Category, error) {
	l, _, err := c.categoryList(ctx, opts)
	if err != nil {
		return nil, err
	}
	return l.Categories(), nil
}

// categoryList reads the list; exists is false when the mailbox has none.
func (c *Client) categoryList(ctx context.Context, opts []CallOption) (*CategoryList, bool, error) {
	uc, err := c.GetUserConfiguration(ctx, DistinguishedFolder(FolderCalendar), CategoryListName, ConfigXMLData, opts...)
	if errors.Is(err, ErrorItemNotFound) {
		return NewCategoryList(), false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if len(bytes.TrimSpace(uc.XMLData)) == 0 {
		return NewCategoryList(), true, nil
	}
	l, err := ParseCategoryList(uc.XMLData)
	return l, true, err
}

// EnsureCategories makes sure the master category list of the mailbox
// (impersonate it with [Client.With]) has an entry for each category, adding
// the missing ones with their colour and a fresh GUID, and returns those it
// added. It is idempotent: entries that exist (by name, case-insensitively)
// are left alone, and nothing is written when none is missing. The list is
// read right before it is written, and a list another client created
// meanwhile is read again, but Exchange offers no conflict detection on it:
// an Outlook edit between the read and the write can be lost.
func (c *Client) EnsureCategories(ctx context.Context, cats []Category, opts ...CallOption) ([]Category, error) {
	for attempt := 0; ; attempt++ {
		l, exists, err := c.categoryList(ctx, opts)
		if err != nil {
			return nil, err
		}
		added, err := l.Ensure(cats...)
		if err != nil || len(added) == 0 {
			return nil, err
		}
		uc := &UserConfiguration{Name: CategoryListName, FolderID: DistinguishedFolder(FolderCalendar), XMLData: l.Bytes()}
		if exists {
			err = c.UpdateUserConfiguration(ctx, uc, opts...)
		} else {
			err = c.CreateUserConfiguration(ctx, uc, opts...)
			if errors.Is(err, ErrorItemSave) && attempt == 0 {
				// Someone created the list since we looked: merge into it.
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		return added, nil
	}
}

// RemoveCategories removes the entries named names from the master
// category list of the mailbox (impersonate it with [Client.With]) and
// returns those it removed. It is idempotent: names without an entry are
// skipped, and nothing is written when none has one (or the mailbox has
// no list). As with [Client.EnsureCategories], the list is read right
// before it is written and an Outlook edit in between can be lost. Items
// keep the categories they carry.
func (c *Client) RemoveCategories(ctx context.Context, names []string, opts ...CallOption) ([]Category, error) {
	l, exists, err := c.categoryList(ctx, opts)
	if err != nil || !exists {
		return nil, err
	}
	removed := l.Remove(names...)
	if len(removed) == 0 {
		return nil, nil
	}
	uc := &UserConfiguration{Name: CategoryListName, FolderID: DistinguishedFolder(FolderCalendar), XMLData: l.Bytes()}
	if err := c.UpdateUserConfiguration(ctx, uc, opts...); err != nil {
		return nil, err
	}
	return removed, nil
}
