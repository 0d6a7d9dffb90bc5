package scctest

import (
	"bytes"
	"strings"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// Folder operations: the folder writer GetFolder and FindFolder share, and
// CreateFolder, UpdateFolder, MoveFolder, CopyFolder and DeleteFolder, all
// answered by the mailbox model.

// folderFields are the folder FieldURIs the fake answers from the model.
var folderFields = map[string]bool{
	"folder:FolderId": true, "folder:ParentFolderId": true, "folder:FolderClass": true,
	"folder:DisplayName": true, "folder:TotalCount": true, "folder:ChildFolderCount": true,
	"folder:EffectiveRights": true, "folder:UnreadCount": true,
}

// folderRaw are the schema-valid folder properties the model does not
// interpret: a client that sets one gets it back verbatim (FieldURI or
// AllProperties), in this order, which is the schema's.
var folderRaw = []struct{ field, elem string }{
	{"folder:ManagedFolderInformation", "ManagedFolderInformation"},
	{"folder:PolicyTag", "PolicyTag"},
	{"folder:ArchiveTag", "ArchiveTag"},
	{"folder:PermissionSet", "PermissionSet"},
}

// folderReadOnly are folder elements a client may not set; CreateFolder
// and UpdateFolder refuse them with ErrorInvalidPropertySet.
var folderReadOnly = map[string]string{
	"FolderId": "folder:FolderId", "ParentFolderId": "folder:ParentFolderId", "TotalCount": "folder:TotalCount",
	"ChildFolderCount": "folder:ChildFolderCount", "UnreadCount": "folder:UnreadCount",
	"EffectiveRights": "folder:EffectiveRights", "DistinguishedFolderId": "folder:DistinguishedFolderId",
	"ManagedFolderInformation": "folder:ManagedFolderInformation", "SharingEffectiveRights": "folder:SharingEffectiveRights",
}

func rawName(local string) string { return "t:" + local }

// invalidProperty is ErrorInvalidPropertyRequest naming the property.
func invalidProperty(field, why string) *responseMessage {
	return &responseMessage{code: ews.ErrorInvalidPropertyRequest, text: "The property " + field + " " + why + ".", values: []nameValue{{"FieldURI", field}}}
}

// folderWriter checks that every property the shape asks for can be
// returned and returns the writer of the folder element; a property the
// fake cannot return is ErrorInvalidPropertyRequest naming it.
func (x *exchange) folderWriter(t target, fo mbx.Folder, sh shape) (func(*elem), *responseMessage) {
	for f := range sh.fields {
		if folderFields[f] {
			continue
		}
		raw := false
		for _, r := range folderRaw {
			raw = raw || r.field == f
		}
		if !raw {
			return nil, invalidProperty(f, "is not a folder property scctest can return")
		}
	}
	if len(sh.indexed) > 0 {
		for f := range sh.indexed {
			return nil, invalidProperty(strings.SplitN(f, "/", 2)[0], "is not a folder property")
		}
	}
	var ext []mbx.ExtendedProperty
	if len(sh.ext) > 0 {
		var err error
		if ext, err = x.box(t).FolderExtendedProperties(fo.ID, sh.ext); err != nil {
			rm := modelFailure(err)
			return nil, &rm
		}
	}
	return func(parent *elem) { writeFolder(parent, fo, sh, ext) }, nil
}

// writeFolder appends the folder element with the properties of the
// shape, in schema order.
func writeFolder(parent *elem, f mbx.Folder, sh shape, ext []mbx.ExtendedProperty) {
	e := parent.CreateElement("t:" + f.Kind.String())
	fid := e.CreateElement("t:FolderId")
	fid.CreateAttr("Id", f.ID)
	fid.CreateAttr("ChangeKey", f.ChangeKey)
	if f.ParentID != "" && sh.want("folder:ParentFolderId", false, true) {
		e.CreateElement("t:ParentFolderId").CreateAttr("Id", f.ParentID)
	}
	if f.Class != "" && sh.want("folder:FolderClass", false, true) {
		e.CreateElement("t:FolderClass").SetText(f.Class)
	}
	if sh.want("folder:DisplayName", true, true) {
		e.CreateElement("t:DisplayName").SetText(f.DisplayName)
	}
	if sh.want("folder:TotalCount", true, true) {
		e.CreateElement("t:TotalCount").SetText(itoa(f.TotalCount))
	}
	if sh.want("folder:ChildFolderCount", true, true) {
		e.CreateElement("t:ChildFolderCount").SetText(itoa(f.ChildCount))
	}
	writeExtended(e, ext)
	raw := func(name string) {
		for _, r := range folderRaw {
			if r.elem == name && sh.want(r.field, false, true) {
				writeRaw(e, f.Raw, rawName(name))
			}
		}
	}
	raw("ManagedFolderInformation")
	if sh.want("folder:EffectiveRights", false, true) {
		er := e.CreateElement("t:EffectiveRights")
		for _, r := range []string{"CreateAssociated", "CreateContents", "CreateHierarchy", "Delete", "Modify", "Read", "ViewPrivateItems"} {
			er.CreateElement("t:" + r).SetText("true")
		}
	}
	raw("PolicyTag")
	raw("ArchiveTag")
	if f.Kind == mbx.GenericFolder || f.Kind == mbx.TasksFolder {
		raw("PermissionSet")
		if sh.want("folder:UnreadCount", true, true) {
			e.CreateElement("t:UnreadCount").SetText(itoa(f.UnreadCount))
		}
	}
}

// writeExtended appends t:ExtendedProperty elements.
func writeExtended(e *elem, ext []mbx.ExtendedProperty) {
	for _, p := range ext {
		pe := e.CreateElement("t:ExtendedProperty")
		u := pe.CreateElement("t:ExtendedFieldURI")
		for _, a := range [...]struct{ k, v string }{
			{"DistinguishedPropertySetId", p.URI.DistinguishedPropertySetID}, {"PropertySetId", p.URI.PropertySetID},
			{"PropertyTag", p.URI.PropertyTag}, {"PropertyName", p.URI.PropertyName}, {"PropertyId", p.URI.PropertyID},
		} {
			if a.v != "" {
				u.CreateAttr(a.k, a.v)
			}
		}
		u.CreateAttr("PropertyType", string(p.URI.Type))
		if p.URI.Type.IsArray() {
			vs := pe.CreateElement("t:Values")
			for _, v := range p.Values {
				vs.CreateElement("t:Value").SetText(v)
			}
		} else if len(p.Values) > 0 {
			pe.CreateElement("t:Value").SetText(p.Values[0])
		}
	}
}

// rawXML serialises a request element for [mbx.RawProperty]: the types
// namespace bound to t, so it can be parsed again on its own.
func rawXML(n *node) string {
	var buf bytes.Buffer
	e := nodeElem(n)
	e.attrs = append([]attr{{"xmlns:t", nsTypes}}, e.attrs...)
	e.write(&buf)
	return buf.String()
}

// nodeElem copies a request element into a response element.
func nodeElem(n *node) *elem {
	e := &elem{tag: "t:" + n.name.Local, text: n.text}
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local != "xmlns" {
			e.attrs = append(e.attrs, attr{a.Name.Local, a.Value})
		}
	}
	for _, k := range n.kids {
		e.kids = append(e.kids, nodeElem(k))
	}
	if len(n.kids) > 0 && strings.TrimSpace(n.text) == "" {
		e.text = ""
	}
	return e
}

// writeRaw appends the stored raw property of that name, if any.
func writeRaw(e *elem, raw []mbx.RawProperty, name string) {
	for _, r := range raw {
		if r.Name != name {
			continue
		}
		if n, xe := parseXML([]byte(r.XML)); xe == nil {
			c := nodeElem(n)
			e.kids = append(e.kids, c)
		}
	}
}

// parseExtProp reads a t:ExtendedProperty.
func parseExtProp(n *node) (mbx.ExtendedProperty, *soapFault) {
	var p mbx.ExtendedProperty
	u := n.child(nsTypes, "ExtendedFieldURI")
	if u == nil {
		return p, schemaFault(n, "The element 'ExtendedProperty' has incomplete content. List of possible elements expected: 'ExtendedFieldURI'.")
	}
	var f *soapFault
	if p.URI, f = parseExtURI(u); f != nil {
		return p, f
	}
	if v := n.child(nsTypes, "Value"); v != nil {
		p.Values = []string{v.text}
	} else if vs := n.child(nsTypes, "Values"); vs != nil {
		for _, v := range vs.kids {
			p.Values = append(p.Values, v.text)
		}
	} else {
		return p, schemaFault(n, "The element 'ExtendedProperty' has incomplete content. List of possible elements expected: 'Value, Values'.")
	}
	return p, nil
}

// folderKinds are the folder elements the fake creates.
var folderKinds = map[string]mbx.FolderKind{
	"Folder": mbx.GenericFolder, "CalendarFolder": mbx.CalendarFolder,
	"ContactsFolder": mbx.ContactsFolder, "TasksFolder": mbx.TasksFolder,
}

// parseFolder reads a folder element of CreateFolder or UpdateFolder. A
// read-only or unknown property is a response error naming it.
func parseFolder(n *node) (mbx.NewFolder, *responseMessage, *soapFault) {
	var nf mbx.NewFolder
	kind, ok := folderKinds[n.name.Local]
	if n.name.Space != nsTypes || (!ok && n.name.Local != "SearchFolder") {
		return nf, nil, schemaFault(n, "The element '"+n.name.Local+"' is not a folder.")
	}
	if !ok {
		return nf, &responseMessage{code: ews.ErrorInvalidOperation, text: "scctest does not model search folders."}, nil
	}
	nf.Kind = kind
	for _, c := range n.kids {
		switch l := c.name.Local; {
		case c.name.Space != nsTypes:
			return nf, nil, schemaFault(c, "The element '"+l+"' is not a folder property.")
		case l == "DisplayName":
			nf.DisplayName = c.text
		case l == "FolderClass":
			nf.Class = c.trimmed()
		case l == "ExtendedProperty":
			p, f := parseExtProp(c)
			if f != nil {
				return nf, nil, f
			}
			nf.Extended = append(nf.Extended, p)
		case folderReadOnly[l] != "":
			return nf, &responseMessage{code: ews.ErrorInvalidPropertySet, text: "The property " + folderReadOnly[l] + " is read-only and cannot be set.", values: []nameValue{{"FieldURI", folderReadOnly[l]}}}, nil
		default:
			kept := false
			for _, r := range folderRaw {
				kept = kept || r.elem == l
			}
			if !kept {
				return nf, &responseMessage{code: ews.ErrorInvalidPropertySet, text: "scctest does not store the folder property " + l + "."}, nil
			}
			nf.Raw = append(nf.Raw, mbx.RawProperty{Name: rawName(l), XML: rawXML(c)})
		}
	}
	return nf, nil, nil
}

// oneFolder resolves the single folder id inside m:<name>.
func (x *exchange) oneFolder(name string) (target, ews.ResponseCode, *soapFault) {
	c := x.body.child(nsMessages, name)
	if c == nil || len(c.kids) != 1 {
		return target{}, "", schemaFault(x.body, "The element '"+x.op+"' has incomplete content. List of possible elements expected: '"+name+"'.")
	}
	return x.resolveFolder(c.kids[0])
}

// folderIDReply is the payload of a folder write: the folder element with
// its id and new change key.
func folderIDReply(fo mbx.Folder) func(*elem) {
	return func(m *elem) {
		fe := m.CreateElement("m:Folders").CreateElement("t:" + fo.Kind.String())
		id := fe.CreateElement("t:FolderId")
		id.CreateAttr("Id", fo.ID)
		id.CreateAttr("ChangeKey", fo.ChangeKey)
	}
}

// createFolder implements CreateFolder.
func (x *exchange) createFolder() (*opResponse, *soapFault) {
	parent, code, f := x.oneFolder("ParentFolderId")
	if f != nil {
		return nil, f
	}
	folders, f := x.folderList(x.body, "Folders")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, n := range folders {
		nf, rm, f := parseFolder(n)
		if f != nil {
			return nil, f
		}
		switch {
		case code != "":
			resp.messages = append(resp.messages, failure(code))
			continue
		case rm != nil:
			resp.messages = append(resp.messages, *rm)
			continue
		}
		fo, err := x.box(parent).CreateFolder(parent.ref, nf)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		resp.messages = append(resp.messages, success(folderIDReply(fo)))
	}
	return resp, nil
}

// updateFolder implements UpdateFolder: SetFolderField, AppendToFolderField
// and DeleteFolderField of DisplayName, FolderClass and extended
// properties; the model refuses the others naming them.
func (x *exchange) updateFolder() (*opResponse, *soapFault) {
	changes, f := x.folderList(x.body, "FolderChanges")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, ch := range changes {
		if !ch.is(nsTypes, "FolderChange") || len(ch.kids) != 2 {
			return nil, schemaFault(ch, "The element 'FolderChange' must hold a folder id and Updates.")
		}
		t, code, f := x.resolveFolder(ch.kids[0])
		if f != nil {
			return nil, f
		}
		ups, rm, f := parseFolderUpdates(ch.child(nsTypes, "Updates"))
		if f != nil {
			return nil, f
		}
		switch {
		case code != "":
			resp.messages = append(resp.messages, failure(code))
			continue
		case rm != nil:
			resp.messages = append(resp.messages, *rm)
			continue
		}
		fo, err := x.box(t).UpdateFolder(t.ref, ch.kids[0].attrOr("ChangeKey", ""), ups)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		resp.messages = append(resp.messages, success(folderIDReply(fo)))
	}
	return resp, nil
}

// parseFolderUpdates reads t:Updates of a FolderChange.
func parseFolderUpdates(n *node) ([]mbx.FolderUpdate, *responseMessage, *soapFault) {
	if n == nil || len(n.kids) == 0 {
		return nil, nil, schemaFault(n, "The element 'FolderChange' has incomplete content. List of possible elements expected: 'Updates'.")
	}
	var ups []mbx.FolderUpdate
	for _, u := range n.kids {
		var op mbx.UpdateOp
		switch u.name.Local {
		case "SetFolderField":
			op = mbx.SetField
		case "AppendToFolderField":
			op = mbx.AppendField
		case "DeleteFolderField":
			op = mbx.DeleteField
		default:
			return nil, nil, schemaFault(u, "The element '"+u.name.Local+"' is not a folder update.")
		}
		if len(u.kids) == 0 {
			return nil, nil, schemaFault(u, "The element '"+u.name.Local+"' has incomplete content.")
		}
		p, f := parsePath(u.kids[0])
		if f != nil {
			return nil, nil, f
		}
		fu := mbx.FolderUpdate{Op: op, Path: p}
		if op != mbx.DeleteField {
			if len(u.kids) != 2 {
				return nil, nil, schemaFault(u, "The element '"+u.name.Local+"' has incomplete content. List of possible elements expected: 'Folder'.")
			}
			nf, rm, f := parseFolder(u.kids[1])
			if f != nil || rm != nil {
				return nil, rm, f
			}
			fu.Value = mbx.Folder{Kind: nf.Kind, Class: nf.Class, DisplayName: nf.DisplayName, Extended: nf.Extended, Raw: nf.Raw}
		}
		ups = append(ups, fu)
	}
	return ups, nil, nil
}

// moveFolder implements MoveFolder and CopyFolder.
func (x *exchange) moveFolder() (*opResponse, *soapFault) {
	to, toCode, f := x.oneFolder("ToFolderId")
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
		if code == "" {
			code = toCode
		}
		if code == "" && t.mb != to.mb {
			code = ews.ErrorCrossMailboxMoveCopy
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		toID, err := x.box(to).FolderID(to.ref)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		var fo mbx.Folder
		if x.op == "CopyFolder" {
			fo, err = x.box(t).CopyFolder(t.ref, toID)
		} else {
			fo, err = x.box(t).MoveFolder(t.ref, toID)
		}
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		resp.messages = append(resp.messages, success(folderIDReply(fo)))
	}
	return resp, nil
}

// deleteFolder implements DeleteFolder.
func (x *exchange) deleteFolder() (*opResponse, *soapFault) {
	how, f := x.deleteType()
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
		if err := x.box(t).DeleteFolder(t.ref, how); err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		resp.messages = append(resp.messages, success(nil))
	}
	return resp, nil
}

// deleteType reads the DeleteType attribute of DeleteItem / DeleteFolder.
func (x *exchange) deleteType() (mbx.DeleteType, *soapFault) {
	dt, ok := x.body.attr("DeleteType")
	if !ok {
		return 0, schemaFault(x.body, "The required attribute 'DeleteType' is missing.")
	}
	switch dt {
	case "HardDelete":
		return mbx.HardDelete, nil
	case "SoftDelete":
		return mbx.SoftDelete, nil
	case "MoveToDeletedItems":
		return mbx.MoveToDeletedItems, nil
	}
	return 0, schemaFault(x.body, "The 'DeleteType' attribute is invalid - The value '"+dt+"' is invalid according to its datatype 'DisposalType'.")
}
