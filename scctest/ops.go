package scctest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// opSpec is one implemented operation. run executes under the server lock
// (write lock when write is set) and returns the response or a fault.
type opSpec struct {
	write bool
	run   func(x *exchange) (*opResponse, *soapFault)
	// batch names the children of the operation element that each get one
	// response message (for injected MessageError faults).
	batch []string
}

// operations returns the implementation of an operation.
func operations(name string) (opSpec, bool) {
	if spec, ok := notifyOperations(name); ok {
		return spec, true
	}
	switch name {
	case "GetFolder":
		return opSpec{run: (*exchange).getFolder, batch: []string{"FolderIds"}}, true
	case "FindFolder":
		return opSpec{run: (*exchange).findFolder, batch: []string{"ParentFolderIds"}}, true
	case "FindItem":
		return opSpec{run: (*exchange).findItem, batch: []string{"ParentFolderIds"}}, true
	case "GetItem":
		return opSpec{run: (*exchange).getItem, batch: []string{"ItemIds"}}, true
	case "CreateItem":
		return opSpec{write: true, run: (*exchange).createItem, batch: []string{"Items"}}, true
	case "DeleteItem":
		return opSpec{write: true, run: (*exchange).deleteItem, batch: []string{"ItemIds"}}, true
	case "CreateFolder":
		return opSpec{write: true, run: (*exchange).createFolder, batch: []string{"Folders"}}, true
	case "UpdateFolder":
		return opSpec{write: true, run: (*exchange).updateFolder, batch: []string{"FolderChanges"}}, true
	case "MoveFolder", "CopyFolder":
		return opSpec{write: true, run: (*exchange).moveFolder, batch: []string{"FolderIds"}}, true
	case "DeleteFolder":
		return opSpec{write: true, run: (*exchange).deleteFolder, batch: []string{"FolderIds"}}, true
	case "UpdateItem":
		return opSpec{write: true, run: (*exchange).updateItem, batch: []string{"ItemChanges"}}, true
	case "MoveItem", "CopyItem":
		return opSpec{write: true, run: (*exchange).moveItem, batch: []string{"ItemIds"}}, true
	case "CreateAttachment":
		return opSpec{write: true, run: (*exchange).createAttachment, batch: []string{"Attachments"}}, true
	case "GetAttachment":
		return opSpec{run: (*exchange).getAttachment, batch: []string{"AttachmentIds"}}, true
	case "DeleteAttachment":
		return opSpec{write: true, run: (*exchange).deleteAttachment, batch: []string{"AttachmentIds"}}, true
	case "GetUserConfiguration":
		return opSpec{run: (*exchange).getUserConfig}, true
	case "CreateUserConfiguration", "UpdateUserConfiguration":
		return opSpec{write: true, run: (*exchange).writeUserConfig}, true
	case "DeleteUserConfiguration":
		return opSpec{write: true, run: (*exchange).deleteUserConfig}, true
	case "ConvertId":
		return opSpec{run: (*exchange).convertID, batch: []string{"SourceIds"}}, true
	case "SyncFolderItems", "SyncFolderHierarchy":
		return opSpec{run: (*exchange).syncFolder}, true
	case "ResolveNames":
		return opSpec{run: (*exchange).resolveNames}, true
	}
	return opSpec{}, false
}

// batchSize is the number of response messages a request gets.
func batchSize(op string, body *node) int {
	spec, _ := operations(op)
	n := 0
	for _, b := range spec.batch {
		if c := body.child(nsMessages, b); c != nil {
			n += len(c.kids)
		}
	}
	return max(n, 1)
}

// dispatch runs the operation and writes its answer.
func (x *exchange) dispatch(w http.ResponseWriter) {
	x.routeAffinity(w)
	if x.op == "GetStreamingEvents" {
		x.streamEvents(w)
		return
	}
	resp, doc, f := x.run()
	if f != nil {
		x.fault(w, f)
		return
	}
	x.respond(w, resp, doc)
}

// run executes the operation and builds its answer under the server lock,
// which a deferred unlock releases also when the operation panics (the
// panic then becomes that request's ErrorInternalServerError, see
// recoverPanic).
func (x *exchange) run() (*opResponse, *document, *soapFault) {
	spec, _ := operations(x.op)
	s := x.s
	if spec.write {
		s.mu.Lock()
		defer s.mu.Unlock()
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	if s.opHook != nil {
		s.opHook(x.op)
	}
	resp, f := spec.run(x)
	if f != nil {
		return nil, nil, f
	}
	return resp, resp.document(s.vi), nil
}

// shape is a parsed FolderShape / ItemShape.
type shape struct {
	base   string
	fields map[string]bool
	// ext are the ExtendedFieldURIs of AdditionalProperties.
	ext []mbx.ExtendedFieldURI
	// indexed are the IndexedFieldURIs, as "FieldURI/FieldIndex".
	indexed map[string]bool
	// bodyType is ItemShape/BodyType ("" or Best: as stored).
	bodyType string
	// mime is ItemShape/IncludeMimeContent.
	mime bool
}

// parseShape reads m:FolderShape or m:ItemShape (required).
func parseShape(op *node, name string) (shape, *soapFault) {
	sh := op.child(nsMessages, name)
	if sh == nil {
		return shape{}, schemaFault(op, "The element '"+op.name.Local+"' has incomplete content. List of possible elements expected: '"+name+"'.")
	}
	bs := sh.child(nsTypes, "BaseShape")
	if bs == nil {
		return shape{}, schemaFault(sh, "The element '"+name+"' has incomplete content. List of possible elements expected: 'BaseShape'.")
	}
	out := shape{base: bs.trimmed(), fields: map[string]bool{}}
	switch out.base {
	case "IdOnly", "Default", "AllProperties":
	default:
		return shape{}, schemaFault(bs, "The value '"+out.base+"' is invalid according to its datatype 'DefaultShapeNamesType' - The Enumeration constraint failed.")
	}
	if bt := sh.child(nsTypes, "BodyType"); bt != nil {
		switch out.bodyType = bt.trimmed(); out.bodyType {
		case "Best", "Text", "HTML":
		default:
			return shape{}, schemaFault(bt, "The value '"+out.bodyType+"' is invalid according to its datatype 'BodyTypeResponseType'.")
		}
	}
	if im := sh.child(nsTypes, "IncludeMimeContent"); im != nil {
		out.mime = im.trimmed() == "true" || im.trimmed() == "1"
	}
	if ap := sh.child(nsTypes, "AdditionalProperties"); ap != nil {
		for _, f := range ap.kids {
			switch {
			case f.is(nsTypes, "FieldURI"):
				out.fields[f.attrOr("FieldURI", "")] = true
			case f.is(nsTypes, "IndexedFieldURI"):
				if out.indexed == nil {
					out.indexed = map[string]bool{}
				}
				out.indexed[f.attrOr("FieldURI", "")+"/"+f.attrOr("FieldIndex", "")] = true
			case f.is(nsTypes, "ExtendedFieldURI"):
				u, fault := parseExtURI(f)
				if fault != nil {
					return shape{}, fault
				}
				out.ext = append(out.ext, u)
			}
		}
	}
	return out, nil
}

// want reports whether a property is returned: requested explicitly, or in
// the base shape's set.
func (sh shape) want(field string, inDefault, inAll bool) bool {
	if sh.fields[field] {
		return true
	}
	switch sh.base {
	case "Default":
		return inDefault
	case "AllProperties":
		return inAll
	}
	return false
}

// target is a resolved folder reference: the mailbox and the folder as
// the model names it (a distinguished name or a folder id).
type target struct {
	mb  *mailbox
	ref string
}

// box returns the model of the target's mailbox.
func (x *exchange) box(t target) *mbx.Mailbox { return x.s.box(t.mb) }

// resolveFolder resolves a t:DistinguishedFolderId or t:FolderId to its
// mailbox. A response-message error comes back as code; a schema problem
// as fault. Whether the folder exists is the model's answer.
func (x *exchange) resolveFolder(n *node) (target, ews.ResponseCode, *soapFault) {
	s := x.s
	switch {
	case n.is(nsTypes, "DistinguishedFolderId"):
		name, ok := n.attr("Id")
		if !ok {
			return target{}, "", schemaFault(n, "The required attribute 'Id' is missing.")
		}
		if !strings.Contains(schemaDistinguishedFolders, " "+name+" ") {
			return target{}, "", schemaFault(n, "The 'Id' attribute is invalid - The value '"+name+"' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:DistinguishedFolderIdNameType' - The Enumeration constraint failed.")
		}
		mb := x.acting
		if m := n.child(nsTypes, "Mailbox"); m != nil {
			addr := m.child(nsTypes, "EmailAddress").trimmed()
			other := s.dir.lookupAddr(addr)
			if other == nil {
				return target{}, ews.ErrorNonExistentMailbox, nil
			}
			if mb != other {
				// No delegate (folder) permissions are modelled.
				return target{}, ews.ErrorAccessDenied, nil
			}
		}
		if mb == nil {
			return target{}, ews.ErrorMissingEmailAddress, nil
		}
		if !slices.Contains(mbx.DistinguishedFolderNames(), name) {
			// A schema name the model has no folder for (archive
			// folders of a mailbox without archive, ...).
			return target{}, ews.ErrorFolderNotFound, nil
		}
		return target{mb, name}, "", nil
	case n.is(nsTypes, "FolderId"):
		id, ok := n.attr("Id")
		if !ok {
			return target{}, "", schemaFault(n, "The required attribute 'Id' is missing.")
		}
		if strings.TrimSpace(id) == "" {
			return target{}, ews.ErrorInvalidIdEmpty, nil
		}
		info, err := mbx.DecodeID(id)
		if err != nil || info.Kind != mbx.KindFolderID {
			return target{}, ews.ErrorInvalidIdMalformed, nil
		}
		if int(info.Mailbox) >= len(s.dir.mailboxes) {
			return target{}, ews.ErrorFolderNotFound, nil
		}
		mb, code := x.idMailbox(id)
		if code != "" {
			return target{}, code, nil
		}
		return target{mb, id}, "", nil
	}
	return target{}, "", schemaFault(n, "The element '"+n.name.Local+"' is not a folder id.")
}

// idMailbox returns the mailbox a well-formed id belongs to, refusing ids
// of mailboxes the request does not act as (no delegate access is
// modelled).
func (x *exchange) idMailbox(id string) (*mailbox, ews.ResponseCode) {
	b, _, err := x.s.store.Resolve(id)
	if err != nil {
		return nil, modelFailure(err).code
	}
	mb := x.s.owner(b)
	if mb == nil {
		return nil, ews.ErrorItemNotFound
	}
	if mb != x.acting {
		return nil, ews.ErrorAccessDenied
	}
	return mb, ""
}

// folderIDs resolves the children of a FolderIds-like element.
func (x *exchange) folderList(op *node, name string) ([]*node, *soapFault) {
	c := op.child(nsMessages, name)
	if c == nil || len(c.kids) == 0 {
		return nil, schemaFault(op, "The element '"+op.name.Local+"' has incomplete content. List of possible elements expected: '"+name+"'.")
	}
	return c.kids, nil
}

// getFolder implements GetFolder.
func (x *exchange) getFolder() (*opResponse, *soapFault) {
	sh, f := parseShape(x.body, "FolderShape")
	if f != nil {
		return nil, f
	}
	ids, f := x.folderList(x.body, "FolderIds")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, id := range ids {
		t, code, f := x.resolveFolder(id)
		if f != nil {
			return nil, f
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		fo, err := x.box(t).GetFolder(t.ref)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		w, rm := x.folderWriter(t, fo, sh)
		if rm != nil {
			resp.messages = append(resp.messages, *rm)
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) { w(m.CreateElement("m:Folders")) }))
	}
	return resp, nil
}

// pageView is a parsed IndexedPage*View / FractionalPage*View.
type pageView struct {
	indexed    bool
	fractional bool
	offset     int
	max        int // 0 = no limit
	fromEnd    bool
	num, den   int
}

// maxFindCount is EWSFindCountLimit: a page never holds more.
const maxFindCount = 1000

func parsePageView(op *node, indexedName, fractionalName string) (pageView, *soapFault) {
	var v pageView
	if n := op.child(nsMessages, indexedName); n != nil {
		v.indexed = true
		off, ok := n.attr("Offset")
		if !ok {
			return v, schemaFault(n, "The required attribute 'Offset' is missing.")
		}
		bp, ok := n.attr("BasePoint")
		if !ok {
			return v, schemaFault(n, "The required attribute 'BasePoint' is missing.")
		}
		var err bool
		v.offset, err = atoiNonNeg(off)
		if err {
			return v, schemaFault(n, "The 'Offset' attribute is invalid - The value '"+off+"' is invalid according to its datatype 'xs:int'.")
		}
		switch bp {
		case "Beginning":
		case "End":
			v.fromEnd = true
		default:
			return v, schemaFault(n, "The 'BasePoint' attribute is invalid - The value '"+bp+"' is invalid according to its datatype 'IndexBasePointType'.")
		}
		if me, ok := n.attr("MaxEntriesReturned"); ok {
			v.max, err = atoiNonNeg(me)
			if err || v.max == 0 {
				return v, schemaFault(n, "The 'MaxEntriesReturned' attribute is invalid - The value '"+me+"' is invalid.")
			}
		}
	} else if n := op.child(nsMessages, fractionalName); n != nil {
		v.fractional = true
		var e1, e2 bool
		v.num, e1 = atoiNonNeg(n.attrOr("Numerator", "x"))
		v.den, e2 = atoiNonNeg(n.attrOr("Denominator", "x"))
		if e1 || e2 || v.den == 0 {
			return v, schemaFault(n, "The Numerator and Denominator attributes must be integers, Denominator > 0.")
		}
		if me, ok := n.attr("MaxEntriesReturned"); ok {
			var err bool
			v.max, err = atoiNonNeg(me)
			if err || v.max == 0 {
				return v, schemaFault(n, "The 'MaxEntriesReturned' attribute is invalid.")
			}
		}
	}
	return v, nil
}

// window applies the view to total entries: [start, end).
func (v pageView) window(total int) (start, end int) {
	limit := maxFindCount
	if v.max > 0 && v.max < limit {
		limit = v.max
	}
	switch {
	case v.fractional:
		start = total * v.num / v.den
	case v.fromEnd:
		end = total - v.offset
		start = max(end-limit, 0)
		if end < 0 {
			end = 0
		}
		return start, end
	default:
		start = v.offset
	}
	start = min(start, total)
	end = min(start+limit, total)
	return start, end
}

// pagingAttrs sets the FindResponsePagingAttributes of a RootFolder.
func (v pageView) pagingAttrs(e *elem, start, end, total int) {
	switch {
	case v.fractional:
		e.CreateAttr("NumeratorOffset", itoa(end))
		e.CreateAttr("AbsoluteDenominator", itoa(total))
	default:
		if v.fromEnd {
			e.CreateAttr("IndexedPagingOffset", itoa(total-start))
		} else {
			e.CreateAttr("IndexedPagingOffset", itoa(end))
		}
	}
	e.CreateAttr("TotalItemsInView", itoa(total))
	last := end >= total
	if v.fromEnd {
		last = start == 0
	}
	e.CreateAttr("IncludesLastItemInRange", boolStr(last))
}

// parseFind reads what FindFolder and FindItem share: the Traversal
// attribute (one of traversals, named typeName in the schema), the
// <kind>Shape, an optional IndexedPage<kind>View or FractionalPage<kind>View,
// and the ParentFolderIds.
func (x *exchange) parseFind(typeName string, traversals []string, kind string) (string, shape, pageView, []*node, *soapFault) {
	trav, ok := x.body.attr("Traversal")
	if !ok {
		return "", shape{}, pageView{}, nil, schemaFault(x.body, "The required attribute 'Traversal' is missing.")
	}
	if !slices.Contains(traversals, trav) {
		return "", shape{}, pageView{}, nil, schemaFault(x.body, "The 'Traversal' attribute is invalid - The value '"+trav+"' is invalid according to its datatype '"+typeName+"'.")
	}
	sh, f := parseShape(x.body, kind+"Shape")
	if f != nil {
		return "", shape{}, pageView{}, nil, f
	}
	view, f := parsePageView(x.body, "IndexedPage"+kind+"View", "FractionalPage"+kind+"View")
	if f != nil {
		return "", shape{}, pageView{}, nil, f
	}
	ids, f := x.folderList(x.body, "ParentFolderIds")
	if f != nil {
		return "", shape{}, pageView{}, nil, f
	}
	return trav, sh, view, ids, nil
}

// findFolder implements FindFolder (Shallow and Deep traversal).
func (x *exchange) findFolder() (*opResponse, *soapFault) {
	trav, sh, view, ids, f := x.parseFind("FolderQueryTraversalType", []string{"Shallow", "Deep", "SoftDeleted"}, "Folder")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	restr, f := parseRestriction(x.body)
	if f != nil {
		return nil, f
	}
	for _, id := range ids {
		t, code, f := x.resolveFolder(id)
		if f != nil {
			return nil, f
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		tr := mbx.Shallow
		switch trav {
		case "Deep":
			tr = mbx.Deep
		case "SoftDeleted":
			tr = mbx.SoftDeleted
		}
		res, err := x.box(t).FindFoldersQuery(t.ref, tr, mbx.Query{Restriction: restr})
		found := res.Folders
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		start, end := view.window(len(found))
		var ws []func(*elem)
		var rm *responseMessage
		for _, fo := range found[start:end] {
			var w func(*elem)
			if w, rm = x.folderWriter(t, fo, sh); rm != nil {
				break
			}
			ws = append(ws, w)
		}
		if rm != nil {
			resp.messages = append(resp.messages, *rm)
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			rf := m.CreateElement("m:RootFolder")
			view.pagingAttrs(rf, start, end, len(found))
			fs := rf.CreateElement("t:Folders")
			for _, w := range ws {
				w(fs)
			}
		}))
	}
	return resp, nil
}
