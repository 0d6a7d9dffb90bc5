package scctest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// SyncFolderItems and SyncFolderHierarchy, answered from the mailbox
// model's change log ([mbx.Mailbox.ItemChanges], [mbx.Mailbox.FolderChanges]).
//
// A sync state is base64 of: version byte, operation byte ('I' items,
// 'H' hierarchy), the mailbox key and the synced folder's id (each with a
// uvarint length), the change-log sequence (uvarint), then the first 16
// bytes of HMAC-SHA256 over all of that with the server's random syncKey.
// A state that does not decode, fails the MAC, names another mailbox,
// folder or operation, or lies ahead of the mailbox's log is
// ErrorInvalidSyncStateData.

const (
	syncStateVersion = 1
	syncMACLen       = 16
	// maxSyncHierarchyPage is how many folder changes one
	// SyncFolderHierarchy page holds (the request has no limit).
	maxSyncHierarchyPage = 512
)

// syncState is a decoded sync state.
type syncState struct {
	op       byte
	mailbox  string
	folderID string
	seq      uint64
}

func (s *Server) encodeSyncState(st syncState) string {
	b := []byte{syncStateVersion, st.op}
	b = binary.AppendUvarint(b, uint64(len(st.mailbox)))
	b = append(b, st.mailbox...)
	b = binary.AppendUvarint(b, uint64(len(st.folderID)))
	b = append(b, st.folderID...)
	b = binary.AppendUvarint(b, st.seq)
	m := hmac.New(sha256.New, s.syncKey[:])
	m.Write(b)
	b = m.Sum(b)[:len(b)+syncMACLen]
	return base64.StdEncoding.EncodeToString(b)
}

var errSyncState = errors.New("invalid sync state")

func (s *Server) decodeSyncState(text string) (syncState, error) {
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(b) < 2+syncMACLen {
		return syncState{}, errSyncState
	}
	body, mac := b[:len(b)-syncMACLen], b[len(b)-syncMACLen:]
	m := hmac.New(sha256.New, s.syncKey[:])
	m.Write(body)
	if !hmac.Equal(m.Sum(nil)[:syncMACLen], mac) || body[0] != syncStateVersion {
		return syncState{}, errSyncState
	}
	st := syncState{op: body[1]}
	rest := body[2:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return "", false
		}
		v := string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
		return v, true
	}
	var ok1, ok2 bool
	st.mailbox, ok1 = str()
	st.folderID, ok2 = str()
	seq, k := binary.Uvarint(rest)
	if !ok1 || !ok2 || k <= 0 || k != len(rest) {
		return syncState{}, errSyncState
	}
	st.seq = seq
	return st, nil
}

// syncFolder implements SyncFolderItems and SyncFolderHierarchy.
func (x *exchange) syncFolder() (*opResponse, *soapFault) {
	items := x.op == "SyncFolderItems"
	shapeName, op, last := "FolderShape", byte('H'), "m:IncludesLastFolderInRange"
	if items {
		shapeName, op, last = "ItemShape", 'I', "m:IncludesLastItemInRange"
	}
	sh, f := parseShape(x.body, shapeName)
	if f != nil {
		return nil, f
	}
	// Schema checks first, as Exchange validates the request before it
	// looks at the mailbox.
	maxChanges := maxSyncHierarchyPage
	var ignore []string
	if items {
		mc := x.body.child(nsMessages, "MaxChangesReturned")
		if mc == nil {
			return nil, schemaFault(x.body, "The element 'SyncFolderItems' has incomplete content. List of possible elements expected: 'MaxChangesReturned'.")
		}
		n, err := strconv.Atoi(mc.trimmed())
		if err != nil || n < 1 || n > ews.MaxSyncChanges {
			return nil, schemaFault(mc, "The 'http://schemas.microsoft.com/exchange/services/2006/messages:MaxChangesReturned' element is invalid - The value '"+mc.trimmed()+"' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:MaxSyncChangesReturnedType' - The MinInclusive or MaxInclusive constraint failed.")
		}
		maxChanges = n
		if sc := x.body.child(nsMessages, "SyncScope"); sc != nil {
			switch sc.trimmed() {
			case "NormalItems":
			case "NormalAndAssociatedItems":
				// The model's item sync does not report associated items
				// (user configurations); refusing beats a Success without
				// them.
				return &opResponse{op: x.op, messages: []responseMessage{{
					code: ews.ErrorInvalidRequest, text: "scctest does not support SyncScope NormalAndAssociatedItems.",
					values: []nameValue{{"SyncScope", "NormalAndAssociatedItems"}},
					payload: func(m *elem) {
						m.CreateElement("m:SyncState")
						m.CreateElement(last).SetText("true")
					},
				}}}, nil
			default:
				return nil, schemaFault(sc, "The 'http://schemas.microsoft.com/exchange/services/2006/messages:SyncScope' element is invalid - The value '"+sc.trimmed()+"' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:SyncFolderItemsScopeType' - The Enumeration constraint failed.")
			}
		}
		if ig := x.body.child(nsMessages, "Ignore"); ig != nil {
			for _, k := range ig.kids {
				if !k.is(nsTypes, "ItemId") {
					return nil, schemaFault(k, "The element 'Ignore' has invalid child element '"+k.name.Local+"'. List of possible elements expected: 'ItemId'.")
				}
				id, ok := k.attr("Id")
				if !ok {
					return nil, schemaFault(k, "The required attribute 'Id' is missing.")
				}
				ignore = append(ignore, id)
			}
		}
	}
	resp := &opResponse{op: x.op}
	fail := func(code ews.ResponseCode, text string) (*opResponse, *soapFault) {
		resp.messages = append(resp.messages, responseMessage{code: code, text: text, payload: func(m *elem) {
			m.CreateElement("m:SyncState")
			m.CreateElement(last).SetText("true")
		}})
		return resp, nil
	}
	var t target
	if sf := x.body.child(nsMessages, "SyncFolderId"); sf != nil {
		if len(sf.kids) != 1 {
			return nil, schemaFault(sf, "The element 'SyncFolderId' has incomplete content. List of possible elements expected: 'FolderId, DistinguishedFolderId'.")
		}
		var code ews.ResponseCode
		if t, code, f = x.resolveFolder(sf.kids[0]); f != nil {
			return nil, f
		}
		if code != "" {
			return fail(code, "")
		}
	} else if items {
		return nil, schemaFault(x.body, "The element 'SyncFolderItems' has incomplete content. List of possible elements expected: 'SyncFolderId'.")
	} else {
		if x.acting == nil {
			return fail(ews.ErrorMissingEmailAddress, "")
		}
		t = target{x.acting, "root"}
	}
	box := x.box(t)
	fo, err := box.GetFolder(t.ref)
	if err != nil {
		if items && errors.Is(err, mbx.ErrFolderNotFound) {
			return fail(ews.ErrorSyncFolderNotFound, "")
		}
		rm := modelFailure(err)
		return fail(rm.code, rm.text)
	}
	if items {
		if bad := checkItemShape(sh, true); bad != nil {
			return fail(bad.code, bad.text)
		}
	}
	var since uint64
	initial := true
	if ss := x.body.child(nsMessages, "SyncState"); ss != nil && ss.trimmed() != "" {
		st, err := x.s.decodeSyncState(ss.trimmed())
		if err != nil || st.op != op || st.mailbox != box.Key() || st.folderID != fo.ID || st.seq > box.Seq() {
			return fail(ews.ErrorInvalidSyncStateData, "Synchronization state data is corrupt or otherwise invalid.")
		}
		since, initial = st.seq, false
	}
	state := syncState{op: op, mailbox: box.Key(), folderID: fo.ID}
	if items {
		changes, next, more, err := box.ItemChanges(fo.ID, since, maxChanges)
		if err != nil {
			rm := modelFailure(err)
			return fail(rm.code, rm.text)
		}
		state.seq = next
		skip := make(map[string]bool, len(ignore))
		for _, id := range ignore {
			skip[id] = true
		}
		enc := x.s.encodeSyncState(state)
		resp.messages = append(resp.messages, success(func(m *elem) {
			m.CreateElement("m:SyncState").SetText(enc)
			m.CreateElement(last).SetText(boolStr(!more))
			ch := m.CreateElement("m:Changes")
			for _, c := range changes {
				if skip[c.ID] {
					continue
				}
				e := ch.CreateElement("t:" + c.Type.String())
				switch c.Type {
				case mbx.SyncCreate, mbx.SyncUpdate:
					x.writeItem(e, t.mb, *c.Item, sh, inFindItem)
				case mbx.SyncDelete:
					e.CreateElement("t:ItemId").CreateAttr("Id", c.ID)
				case mbx.SyncReadFlagChange:
					e.CreateElement("t:ItemId").CreateAttr("Id", c.ID)
					e.CreateElement("t:IsRead").SetText(boolStr(c.IsRead))
				}
			}
		}))
		return resp, nil
	}
	var changes []mbx.FolderChange
	var next uint64
	var more bool
	if initial {
		// The first sync reports the tree as it is, in one page: the
		// standard folders predate the change log.
		all, err := box.FindFolders(fo.ID, mbx.Deep)
		if err != nil {
			rm := modelFailure(err)
			return fail(rm.code, rm.text)
		}
		for i := range all {
			changes = append(changes, mbx.FolderChange{Type: mbx.SyncCreate, ID: all[i].ID, Folder: &all[i]})
		}
		next = box.Seq()
	} else if changes, next, more, err = box.FolderChanges(fo.ID, since, maxChanges); err != nil {
		rm := modelFailure(err)
		return fail(rm.code, rm.text)
	}
	writers := make([]func(*elem), len(changes))
	for i, c := range changes {
		if c.Type == mbx.SyncDelete {
			continue
		}
		w, rm := x.folderWriter(t, *c.Folder, sh)
		if rm != nil {
			return fail(rm.code, rm.text)
		}
		writers[i] = w
	}
	state.seq = next
	enc := x.s.encodeSyncState(state)
	resp.messages = append(resp.messages, success(func(m *elem) {
		m.CreateElement("m:SyncState").SetText(enc)
		m.CreateElement(last).SetText(boolStr(!more))
		ch := m.CreateElement("m:Changes")
		for i, c := range changes {
			e := ch.CreateElement("t:" + c.Type.String())
			if c.Type == mbx.SyncDelete {
				e.CreateElement("t:FolderId").CreateAttr("Id", c.ID)
				continue
			}
			writers[i](e)
		}
	}))
	return resp, nil
}
