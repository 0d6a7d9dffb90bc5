package ews

import (
	"bytes"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// XML namespaces of EWS. Elements are matched on namespace and local name,
// never on prefixes.
const (
	NamespaceSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	NamespaceMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	NamespaceTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	NamespaceErrors   = "http://schemas.microsoft.com/exchange/services/2006/errors"
)

// operation describes one EWS operation as the client sends it.
type operation struct {
	// name is the local name of the Body child, e.g. "GetFolder".
	name string
	// idempotent operations may be repeated after an ambiguous failure (the
	// connection broke after the request was sent): repeating them cannot
	// duplicate an effect.
	idempotent bool
	// timeZone is true when services.wsdl lists t:TimeZoneContext as a
	// header of the operation.
	timeZone bool
	// noImpersonation is true when services.wsdl does not list
	// t:ExchangeImpersonation for the operation (none of this package's
	// operations so far; GetServerTimeZones would be one).
	noImpersonation bool
}

// The operations of this package. Every one of them accepts
// t:ExchangeImpersonation (services.wsdl).
var (
	opGetFolder    = &operation{name: "GetFolder", idempotent: true, timeZone: true}
	opFindFolder   = &operation{name: "FindFolder", idempotent: true, timeZone: true}
	opFindItem     = &operation{name: "FindItem", idempotent: true, timeZone: true}
	opGetItem      = &operation{name: "GetItem", idempotent: true, timeZone: true}
	opCreateItem   = &operation{name: "CreateItem", idempotent: false, timeZone: true}
	opDeleteItem   = &operation{name: "DeleteItem", idempotent: true}
	opConvertID    = &operation{name: "ConvertId", idempotent: true}
	opResolveNames = &operation{name: "ResolveNames", idempotent: true}
)

const xmlDeclaration = `<?xml version="1.0" encoding="utf-8"?>`

// envelopeHeader is what goes into soap:Header.
type envelopeHeader struct {
	version  ExchangeVersion
	timeZone string
	sid      *ConnectingSID
}

// buildEnvelope writes the SOAP 1.1 envelope of one request. body creates
// the operation element under soap:Body. Every user value is set through
// etree, which escapes it; checkText rejects characters XML cannot carry.
func buildEnvelope(op *operation, h envelopeHeader, body func(b *etree.Element) error) ([]byte, error) {
	env := etree.NewElement("soap:Envelope")
	env.CreateAttr("xmlns:soap", NamespaceSOAP)
	env.CreateAttr("xmlns:m", NamespaceMessages)
	env.CreateAttr("xmlns:t", NamespaceTypes)

	hdr := env.CreateElement("soap:Header")
	hdr.CreateElement("t:RequestServerVersion").CreateAttr("Version", string(h.version))
	if h.sid != nil {
		if op.noImpersonation {
			return nil, invalidf("%s does not accept Exchange Impersonation; call it without Impersonate", op.name)
		}
		if err := h.sid.Validate(); err != nil {
			return nil, err
		}
		cs := hdr.CreateElement("t:ExchangeImpersonation").CreateElement("t:ConnectingSID")
		cs.CreateElement("t:" + h.sid.Kind.String()).SetText(h.sid.Value)
	}
	if h.timeZone != "" && op.timeZone {
		hdr.CreateElement("t:TimeZoneContext").CreateElement("t:TimeZoneDefinition").CreateAttr("Id", h.timeZone)
	}

	b := env.CreateElement("soap:Body")
	if err := body(b); err != nil {
		return nil, err
	}
	// Written straight into the buffer: Document.WriteTo would allocate a
	// bufio.Writer per request.
	var buf bytes.Buffer
	buf.Grow(len(xmlDeclaration) + writtenSize(env))
	buf.WriteString(xmlDeclaration)
	// Escaped so that the server reads back every value exactly: besides
	// & < and quotes, a carriage return in text and a tab, line feed or
	// carriage return in an attribute become character references, which
	// XML parsers would otherwise normalise (CR LF to LF in text, to a space
	// in an attribute). Empty elements are self-closing.
	env.WriteTo(&buf, &etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true})
	return buf.Bytes(), nil
}

// writtenSize is the length of e as WriteTo writes it when nothing needs
// escaping, so that the buffer of a request is allocated once.
func writtenSize(e *etree.Element) int {
	name := len(e.Tag)
	if e.Space != "" {
		name += len(e.Space) + 1
	}
	n := 1 + name // <name
	for _, a := range e.Attr {
		n += 1 + len(a.Key) + 2 + len(a.Value) + 1 // ␠key="value"
		if a.Space != "" {
			n += len(a.Space) + 1
		}
	}
	if len(e.Child) == 0 {
		return n + 2 // />
	}
	n += 1 + 2 + name + 1 // ></name>
	for _, c := range e.Child {
		switch c := c.(type) {
		case *etree.Element:
			n += writtenSize(c)
		case *etree.CharData:
			n += len(c.Data)
		}
	}
	return n
}

// checkText returns an error when v cannot be carried by XML 1.0 unchanged
// (invalid UTF-8 or a control character other than tab, CR and LF); etree
// would otherwise replace those characters silently.
func checkText(op, field, v string) error {
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size <= 1 {
			return invalidf("%s: %s is not valid UTF-8", op, field)
		}
		if !xmlChar(r) {
			return invalidf("%s: %s contains the character %U, which XML cannot carry", op, field, r)
		}
		i += size
	}
	return nil
}

func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
