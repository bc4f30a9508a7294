"""A small SAML 2.0 identity provider for the single sign-on tests, run as its own process.

    python saml_server.py ENTITY_ID

It generates a key pair and a self-signed certificate, binds a free loopback port, prints
``READY <port> <certificate, base64 DER>`` and serves ``/sso``: given an AuthnRequest by
the HTTP-Redirect binding it signs in the configured test user without asking and answers
with the auto-posting form of the HTTP-POST binding, carrying a Response whose Assertion
(subject, audience, recipient, InResponseTo, attributes) is signed with xmlsec (RSA-SHA256).
``PUT /_test`` (JSON) sets the user (``name_id`` and ``attributes``: name -> list of values)
and a ``mode`` that makes the next responses wrong on purpose: ``tampered`` (an attribute
changed after signing) or ``foreign_key`` (signed by a key the SP does not trust).
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import sys
import threading
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"


def _key_and_cert(name: str) -> tuple[str, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, cert


KEY, CERT = _key_and_cert("test idp")
FOREIGN_KEY, FOREIGN_CERT = _key_and_cert("someone else")
STATE: dict[str, Any] = {
    "user": {"name_id": "u-1", "attributes": {"email": ["ada@idp.test"], "groups": []}},
    "mode": "normal",
}
LOCK = threading.Lock()


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _instant(delta: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _assertion(*, issuer: str, audience: str, acs: str, request_id: str, user: dict) -> str:
    attributes = "".join(
        f"<saml:Attribute Name={quoteattr(name)}>"
        + "".join(
            f'<saml:AttributeValue xsi:type="xs:string">{escape(v)}</saml:AttributeValue>'
            for v in values
        )
        + "</saml:Attribute>"
        for name, values in user["attributes"].items()
    )
    return (
        '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'ID="_a{secrets.token_hex(16)}" Version="2.0" IssueInstant="{_instant()}">'
        f"<saml:Issuer>{escape(issuer)}</saml:Issuer>"
        "<saml:Subject>"
        '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">'
        f"{escape(user['name_id'])}</saml:NameID>"
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{_instant(300)}" '
        f"Recipient={quoteattr(acs)} InResponseTo={quoteattr(request_id)}/>"
        "</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{_instant(-60)}" NotOnOrAfter="{_instant(300)}">'
        f"<saml:AudienceRestriction><saml:Audience>{escape(audience)}</saml:Audience>"
        "</saml:AudienceRestriction></saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{_instant()}" '
        f'SessionIndex="_s{secrets.token_hex(8)}"><saml:AuthnContext>'
        "<saml:AuthnContextClassRef>"
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
        f"<saml:AttributeStatement>{attributes}</saml:AttributeStatement>"
        "</saml:Assertion>"
    )


class Handler(BaseHTTPRequestHandler):
    entity_id = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _send(self, body: str, status: int = 200, kind: str = "text/html") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        with LOCK:
            STATE.update({k: body[k] for k in ("user", "mode") if k in body})
        self._send('{"ok": true}', kind="application/json")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/sso":
            return self._send("not found", 404, "text/plain")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        request = ElementTree.fromstring(
            zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15)
        )
        if request.tag != f"{{{PROTOCOL}}}AuthnRequest":
            return self._send("not an AuthnRequest", 400, "text/plain")
        issuer = request.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer")
        request_id = request.get("ID", "")
        acs = request.get("AssertionConsumerServiceURL", "")
        with LOCK:
            user, mode = json.loads(json.dumps(STATE["user"])), STATE["mode"]
        assertion = _assertion(
            issuer=self.entity_id,
            audience=issuer.text if issuer is not None else "",
            acs=acs,
            request_id=request_id,
            user=user,
        )
        key, cert = (FOREIGN_KEY, FOREIGN_CERT) if mode == "foreign_key" else (KEY, CERT)
        signed = OneLogin_Saml2_Utils.add_sign(assertion, key, _pem(cert)).decode()
        if mode == "tampered":
            email = escape(user["attributes"]["email"][0])
            signed = signed.replace(f">{email}<", ">mallory@idp.test<")
        response = (
            f'<samlp:Response xmlns:samlp="{PROTOCOL}" '
            'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
            f'ID="_r{secrets.token_hex(16)}" Version="2.0" IssueInstant="{_instant()}" '
            f"Destination={quoteattr(acs)} InResponseTo={quoteattr(request_id)}>"
            f"<saml:Issuer>{escape(self.entity_id)}</saml:Issuer>"
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            f"</samlp:Status>{signed.split('?>', 1)[-1] if signed.startswith('<?xml') else signed}"
            "</samlp:Response>"
        )
        encoded = base64.b64encode(response.encode()).decode()
        relay = html.escape(query.get("RelayState", ""))
        self._send(
            f'<form method="post" action="{html.escape(acs)}">'
            f'<input type="hidden" name="SAMLResponse" value="{encoded}">'
            f'<input type="hidden" name="RelayState" value="{relay}">'
            "</form>"
        )


def main() -> None:
    Handler.entity_id = sys.argv[1]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    der = base64.b64encode(CERT.public_bytes(serialization.Encoding.DER)).decode()
    print(f"READY {server.server_address[1]} {der}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
