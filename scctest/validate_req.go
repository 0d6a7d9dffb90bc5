package scctest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Request validation. Exchange validates every request against its schema
// before it runs the operation and answers a violation with the SOAP fault
// ErrorSchemaValidation whose MessageXml holds LineNumber, LinePosition
// and Violation (the .NET validator's message). The fake does not carry
// Microsoft's schema; it checks, in one pass over the operation element,
// what clients get wrong in practice (scctest/README.md, "Request
// validation", lists it):
//
//   - the children of typed items (t:Item, t:Message, t:CalendarItem,
//     t:Contact, t:Task) and of t:FileAttachment, wherever they appear:
//     known elements only, in schema order, each once (ExtendedProperty
//     repeats);
//   - the text-only elements among those children hold no child elements
//     (an HTML body sent unescaped inside t:Body), and their text is a
//     value of their datatype (boolean, int, long, double, dateTime,
//     base64Binary, the enumerations);
//   - t:Body and its relatives carry BodyType, HTML or Text;
//   - t:DistinguishedFolderId carries an Id that is a
//     DistinguishedFolderIdNameType value.
//
// The positions follow the .NET validator Exchange uses: the line and the
// 1-based column of an element's name (just after '<'), or of an
// attribute's name.

// validateRequest checks the operation element; nil means valid.
func validateRequest(op *node) *soapFault {
	return validateTree(op)
}

func validateTree(n *node) *soapFault {
	if n.name.Space == nsTypes {
		if seq, ok := itemSequences[n.name.Local]; ok {
			if f := validateItem(n, strings.Fields(seq)); f != nil {
				return f
			}
		}
		if n.name.Local == "DistinguishedFolderId" {
			id, ok := n.attr("Id")
			if !ok {
				return elemFault(n, "The required attribute 'Id' is missing.")
			}
			if !strings.Contains(schemaDistinguishedFolders, " "+id+" ") {
				return attrFault(n, "Id", invalidAttr("Id", id, "t:DistinguishedFolderIdNameType", "The Enumeration constraint failed."))
			}
		}
	}
	for _, k := range n.kids {
		if f := validateTree(k); f != nil {
			return f
		}
	}
	return nil
}

// validateItem checks the children of a typed item against its sequence.
func validateItem(n *node, seq []string) *soapFault {
	next := 0 // index in seq of the first element allowed next
	for _, k := range n.kids {
		i := -1
		if k.name.Space == nsTypes {
			for j := next; j < len(seq); j++ {
				if seq[j] == k.name.Local {
					i = j
					break
				}
			}
			if i < 0 && next > 0 && seq[next-1] == k.name.Local && k.name.Local == "ExtendedProperty" {
				i = next - 1
			}
		}
		if i < 0 {
			return elemFault(k, invalidChild(n, k, seq[next:]))
		}
		next = i + 1
		if f := validateSimple(k); f != nil {
			return f
		}
	}
	return nil
}

// validateSimple checks a text-only child of an item.
func validateSimple(n *node) *soapFault {
	dt, ok := simpleFields[n.name.Local]
	if !ok {
		return nil
	}
	if len(n.kids) > 0 {
		k := n.kids[0]
		return elemFault(k, fmt.Sprintf("The element '%s' in namespace '%s' cannot contain child element '%s'%s because the parent element's content model is text only.",
			n.name.Local, n.name.Space, k.name.Local, inNamespace(k.name.Space)))
	}
	switch dt {
	case "t:BodyType":
		bt, ok := n.attr("BodyType")
		if !ok {
			return elemFault(n, "The required attribute 'BodyType' is missing.")
		}
		if !strings.Contains(enumValues["t:BodyTypeType"], " "+bt+" ") {
			return attrFault(n, "BodyType", invalidAttr("BodyType", bt, "t:BodyTypeType", "The Enumeration constraint failed."))
		}
		return nil
	}
	v := strings.TrimSpace(n.text)
	if reason := invalidValue(dt, v); reason != "" {
		return elemFault(n, fmt.Sprintf("The '%s:%s' element is invalid - The value '%s' is invalid according to its datatype '%s' - %s",
			n.name.Space, n.name.Local, clip(v, 200), qualified(dt), reason))
	}
	return nil
}

var xsDateTime = regexp.MustCompile(`^-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$`)

// invalidValue returns why v is not a value of the datatype dt, or "".
func invalidValue(dt, v string) string {
	notValid := func(kind string) string {
		return "The string '" + clip(v, 200) + "' is not a valid " + kind + " value."
	}
	switch dt {
	case "xs:boolean":
		if v != "true" && v != "false" && v != "1" && v != "0" {
			return notValid("Boolean")
		}
	case "xs:int":
		if _, err := strconv.ParseInt(strings.TrimPrefix(v, "+"), 10, 32); err != nil {
			return notValid("Int32")
		}
	case "xs:long":
		if _, err := strconv.ParseInt(strings.TrimPrefix(v, "+"), 10, 64); err != nil {
			return notValid("Int64")
		}
	case "xs:double":
		if _, err := strconv.ParseFloat(v, 64); err != nil && v != "INF" && v != "-INF" && v != "NaN" {
			return notValid("Double")
		}
	case "xs:dateTime":
		if !xsDateTime.MatchString(v) {
			return notValid("AllXsd")
		}
	case "xs:base64Binary":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, []byte(v))
		if _, err := base64.StdEncoding.DecodeString(string(clean)); err != nil {
			return notValid("Base64Binary")
		}
	default:
		if vals, ok := enumValues[dt]; ok && !strings.Contains(vals, " "+v+" ") {
			return "The Enumeration constraint failed."
		}
	}
	return ""
}

// invalidChild is the .NET validator's message for an unexpected element.
func invalidChild(parent, k *node, expected []string) string {
	msg := fmt.Sprintf("The element '%s' in namespace '%s' has invalid child element '%s'%s.",
		parent.name.Local, parent.name.Space, k.name.Local, inNamespace(k.name.Space))
	if len(expected) > 0 {
		msg += fmt.Sprintf(" List of possible elements expected: '%s' in namespace '%s'.", strings.Join(expected, ", "), nsTypes)
	}
	return msg
}

func invalidAttr(name, value, dt, reason string) string {
	return fmt.Sprintf("The '%s' attribute is invalid - The value '%s' is invalid according to its datatype '%s' - %s", name, clip(value, 200), qualified(dt), reason)
}

func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in namespace '" + ns + "'"
}

// qualified writes a datatype as the .NET validator does: namespace URI,
// colon, local name.
func qualified(dt string) string {
	switch {
	case strings.HasPrefix(dt, "xs:"):
		return "http://www.w3.org/2001/XMLSchema:" + dt[3:]
	case strings.HasPrefix(dt, "t:"):
		return nsTypes + ":" + dt[2:]
	}
	return dt
}

// elemFault is an ErrorSchemaValidation fault at the name of n's start tag.
func elemFault(n *node, violation string) *soapFault {
	return schemaFault(n, violation)
}

// attrFault is an ErrorSchemaValidation fault at the name of attribute
// local of n (at the element when it cannot be found).
func attrFault(n *node, local, violation string) *soapFault {
	f := schemaFault(n, violation)
	if l, c, ok := attrPosition(n, local); ok {
		f.line, f.pos = l, c
	}
	return f
}

// attrPosition finds an unprefixed attribute in n's start tag.
func attrPosition(n *node, local string) (line, col int, ok bool) {
	if n == nil || n.src == nil {
		return 0, 0, false
	}
	end := bytes.IndexByte(n.src[n.off:], '>')
	if end < 0 {
		return 0, 0, false
	}
	tag := n.src[n.off : n.off+end]
	for i := 0; i+len(local) <= len(tag); i++ {
		j := bytes.Index(tag[i:], []byte(local))
		if j < 0 {
			return 0, 0, false
		}
		at := i + j
		after := bytes.TrimLeft(tag[at+len(local):], " \t\r\n")
		if at > 0 && isSpace(tag[at-1]) && len(after) > 0 && after[0] == '=' {
			p := xmlParser{b: n.src, line: 1}
			l, c := p.pos(n.off + at)
			return l, c, true
		}
		i = at
	}
	return 0, 0, false
}
