#!/usr/bin/env python3
"""Drive the standalone fake's control API from Python (stdlib urllib) while
exchangelib talks EWS to it: the fake serves non-Go test suites too.

Usage: control_check.py EWS_URL CONTROL_URL AUTH SERVICE PASSWORD MAILBOX

CONTROL_URL is the "control API: ..." line of fakeexchange -control (ending
in /v1/). Checks, in order: a password changed through the control API locks
exchangelib out with the old one and lets it in with the new; a mailbox added
through it can be impersonated; a fault injected for one mailbox's second
GetFolder reaches exchangelib as ErrorServerBusy; the request log shows the
requests. Restores the password at the end. Exits non-zero on the first
failed expectation.
"""
import json
import sys
import urllib.error
import urllib.request

from exchangelib import (BASIC, IMPERSONATION, NTLM, Account, Configuration,
                         Credentials)
from exchangelib.errors import ErrorMissedNotificationEvents, ErrorServerBusy, ErrorSubscriptionNotFound, UnauthorizedError
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter

BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def control(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def must(base, method, path, body=None):
    status, out = control(base, method, path, body)
    if status // 100 != 2:
        fail(f"{method} {path}: {status} {out}")
    return out


def account(url, auth, user, password, mailbox):
    cfg = Configuration(service_endpoint=url, credentials=Credentials(user, password),
                        auth_type={"basic": BASIC, "ntlm": NTLM}[auth])
    return Account(primary_smtp_address=mailbox, config=cfg, autodiscover=False, access_type=IMPERSONATION)


def main():
    url, ctl, auth, user, password, mailbox = sys.argv[1:7]
    new_password = password + "-changed"

    must(ctl, "POST", "accounts/password", {"logon": user, "password": new_password})
    try:
        account(url, auth, user, password, mailbox).inbox
        fail("the old password still works after the control API changed it")
    except UnauthorizedError:
        print(f"ok {auth} control: old password refused after POST accounts/password")
    acc = account(url, auth, user, new_password, mailbox)
    if acc.inbox.name.lower() != "inbox":
        fail(f"inbox name {acc.inbox.name!r} with the new password")
    print(f"ok {auth} control: new password works")

    must(ctl, "POST", "seed", {"mailboxes": [{"primarySmtp": "erin@contoso.example"}]})
    must(ctl, "POST", "accounts/grant", {"logon": user, "impersonate": "all"})
    erin = account(url, auth, user, new_password, "erin@contoso.example")
    if erin.inbox.name.lower() != "inbox":
        fail("a mailbox added through the control API cannot be impersonated")
    mailboxes = [m["primarySmtp"] for m in must(ctl, "GET", "mailboxes")]
    if "erin@contoso.example" not in mailboxes:
        fail(f"GET mailboxes = {mailboxes}, want erin among them")
    print(f"ok {auth} control: mailbox added and impersonated")

    # Fail erin's GetFolder of a second Account: count how many GetFolders
    # of erin an Account's inbox takes (the request log), then target the
    # first one after those. The version probe and other mailboxes' requests
    # do not count.
    must(ctl, "DELETE", "requests")
    account(url, auth, user, new_password, "erin@contoso.example").inbox
    per_inbox = sum(1 for r in must(ctl, "GET", "requests")
                    if r.get("operation") == "GetFolder" and r.get("impersonated") == "erin@contoso.example")
    if per_inbox < 1:
        fail("the request log shows no GetFolder of erin")
    must(ctl, "POST", "faults", {"fault": {"type": "ServerBusy", "backOffMs": 1000},
                                 "operation": "GetFolder", "mailbox": "erin@contoso.example", "call": per_inbox + 1})
    account(url, auth, user, new_password, mailbox).inbox  # another mailbox: not counted
    account(url, auth, user, new_password, "erin@contoso.example").inbox  # counted, not failed
    try:
        account(url, auth, user, new_password, "erin@contoso.example").inbox
        fail("the injected ErrorServerBusy did not reach exchangelib")
    except ErrorServerBusy:
        print(f"ok {auth} control: injected fault on erin's GetFolder number {per_inbox + 1}")
    must(ctl, "DELETE", "faults")

    log = must(ctl, "GET", "requests")
    busy = [r for r in log if r.get("fault") == "ErrorServerBusy" and r.get("impersonated") == "erin@contoso.example"]
    if len(busy) != 1 or busy[0].get("operation") != "GetFolder":
        fail(f"request log shows {len(busy)} ErrorServerBusy GetFolder for erin, want 1")
    stats = must(ctl, "GET", "stats")
    if stats["faults"].get("ErrorServerBusy") != 1:
        fail(f"stats faults = {stats['faults']}, want one ErrorServerBusy")
    print(f"ok {auth} control: request log and stats ({len(log)} requests)")

    # Notification faults: a pull subscription loses its events (and
    # stays), then a second one is made and both are expired; exchangelib
    # sees what Exchange would answer.
    for path, key, want, error in (("notifications/lose-events", "lost", 1, ErrorMissedNotificationEvents),
                                   ("notifications/expire", "expired", 2, ErrorSubscriptionNotFound)):
        sub, watermark = erin.inbox.subscribe_to_pull()
        got = must(ctl, "POST", path, {"mailbox": "erin@contoso.example"}).get(key)
        if got != want:
            fail(f"{path} reported {got} of erin's subscriptions, want {want}")
        try:
            list(erin.inbox.get_events(sub, watermark))
            fail(f"get_events after {path} did not fail")
        except error:
            pass
    if "dropped" not in must(ctl, "POST", "notifications/drop-streams", {}):
        fail("drop-streams did not answer how many streams it cut")
    print(f"ok {auth} control: lose-events and expire reach exchangelib's get_events")

    status, out = control(ctl, "POST", "accounts/password", {"logon": "CONTOSO\\nobody", "password": "x"})
    if status != 404 or "not found" not in out.get("error", ""):
        fail(f"unknown account: {status} {out}, want 404 with an error")
    must(ctl, "POST", "accounts/password", {"logon": user, "password": password})


if __name__ == "__main__":
    main()
