package mailbox

import (
	"slices"
	"time"
)

// Occurrences addressed one by one: t:OccurrenceItemId (master and
// instance index), t:RecurringMasterItemId (the master of an occurrence),
// and the exceptions and deletions that UpdateItem and DeleteItem on an
// occurrence make.

// OccurrenceID is the id of instance index (1-based) of the recurring
// master masterID, as t:OccurrenceItemId names it. An item that is not a
// recurring master fails with [ErrNotRecurringMasterID], an index outside
// the series with [ErrOccurrenceIndexOutOfRange], a deleted occurrence
// with [ErrOccurrenceDeleted].
func (m *Mailbox) OccurrenceID(masterID string, index int) (string, error) {
	m.rlock()
	defer m.mu.RUnlock()
	it, err := m.itemLocked(masterID)
	if err != nil {
		return "", err
	}
	c := it.data.Calendar
	if c == nil || c.Recurrence == nil {
		return "", errf(ErrNotRecurringMasterID, "item %q is not a recurring master", short(masterID))
	}
	if index < 1 || index > maxSteps {
		return "", errf(ErrOccurrenceIndexOutOfRange, "index %d", index)
	}
	os, ok := c.Recurrence.nth(c.Start, index)
	if !ok {
		return "", errf(ErrOccurrenceIndexOutOfRange, "the series has no occurrence %d", index)
	}
	if isDeleted(c, os) {
		return "", errf(ErrOccurrenceDeleted, "occurrence %d", index)
	}
	return occurrenceID(m.idx, it.num, index), nil
}

// MasterID is the id of the recurring master of an occurrence or
// exception id (t:RecurringMasterItemId). An id that is not an
// occurrence's fails with [ErrNotOccurrenceID].
func (m *Mailbox) MasterID(occurrenceID string) (string, error) {
	info, err := DecodeID(occurrenceID)
	if err != nil {
		return "", errf(ErrInvalidIDMalformed, "id %q", short(occurrenceID))
	}
	if info.Kind != KindOccurrenceID {
		return "", errf(ErrNotOccurrenceID, "id %q", short(occurrenceID))
	}
	if _, err := m.decode(occurrenceID, KindOccurrenceID); err != nil {
		return "", err
	}
	m.rlock()
	defer m.mu.RUnlock()
	it := m.items[info.Num]
	if it == nil || it.data.Calendar == nil || it.data.Calendar.Recurrence == nil {
		return "", errf(ErrItemNotFound, "occurrence %q", short(occurrenceID))
	}
	return m.id(KindItemID, it.num), nil
}

func isDeleted(c *CalendarFields, os time.Time) bool {
	for _, d := range c.DeletedOccurrences {
		if d.Equal(os) {
			return true
		}
	}
	return false
}

// occurrenceLocked resolves an occurrence id to its master and original
// start.
func (m *Mailbox) occurrenceLocked(id string) (*item, time.Time, error) {
	info, err := m.decode(id, KindOccurrenceID)
	if err != nil {
		return nil, time.Time{}, err
	}
	it := m.items[info.Num]
	if it == nil || it.data.Calendar == nil || it.data.Calendar.Recurrence == nil || info.Sub == 0 || info.Sub > maxSteps {
		return nil, time.Time{}, errf(ErrItemNotFound, "occurrence %q", short(id))
	}
	c := it.data.Calendar
	os, ok := c.Recurrence.nth(c.Start, int(info.Sub))
	if !ok {
		return nil, time.Time{}, errf(ErrOccurrenceIndexOutOfRange, "the series has no occurrence %d", info.Sub)
	}
	if isDeleted(c, os) {
		return nil, time.Time{}, errf(ErrOccurrenceDeleted, "occurrence %d", info.Sub)
	}
	return it, os, nil
}

// seriesFields are the properties of the series, not of one occurrence:
// an UpdateItem of an occurrence cannot set them.
var seriesFields = map[string]bool{"calendar:Recurrence": true, "calendar:FirstOccurrence": true, "calendar:LastOccurrence": true,
	"calendar:ModifiedOccurrences": true, "calendar:DeletedOccurrences": true, "calendar:UID": true}

// UpdateOccurrence applies updates to one occurrence, which makes it an
// exception of its series (or changes the exception it is): the master's
// ModifiedOccurrences gets it, CalendarView returns it as Exception. The
// exception keeps the updates and is the master's current properties with
// them applied (see [OccurrenceException.Updates]), so any property
// UpdateItem can set on a calendar item it can set on an occurrence,
// except those of the series (Recurrence, UID, the occurrence lists),
// which fail with [ErrInvalidPropertyRequest] naming them. changeKey is
// the master's (an occurrence carries it); the rules are UpdateItem's.
func (m *Mailbox) UpdateOccurrence(id, changeKey string, cr ConflictResolution, ups []Update) (Occurrence, error) {
	if len(ups) == 0 {
		return Occurrence{}, errf(ErrInvalidRequest, "UpdateItem without updates")
	}
	for _, u := range ups {
		if u.Path.Ext == nil && seriesFields[u.Path.Field] {
			return Occurrence{}, errf(ErrInvalidPropertyRequest, "%s belongs to the series; update it on the recurring master, not on an occurrence", u.Path)
		}
	}
	if changeKey == "" {
		return Occurrence{}, errf(ErrChangeKeyRequired, "occurrence %q", short(id))
	}
	m.lock()
	it, os, err := m.occurrenceLocked(id)
	if err != nil {
		m.mu.Unlock()
		return Occurrence{}, err
	}
	v, err := decodeChangeKey(KindItemID, changeKey)
	if err != nil {
		m.mu.Unlock()
		return Occurrence{}, err
	}
	if v > it.ver || (v < it.ver && cr == NeverOverwrite) {
		m.mu.Unlock()
		return Occurrence{}, errf(ErrIrresolvableConflict, "the series changed since change key %q", short(changeKey))
	}
	c := it.data.Calendar
	dur := c.End.Sub(c.Start)
	x := OccurrenceException{OriginalStart: os, Start: os, End: os.Add(dur)}
	at := -1
	for i, e := range c.ModifiedOccurrences {
		if e.OriginalStart.Equal(os) {
			x, at = e, i
		}
	}
	d := m.exceptionItem(it, it.data, x)
	for _, u := range ups {
		if err := m.applyUpdate(it, &d, u); err != nil {
			m.mu.Unlock()
			return Occurrence{}, err
		}
	}
	if d.Calendar.End.Before(d.Calendar.Start) {
		m.mu.Unlock()
		return Occurrence{}, errf(ErrCalendarEndBeforeStart, "occurrence %s", os.Format(time.RFC3339))
	}
	x.Start, x.End, x.Subject, x.Location = d.Calendar.Start, d.Calendar.End, d.Subject, d.Calendar.Location
	x.Updates = append(slices.Clip(x.Updates), ups...)
	nd := cloneItem(it.data)
	if at >= 0 {
		nd.Calendar.ModifiedOccurrences[at] = x
	} else {
		nd.Calendar.ModifiedOccurrences = append(nd.Calendar.ModifiedOccurrences, x)
	}
	m.commitSeriesLocked(it, nd)
	m.mu.Unlock()
	return m.GetOccurrence(id)
}

// DeleteOccurrence deletes one occurrence of a series: its original start
// joins the master's DeletedOccurrences (an exception there is dropped)
// and CalendarView no longer returns it. Deleting the only occurrence
// left is refused with [ErrInvalidOperation]; Exchange deletes the series
// then, the model asks for DeleteItem on the master.
func (m *Mailbox) DeleteOccurrence(id string) error {
	m.lock()
	defer m.mu.Unlock()
	it, os, err := m.occurrenceLocked(id)
	if err != nil {
		return err
	}
	nd := cloneItem(it.data)
	c := nd.Calendar
	kept := c.ModifiedOccurrences[:0]
	for _, x := range c.ModifiedOccurrences {
		if !x.OriginalStart.Equal(os) {
			kept = append(kept, x)
		}
	}
	c.ModifiedOccurrences = kept
	c.DeletedOccurrences = append(c.DeletedOccurrences, os)
	m.commitSeriesLocked(it, nd)
	return nil
}

// commitSeriesLocked stores a master's changed exceptions or deletions as
// a modification of the master (new ChangeKey, a change in the log).
func (m *Mailbox) commitSeriesLocked(it *item, d Item) {
	d.Modified = m.now()
	it.ver++
	m.replaceData(it, d, computeSize(&d, it.atts))
	m.logItemLocked(entry{typ: ChangeModified, num: it.num, parent: it.folder.num}, it)
}

// exceptionItem is occurrence x of the series of item it, whose
// properties are master: master's with x's times (and a seeded exception's
// subject and location), without the series, and x's updates applied.
// An update that no longer applies (the master changed under it) is
// skipped.
func (m *Mailbox) exceptionItem(it *item, master Item, x OccurrenceException) Item {
	d := cloneItem(master)
	d.ID, d.ChangeKey, d.ParentFolderID, d.Size, d.HasAttachments, d.Attachments = "", "", "", 0, false, nil
	d.Calendar.Start, d.Calendar.End = x.Start, x.End
	d.Calendar.Recurrence, d.Calendar.DeletedOccurrences, d.Calendar.ModifiedOccurrences = nil, nil, nil
	if len(x.Updates) == 0 {
		if x.Subject != "" {
			d.Subject = x.Subject
		}
		if x.Location != "" {
			d.Calendar.Location = x.Location
		}
	}
	for _, u := range x.Updates {
		_ = m.applyUpdate(it, &d, u)
	}
	return d
}
