package scctest

import (
	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// UpdateItem, MoveItem and CopyItem, answered by the mailbox model.

// updateItem implements UpdateItem: SetItemField, AppendToItemField and
// DeleteItemField under a ConflictResolution, with the item's ChangeKey.
func (x *exchange) updateItem() (*opResponse, *soapFault) {
	crs, ok := x.body.attr("ConflictResolution")
	if !ok {
		return nil, schemaFault(x.body, "The required attribute 'ConflictResolution' is missing.")
	}
	cr, ok := map[string]mbx.ConflictResolution{"AutoResolve": mbx.AutoResolve, "NeverOverwrite": mbx.NeverOverwrite, "AlwaysOverwrite": mbx.AlwaysOverwrite}[crs]
	if !ok {
		return nil, schemaFault(x.body, "The 'ConflictResolution' attribute is invalid - The value '"+crs+"' is invalid according to its datatype 'ConflictResolutionType'.")
	}
	disp := x.body.attrOr("MessageDisposition", "SaveOnly")
	switch disp {
	case "SaveOnly", "SendOnly", "SendAndSaveCopy":
	default:
		return nil, schemaFault(x.body, "The 'MessageDisposition' attribute is invalid - The value '"+disp+"' is invalid according to its datatype 'MessageDispositionType'.")
	}
	changes, f := x.folderList(x.body, "ItemChanges")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, ch := range changes {
		if !ch.is(nsTypes, "ItemChange") || len(ch.kids) != 2 {
			return nil, schemaFault(ch, "The element 'ItemChange' must hold an item id and Updates.")
		}
		ref, code, f := x.resolveItemRef(ch.kids[0])
		if f != nil {
			return nil, f
		}
		mb, iid := ref.mb, ref.id
		ups, rm, f := parseItemUpdates(ch.child(nsTypes, "Updates"))
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
		case disp != "SaveOnly":
			resp.messages = append(resp.messages, responseMessage{code: ews.ErrorInvalidOperation, text: "scctest does not send items from UpdateItem (MessageDisposition " + disp + "); update with SaveOnly and send with CreateItem."})
			continue
		}
		if ref.occ {
			o, err := x.s.box(mb).UpdateOccurrence(iid, ref.changeKey, cr, ups)
			if err != nil {
				resp.messages = append(resp.messages, modelFailure(err))
				continue
			}
			it := o.Item
			it.ID = o.ID
			resp.messages = append(resp.messages, success(func(m *elem) {
				x.writeItemAs(m.CreateElement("m:Items"), mb, it, shape{base: "IdOnly"}, inGetItem, o.Type)
				m.CreateElement("m:ConflictResults").CreateElement("t:Count").SetText("0")
			}))
			continue
		}
		res, err := x.s.box(mb).UpdateItem(iid, ref.changeKey, cr, ups)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			x.writeItem(m.CreateElement("m:Items"), mb, res.Item, shape{base: "IdOnly"}, inGetItem)
			m.CreateElement("m:ConflictResults").CreateElement("t:Count").SetText(itoa(res.Conflicts))
		}))
	}
	return resp, nil
}

// parseItemUpdates reads t:Updates of an ItemChange.
func parseItemUpdates(n *node) ([]mbx.Update, *responseMessage, *soapFault) {
	if n == nil || len(n.kids) == 0 {
		return nil, nil, schemaFault(n, "The element 'ItemChange' has incomplete content. List of possible elements expected: 'Updates'.")
	}
	var ups []mbx.Update
	for _, u := range n.kids {
		op, ok := map[string]mbx.UpdateOp{"SetItemField": mbx.SetField, "AppendToItemField": mbx.AppendField, "DeleteItemField": mbx.DeleteField}[u.name.Local]
		if !ok || u.name.Space != nsTypes || len(u.kids) == 0 {
			return nil, nil, schemaFault(u, "The element '"+u.name.Local+"' is not an item update.")
		}
		p, f := parsePath(u.kids[0])
		if f != nil {
			return nil, nil, f
		}
		up := mbx.Update{Op: op, Path: p, Verbatim: verbatimElem(p)}
		if op != mbx.DeleteField {
			if len(u.kids) != 2 {
				return nil, nil, schemaFault(u, "The element '"+u.name.Local+"' has incomplete content. List of possible elements expected: 'Item, Message, CalendarItem, Contact, Task'.")
			}
			it, rm, f := parseItem(u.kids[1])
			if f != nil || rm != nil {
				return nil, rm, f
			}
			up.Value = it
		}
		ups = append(ups, up)
	}
	return ups, nil, nil
}

// moveItem implements MoveItem and CopyItem: the item (or its copy) gets a
// new id, which the answer carries.
func (x *exchange) moveItem() (*opResponse, *soapFault) {
	to, toCode, f := x.oneFolder("ToFolderId")
	if f != nil {
		return nil, f
	}
	ids, f := x.folderList(x.body, "ItemIds")
	if f != nil {
		return nil, f
	}
	resp := &opResponse{op: x.op}
	for _, id := range ids {
		mb, iid, code, f := x.resolveItem(id)
		if f != nil {
			return nil, f
		}
		if code == "" {
			code = toCode
		}
		if code == "" && mb != to.mb {
			code = ews.ErrorCrossMailboxMoveCopy
		}
		if code != "" {
			resp.messages = append(resp.messages, failure(code))
			continue
		}
		b := x.s.box(mb)
		toID, err := b.FolderID(to.ref)
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		var it mbx.Item
		if x.op == "CopyItem" {
			it, err = b.CopyItem(iid, toID)
		} else {
			it, err = b.MoveItem(iid, toID)
		}
		if err != nil {
			resp.messages = append(resp.messages, modelFailure(err))
			continue
		}
		resp.messages = append(resp.messages, success(func(m *elem) {
			x.writeItem(m.CreateElement("m:Items"), mb, it, shape{base: "IdOnly"}, inGetItem)
		}))
	}
	return resp, nil
}

// verbatimElem is the RawProperty name of the element a FieldURI names
// when the fake keeps that element verbatim (calendar:StartTimeZone, for
// one: a schema-valid property it does not model), "" otherwise.
func verbatimElem(p mbx.Path) string {
	if p.Ext != nil || p.Index != "" {
		return ""
	}
	slot, ok := slotOf(p.Field)
	if !ok || computedElems[slot.name] || readOnlyElems[slot.name] || slot.name == "ExtendedProperty" {
		return ""
	}
	kind, _ := mbx.FieldKind(p.Field) // an item: property is every kind's
	if p := propFor(kind, slot.name); p != nil && !p.raw {
		return ""
	}
	return rawName(slot.name)
}
