package ews

import (
	"strconv"

	"github.com/beevik/etree"
)

// MaxPageSize is the largest page this package requests; Exchange's
// EWSFindCountLimit makes bigger pages pointless.
const MaxPageSize = 1000

// PageView asks for one page of a FindItem or FindFolder result
// (t:IndexedPageItemView / t:IndexedPageFolderView, counted from the
// beginning).
type PageView struct {
	// MaxEntries is the page size, 1 to MaxPageSize.
	MaxEntries int
	// Offset is the index of the first entry, from 0.
	Offset int
}

func (p *PageView) write(op string, parent *etree.Element, tag string) error {
	if p.MaxEntries < 1 || p.MaxEntries > MaxPageSize {
		return invalidf("%s: page size %d is outside 1..%d", op, p.MaxEntries, MaxPageSize)
	}
	if p.Offset < 0 {
		return invalidf("%s: page offset %d is negative", op, p.Offset)
	}
	v := parent.CreateElement("m:" + tag)
	v.CreateAttr("MaxEntriesReturned", strconv.Itoa(p.MaxEntries))
	v.CreateAttr("Offset", strconv.Itoa(p.Offset))
	v.CreateAttr("BasePoint", "Beginning")
	return nil
}

// PageInfo describes the page a FindItem or FindFolder returned
// (attributes of m:RootFolder).
type PageInfo struct {
	// IndexedPagingOffset is the offset of the next page.
	IndexedPagingOffset int
	// TotalItemsInView is the number of entries in the whole view.
	TotalItemsInView int
	// IncludesLastItemInRange is true on the last page.
	IncludesLastItemInRange bool
}

func parsePageInfo(root *etree.Element) PageInfo {
	return PageInfo{
		IndexedPagingOffset:     parseInt(root.SelectAttrValue("IndexedPagingOffset", "")),
		TotalItemsInView:        parseInt(root.SelectAttrValue("TotalItemsInView", "")),
		IncludesLastItemInRange: parseBool(root.SelectAttrValue("IncludesLastItemInRange", "")),
	}
}
