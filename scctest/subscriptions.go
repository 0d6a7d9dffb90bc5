package scctest

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	mbx "github.com/sccsync/scc/scctest/internal/mailbox"
)

// DefaultSubscriptionLimit is the number of subscriptions a mailbox may
// have at once (Exchange Online's EWSMaxSubscriptions budget is 20).
const DefaultSubscriptionLimit = 20

// maxEventsPerNotification is how many events one GetEvents answer holds
// at most; MoreEvents tells the client to ask again.
const maxEventsPerNotification = 50

// WithSubscriptionLimit sets how many subscriptions (pull and streaming)
// may watch one mailbox at once; one more is ErrorExceededSubscriptionCount.
// The count is charged to the mailbox the subscription watches, as with
// impersonation on Exchange. Default [DefaultSubscriptionLimit].
func WithSubscriptionLimit(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("scctest: subscription limit %d is not positive", n)
		}
		c.maxSubs = n
		return nil
	}
}

// subKind is pull, streaming or push.
type subKind uint8

const (
	subPull subKind = iota + 1
	subStreaming
	subPush
)

// subscription is the state of one notification subscription. Its events
// are read from the watched mailbox's change log (the model's
// ChangesSince), so every write (through EWS or the seeding API) reaches
// it and nothing is lost between calls.
type subscription struct {
	id        string
	kind      subKind
	owner     string // principal key of the creator
	mb        *mailbox
	box       *mbx.Mailbox
	all       bool
	folders   map[string]bool // folder ids watched (all false)
	types     map[string]bool // event element names (CreatedEvent, ...)
	seq       uint64          // watermark: last change delivered
	timeout   time.Duration   // pull: lifetime without GetEvents
	lastCall  time.Time
	backend   int      // index of the backend it lives on, see affinity.go
	push      *pushSub // push delivery (push.go); nil for pull and streaming
	subLimits          // connection, lost events (limits.go)
}

// subscriptions is a server's subscription table. Guarded by Server.mu.
type subscriptions struct {
	next  uint64
	byID  map[string]*subscription
	count map[*mailbox]int
	// minute is the unit of ConnectionTimeout (time.Minute when zero;
	// tests of this package shorten it).
	minute     time.Duration
	limitTable // per-mailbox index, open streams (limits.go)
}

func (t *subscriptions) init() {
	if t.byID == nil {
		t.byID = map[string]*subscription{}
		t.count = map[*mailbox]int{}
	}
}

// opaqueToken encodes a version byte, two numbers and a CRC as base64, the
// opaque form of subscription ids and watermarks.
func opaqueToken(tag byte, a uint32, b uint64) string {
	buf := make([]byte, 0, 17)
	buf = append(buf, tag)
	buf = binary.BigEndian.AppendUint32(buf, a)
	buf = binary.BigEndian.AppendUint64(buf, b)
	buf = binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	return base64.StdEncoding.EncodeToString(buf)
}

// parseToken decodes a token; ok is false for anything malformed.
func parseToken(tag byte, s string) (a uint32, b uint64, ok bool) {
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(buf) != 17 || buf[0] != tag {
		return 0, 0, false
	}
	if crc32.ChecksumIEEE(buf[:13]) != binary.BigEndian.Uint32(buf[13:]) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(buf[1:5]), binary.BigEndian.Uint64(buf[5:13]), true
}

const (
	tagSubscription = 0x53
	tagWatermark    = 0x57
)

func watermark(mb *mailbox, seq uint64) string { return opaqueToken(tagWatermark, mb.idx, seq) }

// eventName is the notification element of a change.
func eventName(c mbx.ChangeType) string {
	switch c {
	case mbx.ChangeReadFlag:
		return "ModifiedEvent"
	case mbx.ChangeFreeBusy:
		return "FreeBusyChangedEvent"
	}
	return c.String() + "Event"
}

// matches reports whether the subscription reports a change.
func (sub *subscription) matches(c mbx.Change) bool {
	if c.Associated || !sub.types[eventName(c.Type)] {
		return false
	}
	if sub.all {
		return true
	}
	return sub.folders[c.ParentID] || (c.OldParentID != "" && sub.folders[c.OldParentID])
}

// pending returns up to max matching changes after the watermark, the
// sequence the last one (or the last scanned change) ends at, and whether
// more remain.
func (sub *subscription) pending(from uint64, max int) (out []mbx.Change, end uint64, more bool) {
	end = from
	for {
		batch, bmore := sub.box.ChangesSince(end, 256)
		for _, c := range batch {
			if !sub.matches(c) {
				end = c.Seq
				continue
			}
			if max > 0 && len(out) == max {
				return out, end, true
			}
			out = append(out, c)
			end = c.Seq
		}
		if !bmore {
			return out, end, false
		}
	}
}

// DeliverMail stores a message as delivered mail: like [Server.AddItem],
// and subscriptions also get a NewMailEvent for it (AddItem gives only a
// CreatedEvent).
func (s *Server) DeliverMail(mailboxAddr, folderName string, m Message) (ItemID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.dir.lookupAddr(mailboxAddr)
	if mb == nil {
		return ItemID{}, fmt.Errorf("%w: DeliverMail: mailbox %q", ErrNotFound, mailboxAddr)
	}
	it, err := s.box(mb).Deliver(folderName, s.modelMessage(m))
	if err != nil {
		return ItemID{}, seedErr("DeliverMail", folderName, err)
	}
	return ItemID{ID: it.ID, ChangeKey: it.ChangeKey}, nil
}
