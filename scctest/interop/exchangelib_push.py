#!/usr/bin/env python3
"""Push notifications from the scctest standalone fake, received the
exchangelib way.

Usage: exchangelib_push.py EWS_URL AUTH SERVICE PASSWORD MAILBOX

Serves a push callback with the standard library's http.server on
127.0.0.1, subscribes MAILBOX's inbox with exchangelib's subscribe_to_push
(StatusFrequency 1), parses every POST with exchangelib's SendNotification
service and answers with its ok_payload: the first notification must be a
StatusEvent, a message saved through exchangelib must come as a
CreatedEvent. Then the callback answers unsubscribe_payload and the fake
must drop the subscription (GetEvents on the id: ErrorSubscriptionNotFound).
Exits non-zero with a message on the first failed expectation.
"""
import os
import queue
import sys
import threading
import time
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from exchangelib import BASIC, IMPERSONATION, NTLM, Account, Configuration, Credentials, Message
from exchangelib.errors import ErrorInvalidPullSubscriptionId, ErrorSubscriptionNotFound
from exchangelib.properties import CreatedEvent, StatusEvent
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.services import SendNotification

if os.environ.get("EXCHANGELIB_DEBUG"):
    logging.basicConfig(level=logging.DEBUG)

BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter

WAIT = 60  # seconds; generous, the machine may be loaded


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    url, auth, user, password, addr = sys.argv[1:6]
    cfg = Configuration(service_endpoint=url, credentials=Credentials(user, password),
                        auth_type={"basic": BASIC, "ntlm": NTLM}[auth])
    acc = Account(primary_smtp_address=addr, config=cfg, autodiscover=False, access_type=IMPERSONATION)
    service = SendNotification(protocol=acc.protocol)
    received = queue.Queue()
    state = {"answer": service.ok_payload(), "bad": None}

    class Callback(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                notifications = list(service.parse(body))
            except Exception as e:  # reported by the main thread
                state["bad"] = f"SendNotification.parse: {e!r}\n{body[:2000]!r}"
                self.send_response(500)
                self.end_headers()
                return
            answer = state["answer"]
            if isinstance(answer, str):
                answer = answer.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            for n in notifications:
                received.put(n)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{srv.server_address[1]}/ews/push/4f2a9c"

    def next_notification():
        try:
            return received.get(timeout=WAIT)
        except queue.Empty:
            fail(f"{addr}: no push notification within {WAIT} s" + (f"; {state['bad']}" if state["bad"] else ""))

    try:
        sub_id, watermark = acc.inbox.subscribe_to_push(callback, status_frequency=1)
        if not sub_id or not watermark:
            fail(f"{addr}: subscribe_to_push = {sub_id!r}, {watermark!r}; want an id and a watermark")
        first = next_notification()
        if first.subscription_id != sub_id or [type(e) for e in first.events] != [StatusEvent]:
            fail(f"{addr}: first push = {first!r}, want one StatusEvent of {sub_id}")

        m = Message(account=acc, folder=acc.inbox, subject="scctest push event", body="event")
        m.save()
        deadline = time.monotonic() + WAIT
        seen = False
        while not seen and time.monotonic() < deadline:
            n = next_notification()
            if n.subscription_id != sub_id:
                fail(f"{addr}: push for {n.subscription_id}, want {sub_id}")
            seen = any(isinstance(e, CreatedEvent) and e.item_id is not None and e.item_id.id == m.id for e in n.events)
        if not seen:
            fail(f"{addr}: no CreatedEvent of the new message was pushed")

        # GetEvents does not take a push subscription.
        try:
            list(acc.inbox.get_events(sub_id, watermark))
            fail(f"{addr}: get_events(push id) succeeded, want ErrorInvalidPullSubscriptionId")
        except ErrorInvalidPullSubscriptionId:
            pass

        # Answer Unsubscribe: the fake drops the subscription.
        state["answer"] = service.unsubscribe_payload()
        m2 = Message(account=acc, folder=acc.inbox, subject="scctest push unsubscribe", body="event")
        m2.save()
        next_notification()
        deadline = time.monotonic() + WAIT
        while True:
            try:
                list(acc.inbox.get_events(sub_id, watermark))
            except ErrorSubscriptionNotFound:
                break
            except ErrorInvalidPullSubscriptionId:
                pass  # not dropped yet
            if time.monotonic() > deadline:
                fail(f"{addr}: the subscription still exists {WAIT} s after the Unsubscribe answer")
            time.sleep(0.05)
        m.delete()
        m2.delete()
    finally:
        srv.shutdown()
    if state["bad"]:
        fail(f"{addr}: {state['bad']}")
    print(f"ok {auth} {addr}: subscribe_to_push, SendNotification parsed (StatusEvent, CreatedEvent), Unsubscribe answer ends it")


if __name__ == "__main__":
    main()
