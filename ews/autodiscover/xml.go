package autodiscover

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// Namespaces of SOAP and POX Autodiscover.
const (
	nsSOAP         = "http://schemas.xmlsoap.org/soap/envelope/"
	nsAD           = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
	nsWSA          = "http://www.w3.org/2005/08/addressing"
	nsXSI          = "http://www.w3.org/2001/XMLSchema-instance"
	nsPOXRequest   = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	nsPOXBase      = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	nsPOXResponse  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
	poxSchemaOfAns = nsPOXResponse

	soapActionGetUserSettings = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings"
)

// maxXMLDepth bounds nesting in parsed documents: Autodiscover answers are
// shallow, and a hostile one must not cost stack or time.
const maxXMLDepth = 64

// parseXML parses b as an XML document with a bounded depth.
func parseXML(b []byte) (*etree.Element, error) {
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = maxXMLDepth
	doc.ReadSettings.ValidateInput = true
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("the answer is not well-formed XML: %s", shorten(err.Error()))
	}
	root := doc.Root()
	if root == nil {
		return nil, fmt.Errorf("the answer is not an XML document")
	}
	return root, nil
}

// is reports whether e is {ns}local.
func is(e *etree.Element, ns, local string) bool {
	return e != nil && e.Tag == local && e.NamespaceURI() == ns
}

// kid returns the first child {ns}local of e, or nil.
func kid(e *etree.Element, ns, local string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, k := range e.ChildElements() {
		if is(k, ns, local) {
			return k
		}
	}
	return nil
}

// kids returns the children {ns}local of e.
func kids(e *etree.Element, ns, local string) []*etree.Element {
	if e == nil {
		return nil
	}
	var out []*etree.Element
	for _, k := range e.ChildElements() {
		if is(k, ns, local) {
			out = append(out, k)
		}
	}
	return out
}

// text returns the trimmed text of e ("" for nil).
func text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text())
}

// shorten keeps server-controlled text in errors and reports short and on
// one line.
func shorten(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	const max = 200
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xc0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
