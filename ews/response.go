package ews

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// ResponseClass is the ResponseClass attribute of a response message.
type ResponseClass string

// The three response classes.
const (
	// ClassSuccess: the item was processed.
	ClassSuccess ResponseClass = "Success"
	// ClassWarning: the item was processed, with a remark in the code (for
	// example ErrorNameResolutionMultipleResults from ResolveNames).
	ClassWarning ResponseClass = "Warning"
	// ClassError: the item failed; see the code.
	ClassError ResponseClass = "Error"
)

// MessageXMLValue is one entry of m:MessageXml (or a fault's t:MessageXml):
// a t:Value with its Name attribute, or another element (such as
// t:LineNumber) under its local name.
type MessageXMLValue struct {
	Name  string
	Value string
}

// MessageXML holds the extra data of an EWS error, in document order.
type MessageXML []MessageXMLValue

// Get returns the first value called name.
func (m MessageXML) Get(name string) (string, bool) {
	for _, v := range m {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// backOff returns BackOffMilliseconds as a duration.
func (m MessageXML) backOff() (time.Duration, bool) {
	v, ok := m.Get("BackOffMilliseconds")
	if !ok {
		return 0, false
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || ms < 0 {
		return 0, false
	}
	if ms > int64(24*time.Hour/time.Millisecond) {
		ms = int64(24 * time.Hour / time.Millisecond)
	}
	return time.Duration(ms) * time.Millisecond, true
}

// ResponseMessage is the common part of every per-item result: the
// ResponseClass, ResponseCode, MessageText, DescriptiveLinkKey and
// MessageXml of one m:*ResponseMessage.
type ResponseMessage struct {
	Class              ResponseClass
	Code               ResponseCode
	MessageText        string
	DescriptiveLinkKey int
	MessageXML         MessageXML
}

// err returns a *ResponseError when the message reports an error.
func (m *ResponseMessage) err(op string, index int) error {
	if m.Class != ClassError {
		return nil
	}
	return &ResponseError{Operation: op, Index: index, Code: m.Code, Message: m.MessageText, MessageXML: m.MessageXML}
}

// soapResponse is a parsed response envelope.
type soapResponse struct {
	serverVersion *ServerVersionInfo
	// body is the single element child of soap:Body.
	body *etree.Element
	// red redacts the client's secrets from server text.
	red *redactor
}

var errNotEnvelope = errors.New("the root element is not a SOAP 1.1 Envelope")

// parseSOAP parses a SOAP 1.1 envelope. It stops when ctx ends.
func parseSOAP(ctx context.Context, data []byte) (*soapResponse, error) {
	root, err := parseTree(ctx, data)
	if err != nil {
		return nil, err
	}
	if root.Tag == "Envelope" && root.NamespaceURI() == "http://www.w3.org/2003/05/soap-envelope" {
		return nil, errors.New("the response is a SOAP 1.2 envelope; EWS speaks SOAP 1.1")
	}
	return envelopeOf(root)
}

// envelopeOf reads the parts of a SOAP 1.1 envelope tree.
func envelopeOf(root *etree.Element) (*soapResponse, error) {
	if root.Tag != "Envelope" || root.NamespaceURI() != NamespaceSOAP {
		return nil, errNotEnvelope
	}
	r := &soapResponse{}
	for _, part := range root.ChildElements() {
		if part.NamespaceURI() != NamespaceSOAP {
			continue
		}
		switch part.Tag {
		case "Header":
			if svi := childNS(part, NamespaceTypes, "ServerVersionInfo"); svi != nil {
				r.serverVersion = parseServerVersionInfo(svi)
			}
		case "Body":
			kids := part.ChildElements()
			if len(kids) != 1 {
				return nil, errors.New("soap:Body does not hold exactly one element")
			}
			r.body = kids[0]
		}
	}
	if r.body == nil {
		return nil, errors.New("the envelope has no soap:Body")
	}
	return r, nil
}

// Bounds on the shape of a response, far above what Exchange sends, so that
// a broken or hostile server cannot make the parser burn CPU or memory out
// of proportion to the body: etree checks each new attribute against those
// of its element (quadratic in attributes per element), resolving a
// namespace walks up the ancestors, and each element costs far more memory
// than its bytes.
const (
	// maxXMLDepth bounds the nesting of elements.
	maxXMLDepth = 256
	// maxXMLAttrs bounds the attributes (namespace declarations included)
	// of one element; the most in EWS responses is about ten.
	maxXMLAttrs = 64
	// maxXMLElements bounds the elements of a response: a page of 1000
	// items with all their properties has some tens of thousands.
	maxXMLElements = 1 << 19
	// parseCheckEvery is how many tokens the parser reads between looks
	// at the context.
	parseCheckEvery = 1024
)

// utf8Only is the decoders' CharsetReader: EWS answers in UTF-8, which
// the decoders read as they are.
func utf8Only(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	}
	return nil, fmt.Errorf("unsupported charset %q; EWS answers in UTF-8", charset)
}

// parseTree reads a well-formed XML document into an etree element tree,
// like etree's Document.ReadFromBytes but without its per-call buffers and
// without whitespace-only text nodes, which EWS responses are full of and
// the parser never needs. Text keeps its exact bytes otherwise; namespace
// declarations stay attributes, so Element.NamespaceURI resolves prefixes.
// It refuses documents beyond the bounds above, and stops with ctx's error
// when ctx ends.
//
// The scanner of xmlscan.go reads the document first; what it leaves
// undecided (anything malformed or unusual) is decoded again with
// encoding/xml, whose verdict stands.
func parseTree(ctx context.Context, data []byte) (*etree.Element, error) {
	// .NET servers may start UTF-8 with a byte order mark.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	root, err := scanTree(ctx, data)
	if !errors.Is(err, errSlowPath) {
		return root, err
	}
	return decodeTree(ctx, data)
}

// decodeTree is parseTree with encoding/xml's decoder.
func decodeTree(ctx context.Context, data []byte) (*etree.Element, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = utf8Only
	b := newTreeBuilder(maxXMLElements, data)
	for n := 1; ; n++ {
		if n%parseCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("XML parsing stopped: %w", err)
			}
		}
		tok, err := dec.RawToken()
		if err == io.EOF {
			if b.depth() != 0 || b.root == nil {
				return nil, errors.New("XML document is truncated or empty")
			}
			return b.root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			_, err = b.start(t)
		case xml.EndElement:
			_, err = b.end(t)
		case xml.CharData:
			err = b.chars(t)
		}
		if err != nil {
			return nil, err
		}
	}
}

func parseServerVersionInfo(e *etree.Element) *ServerVersionInfo {
	atoi := func(name string) int {
		n, _ := strconv.Atoi(strings.TrimSpace(e.SelectAttrValue(name, "")))
		return n
	}
	return &ServerVersionInfo{
		MajorVersion:     atoi("MajorVersion"),
		MinorVersion:     atoi("MinorVersion"),
		MajorBuildNumber: atoi("MajorBuildNumber"),
		MinorBuildNumber: atoi("MinorBuildNumber"),
		Version:          strings.TrimSpace(e.SelectAttrValue("Version", "")),
	}
}

// fault returns the soap:Fault element of the body, if that is what it is.
func (r *soapResponse) fault() *etree.Element {
	if r.body.Tag == "Fault" && r.body.NamespaceURI() == NamespaceSOAP {
		return r.body
	}
	return nil
}

// parseFault reads a soap:Fault. faultcode, faultstring and detail are
// unqualified; the detail children are matched by local name so that old
// servers' shapes still yield what they can.
func parseFault(f *etree.Element, op string, status int, red *redactor) *FaultError {
	fe := parseFaultText(f, op, status)
	fe.FaultCode = red.redact(fe.FaultCode)
	fe.Code = red.redactCode(fe.Code)
	fe.FaultString = red.redact(fe.FaultString)
	fe.Message = red.redact(fe.Message)
	fe.MessageXML = red.redactMessageXML(fe.MessageXML)
	return fe
}

func parseFaultText(f *etree.Element, op string, status int) *FaultError {
	fe := &FaultError{Operation: op, StatusCode: status}
	if fc := childLocal(f, "faultcode"); fc != nil {
		fe.FaultCode = strings.TrimSpace(fc.Text())
		prefix, local, hasPrefix := strings.Cut(fe.FaultCode, ":")
		if !hasPrefix {
			local, prefix = prefix, ""
		}
		if lookupPrefix(fc, prefix) == NamespaceTypes || strings.HasPrefix(local, "Error") {
			fe.Code = ResponseCode(local)
		}
	}
	if fs := childLocal(f, "faultstring"); fs != nil {
		fe.FaultString = strings.TrimSpace(fs.Text())
	}
	if d := childLocal(f, "detail"); d != nil {
		if rc := childLocal(d, "ResponseCode"); rc != nil {
			if c := strings.TrimSpace(rc.Text()); c != "" {
				fe.Code = ResponseCode(c)
			}
		}
		if m := childLocal(d, "Message"); m != nil {
			fe.Message = strings.TrimSpace(m.Text())
		}
		if mx := childLocal(d, "MessageXml"); mx != nil {
			fe.MessageXML = parseMessageXML(mx)
		}
	}
	return fe
}

func parseMessageXML(e *etree.Element) MessageXML {
	var out MessageXML
	for _, c := range e.ChildElements() {
		if c.Tag == "Value" {
			out = append(out, MessageXMLValue{Name: c.SelectAttrValue("Name", ""), Value: strings.TrimSpace(c.Text())})
			continue
		}
		out = append(out, MessageXMLValue{Name: c.Tag, Value: strings.TrimSpace(c.Text())})
	}
	return out
}

// responseMessages returns the children of m:ResponseMessages of the
// operation response in the body.
func (r *soapResponse) responseMessages() []*etree.Element {
	rm := childNS(r.body, NamespaceMessages, "ResponseMessages")
	if rm == nil {
		return nil
	}
	return rm.ChildElements()
}

// parseResponseMessage reads a response message; red hides credentials in
// its text.
func parseResponseMessage(e *etree.Element, red *redactor) ResponseMessage {
	m := parseResponseMessageText(e)
	m.Code = red.redactCode(m.Code)
	m.MessageText = red.redact(m.MessageText)
	m.MessageXML = red.redactMessageXML(m.MessageXML)
	return m
}

func parseResponseMessageText(e *etree.Element) ResponseMessage {
	var m ResponseMessage
	m.Class = ResponseClass(strings.TrimSpace(e.SelectAttrValue("ResponseClass", "")))
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() != NamespaceMessages {
			continue
		}
		switch c.Tag {
		case "ResponseCode":
			m.Code = ResponseCode(strings.TrimSpace(c.Text()))
		case "MessageText":
			m.MessageText = strings.TrimSpace(c.Text())
		case "DescriptiveLinkKey":
			m.DescriptiveLinkKey, _ = strconv.Atoi(strings.TrimSpace(c.Text()))
		case "MessageXml":
			m.MessageXML = parseMessageXML(c)
		}
	}
	switch m.Class {
	case ClassSuccess, ClassWarning, ClassError:
	default:
		// Missing or unknown class: decide by the code.
		if m.Code == "" || m.Code == NoError {
			m.Class = ClassSuccess
		} else {
			m.Class = ClassError
		}
	}
	if m.Code == "" && m.Class == ClassSuccess {
		m.Code = NoError
	}
	return m
}

// childNS returns the first child element of e with namespace ns and local
// name local.
func childNS(e *etree.Element, ns, local string) *etree.Element {
	for _, c := range e.Child {
		if ce, ok := c.(*etree.Element); ok && ce.Tag == local && ce.NamespaceURI() == ns {
			return ce
		}
	}
	return nil
}

// childrenNS returns the child elements of e with namespace ns and local
// name local.
func childrenNS(e *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range e.Child {
		if ce, ok := c.(*etree.Element); ok && ce.Tag == local && ce.NamespaceURI() == ns {
			out = append(out, ce)
		}
	}
	return out
}

// childLocal returns the first child element of e with local name local,
// in any namespace.
func childLocal(e *etree.Element, local string) *etree.Element {
	for _, c := range e.Child {
		if ce, ok := c.(*etree.Element); ok && ce.Tag == local {
			return ce
		}
	}
	return nil
}

// childText returns the trimmed text of the child ns:local, or "".
func childText(e *etree.Element, ns, local string) string {
	if c := childNS(e, ns, local); c != nil {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

// lookupPrefix resolves an XML namespace prefix ("" = default namespace) in
// the scope of e.
func lookupPrefix(e *etree.Element, prefix string) string {
	for ; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if prefix == "" && a.Space == "" && a.Key == "xmlns" {
				return a.Value
			}
			if prefix != "" && a.Space == "xmlns" && a.Key == prefix {
				return a.Value
			}
		}
	}
	return ""
}

// messages returns the response messages of the operation, which must be
// want of them (one per requested item, in request order). A single error
// message for a batch is returned as the request's error.
// batchResult is what every per-item result type of a batched operation
// has: its ResponseMessage and per-item error.
type batchResult interface {
	setMessage(m ResponseMessage, err error)
}

// parseResults turns op's response messages into one R per requested item,
// in request order: the ResponseMessage and error of each, and, through
// fill, the payload of those that succeeded.
func parseResults[R any, P interface {
	*R
	batchResult
}](r *soapResponse, op *operation, want int, fill func(res *R, msg *etree.Element)) ([]R, error) {
	msgs, err := r.messages(op, want)
	if err != nil {
		return nil, err
	}
	out := make([]R, len(msgs))
	for i, e := range msgs {
		m := parseResponseMessage(e, r.red)
		err := m.err(op.name, i)
		P(&out[i]).setMessage(m, err)
		if err == nil && fill != nil {
			fill(&out[i], e)
		}
	}
	return out, nil
}

func (r *soapResponse) messages(op *operation, want int) ([]*etree.Element, error) {
	msgs := r.responseMessages()
	if len(msgs) == want {
		return msgs, nil
	}
	if len(msgs) == 1 {
		m := parseResponseMessage(msgs[0], r.red)
		if err := m.err(op.name, 0); err != nil {
			return nil, err
		}
	}
	return nil, &HTTPError{Operation: op.name, StatusCode: 200,
		Reason: "the response has " + strconv.Itoa(len(msgs)) + " response messages for " + strconv.Itoa(want) + " requested items"}
}
