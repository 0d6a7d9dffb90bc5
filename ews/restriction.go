package ews

import (
	"reflect"
	"strconv"
	"time"

	"github.com/beevik/etree"
)

// Restriction is a search filter of FindItem or FindFolder (m:Restriction),
// built from [Equal], [NotEqual], [Greater], [GreaterOrEqual], [Less],
// [LessOrEqual], [Contains], [Exists], [Excludes], [And], [Or] and [Not]:
//
//	ews.And(
//		ews.GreaterOrEqual(ews.FieldItemLastModifiedTime, since),
//		ews.Or(ews.Contains(ews.FieldItemSubject, "invoice", ews.Substring, ews.IgnoreCase),
//			ews.Equal(ews.FieldItemCategories, "CRM")),
//		ews.Not(ews.Exists(crmRecordID)))
//
// Paths may be FieldURIs, IndexedFieldURIs (dictionary entries such as a
// contact's EmailAddress1) and ExtendedFieldURIs. Exchange refuses
// restrictions of more than [MaxRestrictionNodes] nodes; this package does so
// before sending.
type Restriction interface {
	writeRestriction(op string, parent *etree.Element, nodes *int) error
}

// MaxRestrictionNodes is the largest restriction Exchange evaluates
// (ErrorRestrictionTooLong beyond it).
const MaxRestrictionNodes = 255

type comparison struct {
	tag   string
	path  Path
	value any
}

// Equal matches items whose property path equals value (t:IsEqualTo); on a
// multi-valued property such as item:Categories, items with any value equal
// to it. value is a string, bool, integer, float, time.Time, a string type
// such as [Importance], or another Path to compare two properties of the
// same item.
func Equal(path Path, value any) Restriction { return &comparison{"IsEqualTo", path, value} }

// NotEqual matches items whose property path differs from value
// (t:IsNotEqualTo).
func NotEqual(path Path, value any) Restriction { return &comparison{"IsNotEqualTo", path, value} }

// Greater matches path > value (t:IsGreaterThan).
func Greater(path Path, value any) Restriction { return &comparison{"IsGreaterThan", path, value} }

// GreaterOrEqual matches path >= value (t:IsGreaterThanOrEqualTo).
func GreaterOrEqual(path Path, value any) Restriction {
	return &comparison{"IsGreaterThanOrEqualTo", path, value}
}

// Less matches path < value (t:IsLessThan).
func Less(path Path, value any) Restriction { return &comparison{"IsLessThan", path, value} }

// LessOrEqual matches path <= value (t:IsLessThanOrEqualTo).
func LessOrEqual(path Path, value any) Restriction {
	return &comparison{"IsLessThanOrEqualTo", path, value}
}

// constant renders a restriction constant as EWS expects it.
func constant(op string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, checkText(op, "restriction constant", x)
	case bool:
		return formatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		if x.IsZero() {
			return "", invalidf("%s: restriction constant is the zero time", op)
		}
		return formatTime(x), nil
	}
	if rv := reflect.ValueOf(v); rv.IsValid() && rv.Kind() == reflect.String {
		return rv.String(), checkText(op, "restriction constant", rv.String())
	}
	return "", invalidf("%s: restriction constant of type %T; use a string, bool, integer, float, time.Time or a Path", op, v)
}

func countNode(op string, nodes *int) error {
	*nodes++
	if *nodes > MaxRestrictionNodes {
		return invalidf("%s: the restriction has more than %d nodes, which Exchange refuses (ErrorRestrictionTooLong)", op, MaxRestrictionNodes)
	}
	return nil
}

func writePathOf(op, what string, p Path, parent *etree.Element) error {
	if p == nil {
		return invalidf("%s: %s has no path", op, what)
	}
	return p.writePath(op, parent)
}

func (c *comparison) writeRestriction(op string, parent *etree.Element, nodes *int) error {
	if err := countNode(op, nodes); err != nil {
		return err
	}
	e := parent.CreateElement("t:" + c.tag)
	if err := writePathOf(op, c.tag, c.path, e); err != nil {
		return err
	}
	fc := e.CreateElement("t:FieldURIOrConstant")
	if p, ok := c.value.(Path); ok && p != nil {
		return p.writePath(op, fc)
	}
	v, err := constant(op, c.value)
	if err != nil {
		return err
	}
	fc.CreateElement("t:Constant").CreateAttr("Value", v)
	return nil
}

// ContainmentMode is how much of a string Contains matches.
type ContainmentMode string

// The containment modes.
const (
	FullString    ContainmentMode = "FullString"
	Prefixed      ContainmentMode = "Prefixed"
	Substring     ContainmentMode = "Substring"
	PrefixOnWords ContainmentMode = "PrefixOnWords"
	ExactPhrase   ContainmentMode = "ExactPhrase"
)

// ContainmentComparison is how Contains compares characters.
type ContainmentComparison string

// The containment comparisons.
const (
	Exact                             ContainmentComparison = "Exact"
	IgnoreCase                        ContainmentComparison = "IgnoreCase"
	IgnoreNonSpacingCharacters        ContainmentComparison = "IgnoreNonSpacingCharacters"
	IgnoreCaseAndNonSpacingCharacters ContainmentComparison = "IgnoreCaseAndNonSpacingCharacters"
)

type contains struct {
	path  Path
	value string
	mode  ContainmentMode
	cmp   ContainmentComparison
}

// Contains matches a single-valued string property containing value
// (t:Contains); empty mode and comparison leave the server's defaults. For
// an exact, case-sensitive match of a whole string use FullString with
// Exact.
func Contains(path Path, value string, mode ContainmentMode, cmp ContainmentComparison) Restriction {
	return &contains{path, value, mode, cmp}
}

func (c *contains) writeRestriction(op string, parent *etree.Element, nodes *int) error {
	if err := countNode(op, nodes); err != nil {
		return err
	}
	switch c.mode {
	case "", FullString, Prefixed, Substring, PrefixOnWords, ExactPhrase:
	default:
		return invalidf("%s: ContainmentMode %q is none of FullString, Prefixed, Substring, PrefixOnWords, ExactPhrase", op, clip(string(c.mode)))
	}
	switch c.cmp {
	case "", Exact, IgnoreCase, IgnoreNonSpacingCharacters, IgnoreCaseAndNonSpacingCharacters:
	default:
		return invalidf("%s: ContainmentComparison %q is none of Exact, IgnoreCase, IgnoreNonSpacingCharacters, IgnoreCaseAndNonSpacingCharacters", op, clip(string(c.cmp)))
	}
	if err := checkText(op, "Contains constant", c.value); err != nil {
		return err
	}
	e := parent.CreateElement("t:Contains")
	if c.mode != "" {
		e.CreateAttr("ContainmentMode", string(c.mode))
	}
	if c.cmp != "" {
		e.CreateAttr("ContainmentComparison", string(c.cmp))
	}
	if err := writePathOf(op, "Contains", c.path, e); err != nil {
		return err
	}
	e.CreateElement("t:Constant").CreateAttr("Value", c.value)
	return nil
}

type exists struct{ path Path }

// Exists matches items that have the property path, whatever its value
// (t:Exists). Exchange refuses it on flags such as message:IsRead
// (ErrorInvalidPropertyForExists); compare those with Equal.
func Exists(path Path) Restriction { return &exists{path} }

func (x *exists) writeRestriction(op string, parent *etree.Element, nodes *int) error {
	if err := countNode(op, nodes); err != nil {
		return err
	}
	return writePathOf(op, "Exists", x.path, parent.CreateElement("t:Exists"))
}

type excludes struct {
	path Path
	mask uint32
}

// Excludes matches items whose integer property path has none of the bits
// of mask set (t:Excludes).
func Excludes(path Path, mask uint32) Restriction { return &excludes{path, mask} }

func (x *excludes) writeRestriction(op string, parent *etree.Element, nodes *int) error {
	if err := countNode(op, nodes); err != nil {
		return err
	}
	e := parent.CreateElement("t:Excludes")
	if err := writePathOf(op, "Excludes", x.path, e); err != nil {
		return err
	}
	e.CreateElement("t:Bitmask").CreateAttr("Value", "0x"+strconv.FormatUint(uint64(x.mask), 16))
	return nil
}

type logical struct {
	tag string
	rs  []Restriction
}

// And matches items that match every one of rs (at least one).
func And(rs ...Restriction) Restriction { return &logical{"And", rs} }

// Or matches items that match any of rs (at least one).
func Or(rs ...Restriction) Restriction { return &logical{"Or", rs} }

// Not matches items that do not match r.
func Not(r Restriction) Restriction { return &logical{"Not", []Restriction{r}} }

func (l *logical) writeRestriction(op string, parent *etree.Element, nodes *int) error {
	if err := countNode(op, nodes); err != nil {
		return err
	}
	if len(l.rs) == 0 {
		return invalidf("%s: %s needs at least one restriction", op, l.tag)
	}
	e := parent.CreateElement("t:" + l.tag)
	for _, r := range l.rs {
		if r == nil {
			return invalidf("%s: %s holds a nil restriction", op, l.tag)
		}
		if err := r.writeRestriction(op, e, nodes); err != nil {
			return err
		}
	}
	return nil
}

// writeRestriction appends m:Restriction with r.
func writeRestriction(op string, parent *etree.Element, r Restriction) error {
	nodes := 0
	return r.writeRestriction(op, parent.CreateElement("m:Restriction"), &nodes)
}

// FieldOrder is one key of a FindItem sort order (t:FieldOrder); earlier
// keys sort first.
type FieldOrder struct {
	Path       Path
	Descending bool
}

func writeSortOrder(op string, parent *etree.Element, order []FieldOrder) error {
	s := parent.CreateElement("m:SortOrder")
	for i, o := range order {
		fo := s.CreateElement("t:FieldOrder")
		if o.Descending {
			fo.CreateAttr("Order", "Descending")
		} else {
			fo.CreateAttr("Order", "Ascending")
		}
		if err := writePathOf(op, "SortOrder["+strconv.Itoa(i)+"]", o.Path, fo); err != nil {
			return err
		}
	}
	return nil
}
