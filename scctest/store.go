package scctest

import (
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sccsync/scc/ews"
	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// mailbox is a directory entry. Its folders, items and change log live in
// the mailbox model (package internal/mailbox), which every read and write
// of EWS state goes through; the model's mailbox is made on first use, so
// a directory of 100,000 mailboxes that a check only reads stays cheap.
type mailbox struct {
	idx    uint32
	info   Mailbox
	ewsOff bool
	model  atomic.Pointer[mbx.Mailbox]
}

// box returns the model of mb, creating it on first use.
func (s *Server) box(mb *mailbox) *mbx.Mailbox {
	if b := mb.model.Load(); b != nil {
		return b
	}
	b := s.store.Mailbox(addrKey(mb.info.PrimarySMTP))
	mb.model.Store(b)
	return b
}

// owner returns the directory entry of a model mailbox. Callers hold mu.
func (s *Server) owner(b *mbx.Mailbox) *mailbox { return s.dir.lookupAddr(b.Key()) }

// addresses returns every SMTP address of the mailbox, primary first.
func (m *mailbox) addresses() []string {
	return append([]string{m.info.PrimarySMTP}, m.info.ProxyAddresses...)
}

// modelFailure turns an error of the mailbox model into the response
// message Exchange answers with: the one place model errors become EWS
// response codes. The message text is Exchange's, followed by what was
// wrong in this call; anything that is not a model error is an internal
// error.
func modelFailure(err error) responseMessage {
	var me *mbx.Error
	if !errors.As(err, &me) {
		return responseMessage{code: ews.ErrorInternalServerError, text: "scctest: " + err.Error()}
	}
	text := me.Text
	if me.Detail != "" {
		text += " (" + me.Detail + ")"
	}
	return responseMessage{code: ews.ResponseCode(me.Code), text: text}
}

// ewsTime formats a time as Exchange does (UTC, seconds, Z).
func ewsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// newMessageID returns an Internet Message-ID for a message created
// through EWS or the seeding API.
func (s *Server) newMessageID() string {
	return "<" + strconv.FormatUint(s.msgIDs.Add(1), 10) + "." + strconv.FormatUint(s.cfg.seed, 16) + "@scctest.invalid>"
}
