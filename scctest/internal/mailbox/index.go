package mailbox

import (
	"strconv"
	"strings"
	"time"
)

// Extended property index. FindItems with an IsEqualTo on a single-valued
// extended property (a sync engine's "find by external id") would scan the
// folder; instead the first such query on a folder builds an index for
// that property, and every later write to the folder keeps it current.
// Only properties someone searched on are indexed, so memory is spent
// only where it buys speed.

// folderIndex maps a property's value key to the items holding it.
type folderIndex map[string][]*item

// valueKey is the index key of a scalar value: equal keys mean IsEqualTo
// holds (strings compare case-insensitively).
func valueKey(v value) string {
	switch v.k {
	case vBool:
		return strconv.FormatBool(v.b)
	case vInt:
		return strconv.FormatInt(v.n, 10)
	case vFloat:
		return strconv.FormatFloat(v.f, 'g', -1, 64)
	case vTime:
		return v.t.UTC().Format(time.RFC3339Nano)
	}
	return strings.ToLower(v.s)
}

// indexable reports the extended property and constant of an IsEqualTo
// that the whole restriction depends on (itself, or a member of a
// top-level And).
func indexable(mt matcher) (*compareM, bool) {
	switch x := mt.(type) {
	case *compareM:
		if x.op == IsEqualTo && x.other == nil && x.g.ext != nil && !x.g.ext.typ.IsArray() && !isComputedItemTag(*x.g.ext) {
			return x, true
		}
	case andM:
		for _, c := range x {
			if cm, ok := indexable(c); ok {
				return cm, true
			}
		}
	}
	return nil, false
}

// candidates returns the items of f that can match cm, building the index
// on first use. Callers hold m.mu for reading at least.
func (m *Mailbox) candidates(f *folder, cm *compareM) []*item {
	m.idxMu.Lock()
	defer m.idxMu.Unlock()
	k := *cm.g.ext
	idx := f.extIdx[k]
	if idx == nil {
		idx = folderIndex{}
		for _, it := range f.items {
			if v, ok := m.itemExt(it, k); ok {
				key := valueKey(extValue(k.typ, v))
				idx[key] = append(idx[key], it)
			}
		}
		if f.extIdx == nil {
			f.extIdx = map[extKey]folderIndex{}
		}
		f.extIdx[k] = idx
	}
	return append([]*item(nil), idx[valueKey(cm.c)]...)
}

// indexAdd adds an item to its folder's indexes. Callers hold the write
// lock.
func (m *Mailbox) indexAdd(it *item) {
	for k, idx := range it.folder.extIdx {
		if v, ok := m.itemExt(it, k); ok {
			key := valueKey(extValue(k.typ, v))
			idx[key] = append(idx[key], it)
		}
	}
}

// indexRemove takes an item out of its folder's indexes.
func (m *Mailbox) indexRemove(it *item) {
	for k, idx := range it.folder.extIdx {
		v, ok := m.itemExt(it, k)
		if !ok {
			continue
		}
		key := valueKey(extValue(k.typ, v))
		l := idx[key]
		for i, x := range l {
			if x == it {
				l = append(l[:i:i], l[i+1:]...)
				break
			}
		}
		if len(l) == 0 {
			delete(idx, key)
		} else {
			idx[key] = l
		}
	}
}
