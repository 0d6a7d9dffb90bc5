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

from exchangelib import (BASIC, IMPERSONATION, NTLM, Account, Configuration,
                         Credentials, Message)
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
