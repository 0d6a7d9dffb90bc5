#!/usr/bin/env python3
"""exchangelib's SOAP Autodiscover against the scctest standalone fake.

Usage: exchangelib_autodiscover.py ADDR CA_FILE AUTH SERVICE PASSWORD EMAIL WANT_EWS_URL

The fake (fakeexchange -autodiscover-ca CA_FILE) listens on ADDR (host:port on
loopback) with a certificate for contoso.example, autodiscover.contoso.example
and mail.contoso.example from a fresh CA. For this run only, the script maps
those names (port 443) to ADDR by patching socket.getaddrinfo and exchangelib's
DNS checks, refuses every other name (nothing leaves the machine), and trusts
CA_FILE. exchangelib then runs its own SOAP Autodiscover (autodiscover="soap")
for EMAIL, must find WANT_EWS_URL, and must be able to use it (GetFolder on the
inbox, impersonated). AUTH is "basic" or "ntlm".
"""
import logging
import os
import socket
import sys

import requests.adapters
from exchangelib import IMPERSONATION, Account, Credentials
from exchangelib.autodiscover import clear_cache
from exchangelib.autodiscover.discovery.base import BaseAutodiscovery
from exchangelib.errors import TransportError
from exchangelib.protocol import BaseProtocol

if os.environ.get("EXCHANGELIB_DEBUG"):
    logging.basicConfig(level=logging.DEBUG)

DOMAIN = "contoso.example"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def ours(host):
    host = (host or "").lower().rstrip(".")
    return host == DOMAIN or host.endswith("." + DOMAIN)


def main():
    addr, ca_file, auth, user, password, email, want = sys.argv[1:8]
    fake_host, fake_port = addr.rsplit(":", 1)
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host in ("127.0.0.1", "localhost"):
            return real_getaddrinfo(host, port, *args, **kwargs)
        if ours(host) and str(port) == "443":
            return real_getaddrinfo(fake_host, int(fake_port), *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"{host}:{port} is not routed in this test")

    socket.getaddrinfo = getaddrinfo

    # exchangelib checks candidate names with dnspython before it connects,
    # and asks DNS for SRV records: answer both from the same table.
    def ensure_valid_hostname(self, url):
        from urllib.parse import urlparse
        if not ours(urlparse(url).hostname):
            raise TransportError(f"{url!r} has no DNS entry (test)")

    BaseAutodiscovery._ensure_valid_hostname = ensure_valid_hostname
    BaseAutodiscovery._get_srv_records = lambda self, hostname: []

    class TrustFakeCA(requests.adapters.HTTPAdapter):
        def cert_verify(self, conn, url, verify, cert):
            super().cert_verify(conn, url, ca_file, cert)

    BaseProtocol.HTTP_ADAPTER_CLS = TrustFakeCA
    clear_cache()

    acc = Account(
        primary_smtp_address=email,
        credentials=Credentials(user, password),
        autodiscover="soap",
        access_type=IMPERSONATION,
    )
    got = acc.protocol.service_endpoint
    if got.lower() != want.lower():
        fail(f"autodiscovered EWS URL {got!r}, want {want!r}")
    if acc.ad_response is None or (acc.ad_response.ews_url or "").lower() != want.lower():
        fail(f"ad_response.ews_url = {getattr(acc.ad_response, 'ews_url', None)!r}, want {want!r}")
    if acc.primary_smtp_address.lower() != email.lower():
        fail(f"primary address {acc.primary_smtp_address!r}, want {email!r}")
    # The discovered URL works: an impersonated GetFolder over it.
    if acc.inbox.name.lower() != "inbox":
        fail(f"inbox name {acc.inbox.name!r}")
    print(f"ok {auth}: exchangelib SOAP Autodiscover found {got} (version {acc.version.api_version}), GetFolder works")


if __name__ == "__main__":
    main()
