package scctest

import (
	"strconv"
	"strings"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// The item ids that name one instance of a recurring series in GetItem,
// UpdateItem and DeleteItem: t:ItemId of an occurrence (as CalendarView
// returns them), t:OccurrenceItemId (RecurringMasterId + InstanceIndex)
// and t:RecurringMasterItemId (OccurrenceId).

// itemRef is a resolved item id: an item, or (occ) an occurrence of a
// series.
type itemRef struct {
	mb        *mailbox
	id        string
	changeKey string
	occ       bool
}

// resolveItemRef resolves t:ItemId, t:OccurrenceItemId and
// t:RecurringMasterItemId. A code is a per-item failure, a fault a
// request the schema refuses.
func (x *exchange) resolveItemRef(n *node) (itemRef, ews.ResponseCode, *soapFault) {
	ck := n.attrOr("ChangeKey", "")
	switch {
	case n.is(nsTypes, "ItemId"):
		id, _ := n.attr("Id")
		if info, err := mbx.DecodeID(id); err == nil && info.Kind == mbx.KindOccurrenceID {
			mb, code := x.idMailbox(id)
			return itemRef{mb: mb, id: id, changeKey: ck, occ: true}, code, nil
		}
	case n.is(nsTypes, "OccurrenceItemId"):
		master, ok := n.attr("RecurringMasterId")
		if !ok {
			return itemRef{}, "", schemaFault(n, "The required attribute 'RecurringMasterId' is missing.")
		}
		is, ok := n.attr("InstanceIndex")
		if !ok {
			return itemRef{}, "", schemaFault(n, "The required attribute 'InstanceIndex' is missing.")
		}
		idx, err := strconv.Atoi(strings.TrimSpace(is))
		if err != nil {
			return itemRef{}, "", schemaFault(n, "The 'InstanceIndex' attribute is invalid - The value '"+is+"' is invalid according to its datatype 'http://www.w3.org/2001/XMLSchema:int'.")
		}
		mb, code := x.masterMailbox(master)
		if code != "" {
			return itemRef{}, code, nil
		}
		oid, err := x.s.box(mb).OccurrenceID(master, idx)
		if err != nil {
			return itemRef{}, modelFailure(err).code, nil
		}
		return itemRef{mb: mb, id: oid, changeKey: ck, occ: true}, "", nil
	case n.is(nsTypes, "RecurringMasterItemId"):
		occ, ok := n.attr("OccurrenceId")
		if !ok {
			return itemRef{}, "", schemaFault(n, "The required attribute 'OccurrenceId' is missing.")
		}
		mb, code := x.masterMailbox(occ)
		if code != "" {
			return itemRef{}, code, nil
		}
		mid, err := x.s.box(mb).MasterID(occ)
		if err != nil {
			return itemRef{}, modelFailure(err).code, nil
		}
		return itemRef{mb: mb, id: mid, changeKey: ck}, "", nil
	}
	mb, id, code, f := x.resolveItem(n)
	return itemRef{mb: mb, id: id, changeKey: ck}, code, f
}

// masterMailbox is the mailbox of an id given in an OccurrenceItemId or
// RecurringMasterItemId attribute.
func (x *exchange) masterMailbox(id string) (*mailbox, ews.ResponseCode) {
	if strings.TrimSpace(id) == "" {
		return nil, ews.ErrorInvalidIdEmpty
	}
	info, err := mbx.DecodeID(id)
	if err != nil {
		return nil, ews.ErrorInvalidIdMalformed
	}
	if info.Kind == mbx.KindFolderID {
		return nil, ews.ErrorCannotUseFolderIdForItemId
	}
	return x.idMailbox(id)
}
