package scctest

import (
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// Restrictions: m:Restriction parsed into the model's AST, which evaluates
// it or refuses it with a typed error naming what it cannot evaluate
// (ErrorUnsupportedPathForQuery, ErrorContainsFilterWrongType,
// ErrorInvalidPropertyForExists, ErrorRestrictionTooLong, …; see
// scctest/README.md). A malformed expression is ErrorSchemaValidation.

var compareOps = map[string]mbx.CompareOp{
	"IsEqualTo": mbx.IsEqualTo, "IsNotEqualTo": mbx.IsNotEqualTo, "IsGreaterThan": mbx.IsGreaterThan,
	"IsGreaterThanOrEqualTo": mbx.IsGreaterThanOrEqualTo, "IsLessThan": mbx.IsLessThan, "IsLessThanOrEqualTo": mbx.IsLessThanOrEqualTo,
}

// parseRestriction reads the operation's m:Restriction (nil when absent).
func parseRestriction(op *node) (mbx.Restriction, *soapFault) {
	r := op.child(nsMessages, "Restriction")
	if r == nil {
		return nil, nil
	}
	if len(r.kids) != 1 {
		return nil, schemaFault(r, "The element 'Restriction' must hold exactly one search expression.")
	}
	return parseExpr(r.kids[0], 0)
}

// maxExprDepth bounds the recursion; the model also bounds the node count
// (ErrorRestrictionTooLong).
const maxExprDepth = 64

func parseExpr(n *node, depth int) (mbx.Restriction, *soapFault) {
	if depth > maxExprDepth {
		return nil, schemaFault(n, "The restriction is nested too deeply.")
	}
	if n.name.Space != nsTypes {
		return nil, schemaFault(n, "The element '"+n.name.Local+"' is not a search expression.")
	}
	path := func() (mbx.Path, *soapFault) {
		if len(n.kids) == 0 {
			return mbx.Path{}, schemaFault(n, "The element '"+n.name.Local+"' has incomplete content. List of possible elements expected: 'Path'.")
		}
		return parsePath(n.kids[0])
	}
	switch l := n.name.Local; l {
	case "And", "Or":
		if len(n.kids) == 0 {
			return nil, schemaFault(n, "The element '"+l+"' has incomplete content. List of possible elements expected: 'SearchExpression'.")
		}
		var subs []mbx.Restriction
		for _, k := range n.kids {
			s, f := parseExpr(k, depth+1)
			if f != nil {
				return nil, f
			}
			subs = append(subs, s)
		}
		if l == "And" {
			return mbx.And(subs), nil
		}
		return mbx.Or(subs), nil
	case "Not":
		if len(n.kids) != 1 {
			return nil, schemaFault(n, "The element 'Not' must hold exactly one search expression.")
		}
		s, f := parseExpr(n.kids[0], depth+1)
		if f != nil {
			return nil, f
		}
		return mbx.Not{R: s}, nil
	case "Exists":
		p, f := path()
		if f != nil {
			return nil, f
		}
		return mbx.Exists{Path: p}, nil
	case "Excludes":
		p, f := path()
		if f != nil {
			return nil, f
		}
		bm := n.child(nsTypes, "Bitmask")
		if bm == nil {
			return nil, schemaFault(n, "The element 'Excludes' has incomplete content. List of possible elements expected: 'Bitmask'.")
		}
		return mbx.Excludes{Path: p, Bitmask: bm.attrOr("Value", "")}, nil
	case "Contains":
		p, f := path()
		if f != nil {
			return nil, f
		}
		c := n.child(nsTypes, "Constant")
		if c == nil {
			return nil, schemaFault(n, "The element 'Contains' has incomplete content. List of possible elements expected: 'Constant'.")
		}
		return mbx.Contains{Path: p, Value: c.attrOr("Value", ""),
			Mode: mbx.ContainmentMode(n.attrOr("ContainmentMode", "")), Comparison: mbx.ContainmentComparison(n.attrOr("ContainmentComparison", ""))}, nil
	default:
		op, ok := compareOps[l]
		if !ok {
			// t:Near and anything else: the content index is not modelled.
			return nil, schemaFault(n, "The element '"+l+"' is not a search expression scctest evaluates.")
		}
		p, f := path()
		if f != nil {
			return nil, f
		}
		fc := n.child(nsTypes, "FieldURIOrConstant")
		if fc == nil || len(fc.kids) != 1 {
			return nil, schemaFault(n, "The element '"+l+"' has incomplete content. List of possible elements expected: 'FieldURIOrConstant'.")
		}
		cmp := mbx.Compare{Op: op, Path: p}
		if k := fc.kids[0]; k.is(nsTypes, "Constant") {
			cmp.Constant = k.attrOr("Value", "")
		} else {
			o, f := parsePath(k)
			if f != nil {
				return nil, f
			}
			cmp.Other = &o
		}
		return cmp, nil
	}
}
