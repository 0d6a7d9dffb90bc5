#!/usr/bin/env python3
"""Drive the scctest standalone fake with Debian's python3-exchangelib.

Usage: exchangelib_check.py EWS_URL AUTH SERVICE PASSWORD ALLOWED DENIED

AUTH is "basic" or "ntlm". ALLOWED is a comma-separated list of mailboxes the
service account may impersonate, DENIED one outside its scope. Exits non-zero
with a message on the first failed expectation.
"""
import logging
import os
import sys

import datetime
from decimal import Decimal

from exchangelib import (BASIC, IMPERSONATION, NTLM, UTC, Account,
                         CalendarItem, Configuration, Contact, Credentials,
                         EWSDateTime, ExtendedProperty, Folder, Message, Task)
from exchangelib.errors import (ErrorImpersonateUserDenied,
                                UnauthorizedError)
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter

if os.environ.get("EXCHANGELIB_DEBUG"):
    logging.basicConfig(level=logging.DEBUG)

# The fake serves plain HTTP or a self-signed certificate; exchangelib's
# documented knob for that is the HTTP adapter class.
BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def config(url, auth, user, password):
    # No explicit version: exchangelib guesses it (ConvertId probe).
    return Configuration(
        service_endpoint=url,
        credentials=Credentials(user, password),
        auth_type={"basic": BASIC, "ntlm": NTLM}[auth],
        # FailFast (the default): a 401 raises UnauthorizedError at once
        # instead of being retried as throttling.
    )


class Project(ExtendedProperty):
    property_set_id = "c11ff724-aa03-4555-9952-8fa248a11c3e"
    property_name = "Project"
    property_type = "String"


def model_checks(acc, auth):
    """Four item kinds, updates, moves, copies, restrictions and folders."""
    addr = acc.primary_smtp_address
    for cls in (Message, CalendarItem, Contact, Task):
        cls.register("project", Project)
    try:
        start = EWSDateTime(2026, 12, 3, 10, 0, tzinfo=UTC)
        common = dict(categories=["Red", "Work"], importance="High", sensitivity="Private", project="Apollo")
        made = [
            (acc.drafts, Message(account=acc, folder=acc.drafts, subject="interop message", body="hello", **common)),
            (acc.calendar, CalendarItem(account=acc, folder=acc.calendar, subject="interop meeting", start=start,
                                        end=start + datetime.timedelta(hours=1), location="Room 1", **common)),
            (acc.contacts, Contact(account=acc, folder=acc.contacts, subject="Ann Lee", display_name="Ann Lee", given_name="Ann",
                                   surname="Lee", company_name="Fabrikam", **common)),
            (acc.tasks, Task(account=acc, folder=acc.tasks, subject="interop task", status="InProgress",
                             percent_complete=Decimal(50), **common)),
        ]
        for folder, item in made:
            item.save()
            got = folder.get(id=item.id)
            kind = type(item).__name__
            for field in ("subject", "categories", "importance", "sensitivity", "project"):
                if getattr(got, field) != getattr(item, field):
                    fail(f"{addr}: {kind} {field} = {getattr(got, field)!r}, want {getattr(item, field)!r}")
        extra = {CalendarItem: ("location", "Room 1"), Contact: ("company_name", "Fabrikam"), Task: ("percent_complete", Decimal(50))}
        for folder, item in made[1:]:
            field, want = extra[type(item)]
            if getattr(folder.get(id=item.id), field) != want:
                fail(f"{addr}: {type(item).__name__} {field} != {want!r}")
        # Moving a meeting: exchangelib sends calendar:StartTimeZone and
        # calendar:EndTimeZone with the new start and end.
        meeting = made[1][1]
        meeting.start, meeting.end = start + datetime.timedelta(hours=2), start + datetime.timedelta(hours=3)
        meeting.save(update_fields=["start", "end"])
        got = acc.calendar.get(id=meeting.id)
        if (got.start, got.end) != (meeting.start, meeting.end) or got._start_timezone.ms_id != meeting._start_timezone.ms_id:
            fail(f"{addr}: moved meeting reads back {got.start} - {got.end} in {got._start_timezone!r}, want {meeting.start} - {meeting.end} in {meeting._start_timezone!r}")
        msg = made[0][1]
        # Restrictions: by extended property and by subject.
        if [i.id for i in acc.drafts.filter(project="Apollo")] != [msg.id]:
            fail(f"{addr}: FindItem by extended property did not find exactly the message")
        if acc.drafts.filter(subject__contains="nomatch-xyz").count() != 0:
            fail(f"{addr}: FindItem Contains matched what it should not")
        # Update, move, copy.
        msg.subject = "interop message v2"
        msg.save(update_fields=["subject"])
        if acc.drafts.get(id=msg.id).subject != "interop message v2":
            fail(f"{addr}: UpdateItem did not change the subject")
        msg.move(acc.inbox)
        moved = [i for i in acc.inbox.filter(project="Apollo")]
        if len(moved) != 1 or moved[0].subject != "interop message v2":
            fail(f"{addr}: MoveItem: inbox holds {moved!r}")
        moved[0].copy(acc.drafts)
        if acc.drafts.filter(project="Apollo").count() != 1:
            fail(f"{addr}: CopyItem did not put a copy into drafts")
        for folder, item in made[1:]:
            item.delete()
        for i in list(acc.inbox.filter(project="Apollo")) + list(acc.drafts.filter(project="Apollo")):
            i.delete()
        # Folders: create, rename, move, delete.
        f = Folder(parent=acc.inbox, name="interop folder")
        f.save()
        f.name = "interop renamed"
        f.save(update_fields=["name"])
        if [c.name for c in acc.inbox.children] != ["interop renamed"]:
            fail(f"{addr}: inbox children after rename = {[c.name for c in acc.inbox.children]!r}")
        f.move(acc.drafts)
        if [c.name for c in acc.drafts.children] != ["interop renamed"]:
            fail(f"{addr}: MoveFolder: drafts children = {[c.name for c in acc.drafts.children]!r}")
        f.delete()
        if list(acc.drafts.children):
            fail(f"{addr}: DeleteFolder left {list(acc.drafts.children)!r}")
        print(f"ok {auth} {addr}: message, calendar item, contact, task with categories/importance/sensitivity/extended "
              f"property; restriction; update, move, copy; folder create, rename, move, delete")
    finally:
        for cls in (Message, CalendarItem, Contact, Task):
            cls.deregister("project")


def main():
    url, auth, user, password, allowed, denied = sys.argv[1:7]
    cfg = config(url, auth, user, password)
    for addr in allowed.split(","):
        acc = Account(primary_smtp_address=addr, config=cfg, autodiscover=False, access_type=IMPERSONATION)
        version = acc.version
        if version is None or version.build is None:
            fail(f"{addr}: version guessing did not end with a build: {version!r}")
        inbox = acc.inbox
        if inbox.name.lower() != "inbox":
            fail(f"{addr}: inbox name {inbox.name!r}")
        before = acc.drafts.all().count()
        m = Message(account=acc, folder=acc.drafts, subject=f"scctest interop {addr}", body="probe")
        m.save()
        if not m.id:
            fail(f"{addr}: CreateItem returned no id")
        got = [i for i in acc.drafts.all() if i.id == m.id]
        if len(got) != 1 or got[0].subject != m.subject:
            fail(f"{addr}: FindItem in drafts does not show the created item: {got!r}")
        m.delete()
        after = acc.drafts.all().count()
        if after != before:
            fail(f"{addr}: drafts count after delete = {after}, want {before}")
        print(f"ok {auth} {addr}: version {version.api_version} build {version.build}; inbox, FindItem, CreateItem, DeleteItem")
        if addr == allowed.split(",")[0]:
            model_checks(acc, auth)

    try:
        acc = Account(primary_smtp_address=denied, config=cfg, autodiscover=False, access_type=IMPERSONATION)
        acc.inbox
        fail(f"{denied}: impersonation outside the scope succeeded")
    except ErrorImpersonateUserDenied:
        print(f"ok {auth} {denied}: ErrorImpersonateUserDenied")

    bad = config(url, auth, user, password + "-wrong")
    try:
        acc = Account(primary_smtp_address=allowed.split(",")[0], config=bad, autodiscover=False, access_type=IMPERSONATION)
        acc.inbox
        fail("wrong password was accepted")
    except UnauthorizedError as e:
        print(f"ok {auth} wrong password: {type(e).__name__}")

    check_attachments(cfg, auth, allowed.split(",")[0])
    first = allowed.split(",")[0]
    check_sync(Account(primary_smtp_address=first, config=cfg, autodiscover=False, access_type=IMPERSONATION), first)
    check_notifications(Account(primary_smtp_address=first, config=cfg, autodiscover=False, access_type=IMPERSONATION), first)
    check_recurrence(Account(primary_smtp_address=first, config=cfg, autodiscover=False, access_type=IMPERSONATION), first)


def check_recurrence(acc, addr):
    """A recurring CalendarItem (WeeklyPattern, NumberedPattern) created by
    exchangelib comes back as sent, with its first and last occurrence, and
    calendar.view() expands it (FindItem CalendarView, then GetItem of every
    occurrence id) into the occurrences the pattern gives."""
    from exchangelib.recurrence import NumberedPattern, Recurrence, WeeklyPattern
    from exchangelib.fields import MONDAY, THURSDAY
    start = EWSDateTime(2024, 6, 3, 9, 30, tzinfo=UTC)  # a Monday
    hour = datetime.timedelta(hours=1)
    rec = Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[MONDAY, THURSDAY]),
                     boundary=NumberedPattern(start=datetime.date(2024, 6, 3), number=5))
    item = CalendarItem(account=acc, folder=acc.calendar, subject="scctest weekly", start=start, end=start + hour, recurrence=rec)
    item.save()
    got = acc.calendar.get(id=item.id)
    # exchangelib reads a calendar item's range StartDate as a datetime
    # (DateOrDateTimeField), so compare the pattern, the date and the count.
    b = got.recurrence.boundary if got.recurrence else None
    if got.recurrence is None or got.recurrence.pattern != rec.pattern or not isinstance(b, NumberedPattern) or \
            b.number != 5 or b.start.isoformat()[:10] != "2024-06-03":
        fail(f"{addr}: recurrence read back = {got.recurrence!r}, want {rec!r}")
    if got.type != "RecurringMaster":
        fail(f"{addr}: type = {got.type!r}, want RecurringMaster")
    days = [0, 3, 7, 10, 14]
    want = [start + datetime.timedelta(days=d) for d in days]
    if got.first_occurrence is None or got.first_occurrence.start != want[0] or got.last_occurrence is None or got.last_occurrence.start != want[-1]:
        fail(f"{addr}: first/last occurrence = {got.first_occurrence!r}, {got.last_occurrence!r}; want starts {want[0]}, {want[-1]}")
    window = dict(start=EWSDateTime(2024, 6, 1, tzinfo=UTC), end=EWSDateTime(2024, 7, 1, tzinfo=UTC))
    full = [o for o in acc.calendar.view(**window) if o.subject == "scctest weekly"]
    if [(o.start, o.end, o.type) for o in full] != [(w, w + hour, "Occurrence") for w in want]:
        fail(f"{addr}: calendar.view() = {[(o.start, o.end, o.type) for o in full]!r}, want {want!r}")
    if got.first_occurrence.id != full[0].id or got.last_occurrence.id != full[-1].id:
        fail(f"{addr}: first/last occurrence ids are not those calendar.view() gives")
    light = [(o.start, o.type) for o in acc.calendar.view(**window).only("subject", "start", "type") if o.subject == "scctest weekly"]
    if light != [(w, "Occurrence") for w in want]:
        fail(f"{addr}: calendar.view().only(...) = {light!r}")
    # One occurrence modified (GetItem by OccurrenceItemId, UpdateItem of
    # the occurrence), another deleted (DeleteItem by OccurrenceItemId).
    occ = item.occurrence(2)
    occ.refresh()
    if occ.type != "Occurrence" or occ.start != want[1] or not occ.is_recurring:
        fail(f"{addr}: occurrence(2) = {occ.type!r} at {occ.start} is_recurring {occ.is_recurring!r}, want an Occurrence at {want[1]}")
    master = occ.recurring_master()
    master.refresh()
    if master.id != item.id or master.type != "RecurringMaster" or master.is_recurring:
        fail(f"{addr}: recurring_master() = {master.id!r} {master.type!r} is_recurring {master.is_recurring!r}")
    occ.subject, occ.location = "scctest weekly (changed)", "Room 2"
    occ.save(update_fields=["subject", "location"])
    # Moving an occurrence: start and end with their time zones.
    moved = item.occurrence(3)
    moved.refresh()
    moved.start, moved.end = moved.start + hour, moved.end + hour
    moved.save(update_fields=["start", "end"])
    item.occurrence(4).delete()
    changed = [(o.start, o.type, o.subject, o.location) for o in acc.calendar.view(**window) if o.subject.startswith("scctest weekly")]
    want_changed = [(want[0], "Occurrence", "scctest weekly", None), (want[1], "Exception", "scctest weekly (changed)", "Room 2"),
                    (want[2] + hour, "Exception", "scctest weekly", None), (want[4], "Occurrence", "scctest weekly", None)]
    if changed != want_changed:
        fail(f"{addr}: calendar.view() after changing occurrence 2, moving 3 and deleting 4 = {changed!r}, want {want_changed!r}")
    moved.refresh()
    if moved._start_timezone is None or moved._start_timezone.ms_id != "UTC":
        fail(f"{addr}: the moved occurrence reads back in time zone {moved._start_timezone!r}, want UTC as sent")
    got = acc.calendar.get(id=item.id)
    if [o.original_start for o in got.modified_occurrences or []] != [want[1], want[2]] or [o.start for o in got.deleted_occurrences or []] != [want[3]]:
        fail(f"{addr}: master modified/deleted occurrences = {got.modified_occurrences!r}, {got.deleted_occurrences!r}")
    item = got
    item.delete()
    if [o for o in acc.calendar.view(**window) if o.subject.startswith("scctest weekly")]:
        fail(f"{addr}: occurrences left after deleting the master")
    print(f"ok {addr}: recurring CalendarItem (WeeklyPattern, NumberedPattern) read back; calendar.view() expands its {len(want)} occurrences; occurrence(2) changed into an exception, occurrence(3) moved (with StartTimeZone/EndTimeZone), occurrence(4) deleted; a single meeting moved")


def check_sync(acc, addr):
    """SyncFolderHierarchy and SyncFolderItems over several pages, then net
    changes since the returned states."""
    root = acc.msg_folder_root
    names = set()
    for change, f in root.sync_hierarchy(only_fields=["name"]):
        if change != "create":
            fail(f"{addr}: initial sync_hierarchy change {change!r}, want create")
        names.add(f.name)
    if "Inbox" not in names or "Drafts" not in names:
        fail(f"{addr}: initial sync_hierarchy lacks Inbox or Drafts: {sorted(names)}")
    hstate = root.folder_sync_state
    if not hstate:
        fail(f"{addr}: sync_hierarchy left no state")

    folder = acc.inbox
    msgs = []
    for i in range(7):
        m = Message(account=acc, folder=folder, subject=f"scctest sync {i}", body="sync")
        m.save()
        msgs.append(m)
    created = {}
    for change, item in folder.sync_items(only_fields=["subject"], max_changes_returned=3):
        if change != "create":
            fail(f"{addr}: initial sync_items change {change!r}, want create")
        created[item.id] = item.subject
    want = {m.id: m.subject for m in msgs}
    if any(created.get(k) != v for k, v in want.items()):
        fail(f"{addr}: initial sync_items (pages of 3) = {created!r}, want to include {want!r}")
    istate = folder.item_sync_state

    msgs[0].subject = "scctest sync renamed"
    msgs[0].save(update_fields=["subject"])
    deleted_id = msgs[1].id  # exchangelib clears the id on delete
    msgs[1].delete()
    changes = {}
    for change, item in folder.sync_items(sync_state=istate, only_fields=["subject"], max_changes_returned=3):
        changes[item.id] = change
    wantc = {msgs[0].id: "update", deleted_id: "delete"}
    if changes != wantc:
        fail(f"{addr}: sync_items net changes = {changes!r}, want {wantc!r}")

    from exchangelib import Folder
    probe = Folder(parent=root, name="scctest sync probe")
    probe.save()
    hchanges = [(c, getattr(f, "name", None)) for c, f in root.sync_hierarchy(sync_state=hstate, only_fields=["name"])]
    if hchanges != [("create", "scctest sync probe")]:
        fail(f"{addr}: sync_hierarchy net changes = {hchanges!r}, want the probe folder's create")
    probe.delete()
    for m in msgs[2:]:
        m.delete()
    print(f"ok {addr}: sync_hierarchy, sync_items in pages of 3, net update/delete/create")


def check_notifications(acc, addr):
    """A pull and a streaming subscription see a message that another
    request creates (get_events, get_streaming_events)."""
    from exchangelib.properties import CreatedEvent
    sub, watermark = acc.inbox.subscribe_to_pull()
    # exchangelib sends X-PreferServerAffinity on notification requests and
    # keeps the X-BackEndOverrideCookie the fake issues (affinity.go); its
    # later GetEvents and GetStreamingEvents send it back as a header.
    if not acc.affinity_cookie or "~" not in acc.affinity_cookie:
        fail(f"{addr}: Subscribe left no X-BackEndOverrideCookie (affinity_cookie={acc.affinity_cookie!r})")
    m = Message(account=acc, folder=acc.inbox, subject="scctest pull event", body="event")
    m.save()
    created = False
    for notification in acc.inbox.get_events(sub, watermark):
        for event in notification.events:
            if isinstance(event, CreatedEvent) and event.item_id is not None and event.item_id.id == m.id:
                created = True
    acc.inbox.unsubscribe(sub)
    if not created:
        fail(f"{addr}: get_events did not report the CreatedEvent of the new message")
    stream = acc.inbox.subscribe_to_streaming()
    m2 = Message(account=acc, folder=acc.inbox, subject="scctest streaming event", body="event")
    m2.save()
    seen = False
    for notification in acc.inbox.get_streaming_events(stream, connection_timeout=1, max_notifications_returned=1):
        for event in notification.events:
            if isinstance(event, CreatedEvent) and event.item_id is not None and event.item_id.id == m2.id:
                seen = True
    if not seen:
        fail(f"{addr}: get_streaming_events did not report the CreatedEvent of the new message")
    m.delete()
    m2.delete()
    print(f"ok {addr}: pull subscription get_events and streaming get_streaming_events see a new message (affinity cookie {acc.affinity_cookie.split('~')[0]})")


def check_attachments(cfg, auth, addr):
    """File attachments (wire2): CreateAttachment on a saved draft,
    GetAttachment of the content, DeleteAttachment, HasAttachments."""
    from exchangelib import FileAttachment
    acc = Account(primary_smtp_address=addr, config=cfg, autodiscover=False, access_type=IMPERSONATION)
    m = Message(account=acc, folder=acc.drafts, subject="scctest attachments", body="with a file")
    m.save()
    content = bytes(range(256)) * 4
    m.attach(FileAttachment(name="data.bin", content=content, content_type="application/octet-stream"))
    got = acc.drafts.get(id=m.id)
    if not got.has_attachments or len(got.attachments) != 1:
        fail(f"{addr}: after CreateAttachment has_attachments={got.has_attachments} attachments={got.attachments!r}")
    a = got.attachments[0]
    if a.name != "data.bin" or a.content != content:
        fail(f"{addr}: GetAttachment returned {a.name!r}, {len(a.content or b'')} bytes; want data.bin, {len(content)} bytes")
    got.detach(a)
    again = acc.drafts.get(id=m.id)
    if again.has_attachments or again.attachments:
        fail(f"{addr}: after DeleteAttachment has_attachments={again.has_attachments} attachments={again.attachments!r}")
    again.delete()
    print(f"ok {auth} {addr}: CreateAttachment, GetAttachment, DeleteAttachment (FileAttachment)")


if __name__ == "__main__":
    main()
