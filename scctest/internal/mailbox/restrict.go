package mailbox

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Restriction is a search expression (the model's form of m:Restriction).
// The SOAP layer parses XML into these nodes: [Compare], [Contains],
// [Excludes], [Exists], [And], [Or] and [Not].
type Restriction interface{ restriction() }

// CompareOp is a relational operator.
type CompareOp uint8

// Comparison operators.
const (
	IsEqualTo CompareOp = iota + 1
	IsNotEqualTo
	IsGreaterThan
	IsGreaterThanOrEqualTo
	IsLessThan
	IsLessThanOrEqualTo
)

// String returns the EWS element name.
func (o CompareOp) String() string {
	names := [...]string{"", "IsEqualTo", "IsNotEqualTo", "IsGreaterThan", "IsGreaterThanOrEqualTo", "IsLessThan", "IsLessThanOrEqualTo"}
	if int(o) < len(names) {
		return names[o]
	}
	return "Unknown"
}

// Compare compares a property with a constant (Constant) or with another
// property of the same object (Other, when non-nil).
type Compare struct {
	Op       CompareOp
	Path     Path
	Constant string
	Other    *Path
}

// ContainmentMode is Contains' ContainmentMode.
type ContainmentMode string

// Containment modes.
const (
	FullString    ContainmentMode = "FullString"
	Prefixed      ContainmentMode = "Prefixed"
	Substring     ContainmentMode = "Substring"
	PrefixOnWords ContainmentMode = "PrefixOnWords"
	ExactPhrase   ContainmentMode = "ExactPhrase"
)

// ContainmentComparison is Contains' ContainmentComparison; the Loose*
// values ("to be removed") compare like IgnoreCaseAndNonSpacingCharacters.
type ContainmentComparison string

// Containment comparisons.
const (
	Exact                             ContainmentComparison = "Exact"
	IgnoreCase                        ContainmentComparison = "IgnoreCase"
	IgnoreNonSpacingCharacters        ContainmentComparison = "IgnoreNonSpacingCharacters"
	Loose                             ContainmentComparison = "Loose"
	IgnoreCaseAndNonSpacingCharacters ContainmentComparison = "IgnoreCaseAndNonSpacingCharacters"
	LooseAndIgnoreCase                ContainmentComparison = "LooseAndIgnoreCase"
	LooseAndIgnoreNonSpace            ContainmentComparison = "LooseAndIgnoreNonSpace"
	LooseAndIgnoreCaseAndIgnoreNonSp  ContainmentComparison = "LooseAndIgnoreCaseAndIgnoreNonSpace"
)

// Contains matches a string property against a constant. Empty Mode is
// Substring, empty Comparison is Exact (the schema's defaults).
type Contains struct {
	Path       Path
	Value      string
	Mode       ContainmentMode
	Comparison ContainmentComparison
}

// Excludes is true when none of Bitmask's bits are set in an integer
// property.
type Excludes struct {
	Path    Path
	Bitmask string // decimal or 0x hex, as the schema's Bitmask Value
}

// Exists is true when the property is present.
type Exists struct{ Path Path }

// And is true when all of its expressions are.
type And []Restriction

// Or is true when one of its expressions is.
type Or []Restriction

// Not negates an expression.
type Not struct{ R Restriction }

func (Compare) restriction()  {}
func (Contains) restriction() {}
func (Excludes) restriction() {}
func (Exists) restriction()   {}
func (And) restriction()      {}
func (Or) restriction()       {}
func (Not) restriction()      {}

// MaxRestrictionNodes is the most nodes a restriction may have.
const MaxRestrictionNodes = 255

// Target is what a restriction or sort order applies to.
type Target uint8

// Targets.
const (
	TargetItems Target = iota
	TargetFolders
)

// matcher is a compiled restriction.
type matcher interface {
	item(m *Mailbox, it *item) bool
	folder(m *Mailbox, f *folder) bool
}

// getter reads a compiled path.
type getter struct {
	path   Path
	vk     vkind
	ifield *itemField
	ffield *folderField
	ext    *extKey
	kinds  uint8
}

func (g *getter) item(m *Mailbox, it *item) (value, bool) {
	if g.ext != nil {
		v, ok := m.itemExt(it, *g.ext)
		if !ok {
			return value{}, false
		}
		return extValue(g.ext.typ, v), true
	}
	if g.kinds&(1<<it.data.Kind) == 0 {
		return value{}, false
	}
	return g.ifield.get(m, it, g.path.Index)
}

func (g *getter) folder(m *Mailbox, f *folder) (value, bool) {
	if g.ext != nil {
		if v, ok := m.computedFolderValue(f, *g.ext); ok {
			return extValue(g.ext.typ, v), true
		}
		if p, ok := findExtIn(f.ext, *g.ext); ok {
			return extValue(g.ext.typ, p.Values), true
		}
		return value{}, false
	}
	return g.ffield.get(m, f)
}

// compilePath resolves a path for a target; what cannot be evaluated
// fails naming it (forSort picks the sort error code).
func compilePath(p Path, t Target, forSort bool) (*getter, error) {
	code := ErrUnsupportedPathForQuery
	if forSort {
		code = ErrUnsupportedPathForSort
	}
	if p.Ext != nil {
		k, err := p.Ext.key()
		if err != nil {
			return nil, err
		}
		vk := elemKind(k.typ.Elem())
		if k.typ.IsArray() {
			if forSort {
				return nil, errf(code, "%s: multi-valued properties cannot be sorted on", p)
			}
			vk = vStrings
		}
		if k.typ.Elem() == PTBinary || k.typ.Elem() == PTCLSID {
			vk = vString
			if k.typ.IsArray() {
				vk = vStrings
			}
		}
		return &getter{path: p, vk: vk, ext: &k}, nil
	}
	if t == TargetFolders {
		f := folderFields[p.Field]
		if f == nil {
			return nil, errf(code, "%s is not a folder property that can be searched or sorted", p)
		}
		return &getter{path: p, vk: f.vk, ffield: f}, nil
	}
	f := itemFields[p.Field]
	if f == nil {
		return nil, errf(code, "%s is not an item property the model can search or sort", p)
	}
	if !f.searchable || f.get == nil || (forSort && !f.sortable) {
		return nil, errf(code, "%s cannot be used in a restriction or sort order", p)
	}
	if len(f.indexes) > 0 {
		if !oneOf(p.Index, f.indexes) {
			return nil, errf(code, "%s needs an IndexedFieldURI with FieldIndex one of %s", p, strings.Join(f.indexes, ", "))
		}
	} else if p.Index != "" {
		return nil, errf(code, "%s takes no FieldIndex", p)
	}
	return &getter{path: p, vk: f.vk, ifield: f, kinds: f.kinds}, nil
}

// constant converts a restriction constant to the path's type.
func constant(g *getter, s string) (value, error) {
	vk := g.vk
	if vk == vStrings {
		vk = vString
		if g.ext != nil {
			vk = elemKind(g.ext.typ.Elem())
			if g.ext.typ.Elem() == PTBinary || g.ext.typ.Elem() == PTCLSID {
				vk = vString
			}
		}
	}
	bad := func() (value, error) {
		return value{}, errf(ErrInvalidValueForProperty, "%s: constant %q is not a %s", g.path, short(s), vk)
	}
	t := strings.TrimSpace(s)
	switch vk {
	case vBool:
		switch strings.ToLower(t) {
		case "true", "1":
			return value{k: vBool, b: true}, nil
		case "false", "0":
			return value{k: vBool, b: false}, nil
		}
		return bad()
	case vInt:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(t, 64)
			if ferr != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
				return bad()
			}
			n = int64(f)
		}
		return value{k: vInt, n: n}, nil
	case vFloat:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsNaN(f) {
			return bad()
		}
		return value{k: vFloat, f: f}, nil
	case vTime:
		tm, err := parseDateTime(t)
		if err != nil {
			return bad()
		}
		return value{k: vTime, t: tm}, nil
	}
	if g.ext != nil && g.ext.typ.Elem() == PTCLSID {
		if c, ok := normGUID(s); ok {
			s = c
		}
	}
	return value{k: vString, s: s}, nil
}

// cmp compares two scalar values of one kind: -1, 0, 1. Strings compare
// case-insensitively (as Exchange's IsEqualTo does on strings).
func cmpValues(a, b value) int {
	switch a.k {
	case vBool:
		switch {
		case a.b == b.b:
			return 0
		case !a.b:
			return -1
		}
		return 1
	case vInt:
		switch {
		case a.n < b.n:
			return -1
		case a.n > b.n:
			return 1
		}
		return 0
	case vFloat:
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	case vTime:
		return a.t.Compare(b.t)
	}
	return compareFold(a.s, b.s)
}

// compareFold compares strings ignoring case without allocating.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8Decode(a)
		rb, nb := utf8Decode(b)
		la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func utf8Decode(s string) (rune, int) {
	if s[0] < utf8.RuneSelf {
		return rune(s[0]), 1
	}
	return utf8.DecodeRuneInString(s)
}

func opHolds(op CompareOp, c int) bool {
	switch op {
	case IsEqualTo:
		return c == 0
	case IsNotEqualTo:
		return c != 0
	case IsGreaterThan:
		return c > 0
	case IsGreaterThanOrEqualTo:
		return c >= 0
	case IsLessThan:
		return c < 0
	case IsLessThanOrEqualTo:
		return c <= 0
	}
	return false
}

// element turns one element of a multi-valued value into a scalar.
func element(v value, i int) value {
	s := v.ss[i]
	switch v.el {
	case vBool:
		return value{k: vBool, b: s == "true"}
	case vInt:
		n, _ := strconv.ParseInt(s, 10, 64)
		return value{k: vInt, n: n}
	case vFloat:
		f, _ := strconv.ParseFloat(s, 64)
		return value{k: vFloat, f: f}
	case vTime:
		t, _ := time.Parse(time.RFC3339Nano, s)
		return value{k: vTime, t: t}
	}
	return value{k: vString, s: s}
}

// holds applies op between a (possibly multi-valued) property value and a
// scalar: a multi-valued property matches when one element does
// (IsNotEqualTo: when none equals).
func holds(op CompareOp, v, c value) bool {
	if v.k != vStrings {
		return opHolds(op, cmpValues(v, c))
	}
	if op == IsNotEqualTo {
		for i := range v.ss {
			if cmpValues(element(v, i), c) == 0 {
				return false
			}
		}
		return true
	}
	for i := range v.ss {
		if opHolds(op, cmpValues(element(v, i), c)) {
			return true
		}
	}
	return false
}

type compareM struct {
	op       CompareOp
	g, other *getter
	c        value
}

func (x *compareM) item(m *Mailbox, it *item) bool {
	v, ok := x.g.item(m, it)
	if !ok {
		// A missing property never matches, not even IsNotEqualTo.
		return false
	}
	c := x.c
	if x.other != nil {
		if c, ok = x.other.item(m, it); !ok || c.k != v.k && v.k != vStrings {
			return false
		}
	}
	return holds(x.op, v, c)
}

func (x *compareM) folder(m *Mailbox, f *folder) bool {
	v, ok := x.g.folder(m, f)
	if !ok {
		return false
	}
	c := x.c
	if x.other != nil {
		if c, ok = x.other.folder(m, f); !ok || c.k != v.k && v.k != vStrings {
			return false
		}
	}
	return holds(x.op, v, c)
}

type containsM struct {
	g       *getter
	mode    ContainmentMode
	fold    bool
	nonSp   bool
	needle  string
	needleW []string
}

var stripMarks = runes.Remove(runes.In(unicode.Mn))

func foldString(s string, fold, nonSp bool) string {
	if nonSp {
		if r, _, err := transform.String(transform.Chain(norm.NFD, stripMarks, norm.NFC), s); err == nil {
			s = r
		}
	}
	if fold {
		s = strings.ToLower(s)
	}
	return s
}

func (x *containsM) match(v value, ok bool) bool {
	if !ok {
		return false
	}
	h := foldString(v.s, x.fold, x.nonSp)
	n := x.needle
	switch x.mode {
	case FullString:
		return h == n
	case Prefixed:
		return strings.HasPrefix(h, n)
	case PrefixOnWords:
		for _, w := range strings.FieldsFunc(h, notWordRune) {
			if strings.HasPrefix(w, n) {
				return true
			}
		}
		// a multi-word constant: words in order, prefix on each
		return len(x.needleW) > 1 && strings.Contains(" "+strings.Join(strings.FieldsFunc(h, notWordRune), " "), " "+strings.Join(x.needleW, " "))
	case ExactPhrase:
		words := strings.FieldsFunc(h, notWordRune)
		for i := 0; i+len(x.needleW) <= len(words) && len(x.needleW) > 0; i++ {
			eq := true
			for j, w := range x.needleW {
				if words[i+j] != w {
					eq = false
					break
				}
			}
			if eq {
				return true
			}
		}
		return false
	}
	return strings.Contains(h, n)
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func (x *containsM) item(m *Mailbox, it *item) bool {
	v, ok := x.g.item(m, it)
	return x.match(v, ok)
}

func (x *containsM) folder(m *Mailbox, f *folder) bool {
	v, ok := x.g.folder(m, f)
	return x.match(v, ok)
}

type excludesM struct {
	g    *getter
	mask int64
}

func (x *excludesM) item(m *Mailbox, it *item) bool {
	v, ok := x.g.item(m, it)
	return ok && v.n&x.mask == 0
}

func (x *excludesM) folder(m *Mailbox, f *folder) bool {
	v, ok := x.g.folder(m, f)
	return ok && v.n&x.mask == 0
}

type existsM struct{ g *getter }

func (x *existsM) item(m *Mailbox, it *item) bool {
	_, ok := x.g.item(m, it)
	return ok
}

func (x *existsM) folder(m *Mailbox, f *folder) bool {
	_, ok := x.g.folder(m, f)
	return ok
}

type andM []matcher
type orM []matcher
type notM struct{ x matcher }

func (a andM) item(m *Mailbox, it *item) bool {
	for _, x := range a {
		if !x.item(m, it) {
			return false
		}
	}
	return true
}

func (a andM) folder(m *Mailbox, f *folder) bool {
	for _, x := range a {
		if !x.folder(m, f) {
			return false
		}
	}
	return true
}

func (o orM) item(m *Mailbox, it *item) bool {
	for _, x := range o {
		if x.item(m, it) {
			return true
		}
	}
	return false
}

func (o orM) folder(m *Mailbox, f *folder) bool {
	for _, x := range o {
		if x.folder(m, f) {
			return true
		}
	}
	return false
}

func (n notM) item(m *Mailbox, it *item) bool    { return !n.x.item(m, it) }
func (n notM) folder(m *Mailbox, f *folder) bool { return !n.x.folder(m, f) }

// countNodes counts the nodes of a restriction (nil counts as none).
func countNodes(r Restriction) int {
	switch x := r.(type) {
	case And:
		n := 1
		for _, c := range x {
			n += countNodes(c)
		}
		return n
	case Or:
		n := 1
		for _, c := range x {
			n += countNodes(c)
		}
		return n
	case Not:
		return 1 + countNodes(x.R)
	case *Not:
		if x == nil {
			return 0
		}
		return 1 + countNodes(x.R)
	case nil:
		return 0
	}
	return 1
}

// Compile checks a restriction for a target and returns a matcher. What
// cannot be evaluated fails with a typed error naming the path or node:
// [ErrUnsupportedPathForQuery], [ErrContainsFilterWrongType],
// [ErrInvalidPropertyForExists], [ErrInvalidValueForProperty],
// [ErrRestrictionTooLong], [ErrRestrictionTooComplex] (e.g. an empty And).
func compile(r Restriction, t Target) (matcher, error) {
	if n := countNodes(r); n > MaxRestrictionNodes {
		return nil, errf(ErrRestrictionTooLong, "the restriction has %d nodes, at most %d are allowed", n, MaxRestrictionNodes)
	}
	return compileNode(r, t)
}

func compileNode(r Restriction, t Target) (matcher, error) {
	switch x := r.(type) {
	case Compare:
		return compileCompare(x, t)
	case *Compare:
		if x == nil {
			break
		}
		return compileCompare(*x, t)
	case Contains:
		return compileContains(x, t)
	case *Contains:
		if x == nil {
			break
		}
		return compileContains(*x, t)
	case Excludes:
		g, err := compilePath(x.Path, t, false)
		if err != nil {
			return nil, err
		}
		if g.vk != vInt {
			return nil, errf(ErrUnsupportedPathForQuery, "Excludes on %s, which is not an integer property", x.Path)
		}
		v, ok := parseNum(x.Bitmask, 64)
		if !ok {
			return nil, errf(ErrInvalidValueForProperty, "Excludes Bitmask %q is not a number", short(x.Bitmask))
		}
		return &excludesM{g: g, mask: int64(v)}, nil
	case Exists:
		g, err := compilePath(x.Path, t, false)
		if err != nil {
			return nil, err
		}
		if g.ifield != nil && g.ifield.flag {
			return nil, errf(ErrInvalidPropertyForExists, "Exists on %s (use IsEqualTo)", x.Path)
		}
		return &existsM{g: g}, nil
	case And, Or:
		var list []Restriction
		if a, ok := x.(And); ok {
			list = a
		} else {
			list = x.(Or)
		}
		if len(list) == 0 {
			return nil, errf(ErrRestrictionTooComplex, "an And or Or needs at least one expression")
		}
		ms := make([]matcher, len(list))
		for i, c := range list {
			m, err := compileNode(c, t)
			if err != nil {
				return nil, err
			}
			ms[i] = m
		}
		if _, ok := x.(And); ok {
			return andM(ms), nil
		}
		return orM(ms), nil
	case Not:
		m, err := compileNode(x.R, t)
		if err != nil {
			return nil, err
		}
		return notM{m}, nil
	case *Not:
		if x == nil {
			break
		}
		return compileNode(*x, t)
	}
	return nil, errf(ErrRestrictionTooComplex, "%T is not a search expression the model can evaluate", r)
}

func compileCompare(x Compare, t Target) (matcher, error) {
	if x.Op < IsEqualTo || x.Op > IsLessThanOrEqualTo {
		return nil, errf(ErrRestrictionTooComplex, "comparison operator %d", x.Op)
	}
	g, err := compilePath(x.Path, t, false)
	if err != nil {
		return nil, err
	}
	cm := &compareM{op: x.Op, g: g}
	if x.Other != nil {
		o, err := compilePath(*x.Other, t, false)
		if err != nil {
			return nil, err
		}
		if o.vk == vStrings {
			return nil, errf(ErrUnsupportedPathForQuery, "%s: a multi-valued property cannot be the right side of a comparison", *x.Other)
		}
		cm.other = o
		return cm, nil
	}
	if cm.c, err = constant(g, x.Constant); err != nil {
		return nil, err
	}
	return cm, nil
}

func compileContains(x Contains, t Target) (matcher, error) {
	g, err := compilePath(x.Path, t, false)
	if err != nil {
		return nil, err
	}
	if g.vk != vString || (g.ext != nil && g.ext.typ != PTString) {
		return nil, errf(ErrContainsFilterWrongType, "Contains on %s, which is not a single-valued string property", x.Path)
	}
	mode := x.Mode
	if mode == "" {
		mode = Substring
	}
	if !oneOf(string(mode), []string{"FullString", "Prefixed", "Substring", "PrefixOnWords", "ExactPhrase"}) {
		return nil, errf(ErrInvalidValueForProperty, "ContainmentMode %q", mode)
	}
	cmpn := x.Comparison
	if cmpn == "" {
		cmpn = Exact
	}
	c := &containsM{g: g, mode: mode}
	switch cmpn {
	case Exact:
	case IgnoreCase, LooseAndIgnoreCase:
		c.fold = true
	case IgnoreNonSpacingCharacters, LooseAndIgnoreNonSpace:
		c.nonSp = true
	case IgnoreCaseAndNonSpacingCharacters, Loose, LooseAndIgnoreCaseAndIgnoreNonSp:
		c.fold, c.nonSp = true, true
	default:
		return nil, errf(ErrInvalidValueForProperty, "ContainmentComparison %q", cmpn)
	}
	c.needle = foldString(x.Value, c.fold, c.nonSp)
	c.needleW = strings.FieldsFunc(c.needle, notWordRune)
	return c, nil
}

// SortKey is one FieldOrder of a SortOrder.
type SortKey struct {
	Path       Path
	Descending bool
}

type sorter struct {
	keys []*getter
	desc []bool
}

func compileSort(keys []SortKey, t Target) (*sorter, error) {
	s := &sorter{}
	for _, k := range keys {
		g, err := compilePath(k.Path, t, true)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, g)
		s.desc = append(s.desc, k.Descending)
	}
	return s, nil
}

// less orders two values; a missing value sorts before a present one
// (ascending).
func sortLess(a value, aok bool, b value, bok bool) int {
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return -1
	case !bok:
		return 1
	}
	return cmpValues(a, b)
}

// Query describes a FindItem or FindFolder over one folder.
type Query struct {
	Restriction Restriction // nil: everything
	Sort        []SortKey   // empty: items newest received first, folders in creation order
	Offset      int
	Max         int // 0: no limit
}

// FindResult is one page of a query.
type FindResult struct {
	Items   []Item
	Folders []Folder
	Total   int // matches before paging (TotalItemsInView)
	// IncludesLast says whether the page reaches the last match.
	IncludesLast bool
}

// FindItems evaluates a query over the items of a folder (Traversal
// Shallow; associated items are user configurations, kept apart). A
// restriction or sort the model cannot evaluate fails with a typed error
// naming it, never a full listing.
func (m *Mailbox) FindItems(folderRef string, q Query) (FindResult, error) {
	var mt matcher
	if q.Restriction != nil {
		var err error
		if mt, err = compile(q.Restriction, TargetItems); err != nil {
			return FindResult{}, err
		}
	}
	keys := q.Sort
	if len(keys) == 0 {
		keys = []SortKey{{Path: Field("item:DateTimeReceived"), Descending: true}}
	}
	so, err := compileSort(keys, TargetItems)
	if err != nil {
		return FindResult{}, err
	}
	if q.Offset < 0 || q.Max < 0 {
		return FindResult{}, errf(ErrInvalidRequest, "Offset and MaxEntriesReturned must not be negative")
	}
	m.rlock()
	defer m.mu.RUnlock()
	f, err := m.folderLocked(folderRef)
	if err != nil {
		return FindResult{}, err
	}
	var hits []*item
	if cm, ok := indexable(mt); ok {
		for _, it := range m.candidates(f, cm) {
			if mt.item(m, it) {
				hits = append(hits, it)
			}
		}
	} else {
		for _, it := range f.items {
			if mt == nil || mt.item(m, it) {
				hits = append(hits, it)
			}
		}
	}
	sortItemsBy(m, hits, so)
	res := FindResult{Total: len(hits)}
	start, end := window(len(hits), q.Offset, q.Max)
	for _, it := range hits[start:end] {
		res.Items = append(res.Items, m.snapshot(it))
	}
	res.IncludesLast = end == len(hits)
	return res, nil
}

func window(n, off, max int) (int, int) {
	start := min(off, n)
	end := n
	if max > 0 && start+max < n {
		end = start + max
	}
	return start, end
}

func sortItemsBy(m *Mailbox, its []*item, so *sorter) {
	type row struct {
		it   *item
		vals []value
		oks  []bool
	}
	rows := make([]row, len(its))
	for i, it := range its {
		r := row{it: it, vals: make([]value, len(so.keys)), oks: make([]bool, len(so.keys))}
		for k, g := range so.keys {
			r.vals[k], r.oks[k] = g.item(m, it)
		}
		rows[i] = r
	}
	sort.Slice(rows, func(i, j int) bool {
		for k := range so.keys {
			c := sortLess(rows[i].vals[k], rows[i].oks[k], rows[j].vals[k], rows[j].oks[k])
			if so.desc[k] {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return rows[i].it.num < rows[j].it.num
	})
	for i := range rows {
		its[i] = rows[i].it
	}
}

// FindFolders evaluates a query over the child folders of a folder
// (Deep: the whole subtree). Sort is refused on folders, as FindFolder has
// no SortOrder.
func (m *Mailbox) FindFoldersQuery(folderRef string, t Traversal, q Query) (FindResult, error) {
	if len(q.Sort) > 0 {
		return FindResult{}, errf(ErrInvalidRequest, "FindFolder takes no SortOrder")
	}
	var mt matcher
	if q.Restriction != nil {
		var err error
		if mt, err = compile(q.Restriction, TargetFolders); err != nil {
			return FindResult{}, err
		}
	}
	m.rlock()
	defer m.mu.RUnlock()
	root, err := m.folderLocked(folderRef)
	if err != nil {
		return FindResult{}, err
	}
	var hits []*folder
	var walk func(f *folder)
	walk = func(f *folder) {
		for _, c := range f.children {
			if (t == SoftDeleted) != c.softDeleted {
				continue
			}
			if mt == nil || mt.folder(m, c) {
				hits = append(hits, c)
			}
			if t == Deep {
				walk(c)
			}
		}
	}
	walk(root)
	res := FindResult{Total: len(hits)}
	start, end := window(len(hits), q.Offset, q.Max)
	for _, f := range hits[start:end] {
		res.Folders = append(res.Folders, m.folderSnapshot(f))
	}
	res.IncludesLast = end == len(hits)
	return res, nil
}

// ValidateRestriction checks a restriction without running it, so the
// SOAP layer can refuse a bad one before anything else.
func ValidateRestriction(r Restriction, t Target) error {
	_, err := compile(r, t)
	return err
}
