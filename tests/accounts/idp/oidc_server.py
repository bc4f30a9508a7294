"""A small OpenID Connect provider for the single sign-on tests, run as its own process.

    python oidc_server.py CLIENT_ID CLIENT_SECRET

It binds a free loopback port, prints ``READY <port>`` and serves: the discovery document,
``/authorize`` (signs in the configured test user without asking and redirects back with a
code), ``/token`` (checks the client's secret, the redirect URI and PKCE, and issues an
RS256-signed id_token with the request's nonce), ``/userinfo`` and ``/jwks``. The key pair is
generated at start. ``PUT /_test`` (JSON) sets the user's claims and a ``mode`` that makes
the next tokens wrong on purpose: ``foreign_key`` (signed by a key the JWKS does not hold),
``wrong_nonce``, ``wrong_audience``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "test-key-1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
FOREIGN_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

STATE: dict[str, Any] = {
    "user": {"sub": "u-1", "email": "ada@idp.test", "email_verified": True, "groups": []},
    "mode": "normal",
    "codes": {},
    "tokens": {},
}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    client_id = ""
    client_secret = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _json(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            return self._json(
                {
                    "issuer": self.base,
                    "authorization_endpoint": f"{self.base}/authorize",
                    "token_endpoint": f"{self.base}/token",
                    "userinfo_endpoint": f"{self.base}/userinfo",
                    "jwks_uri": f"{self.base}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "client_secret_basic",
                    ],
                    "code_challenge_methods_supported": ["S256"],
                }
            )
        if url.path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
            return self._json({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]})
        if url.path == "/authorize":
            return self._authorize(query)
        if url.path == "/userinfo":
            auth = self.headers.get("Authorization", "")
            with LOCK:
                claims = STATE["tokens"].get(auth.removeprefix("Bearer "))
            if claims is None:
                return self._json({"error": "invalid_token"}, 401)
            return self._json(claims)
        return self._json({"error": "not_found"}, 404)

    def _authorize(self, query: dict[str, str]) -> None:
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return self._json({"error": "unauthorized_client"}, 400)
        code = secrets.token_urlsafe(16)
        with LOCK:
            STATE["codes"][code] = {
                "redirect_uri": query["redirect_uri"],
                "nonce": query.get("nonce"),
                "challenge": query.get("code_challenge"),
                "user": dict(STATE["user"]),
            }
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self) -> None:
        if self.path != "/_test":
            return self._json({"error": "not_found"}, 404)
        body = json.loads(self._body())
        with LOCK:
            STATE.update({k: body[k] for k in ("user", "mode") if k in body})
        self._json({"ok": True})

    def do_POST(self) -> None:
        if self.path != "/token":
            return self._json({"error": "not_found"}, 404)
        form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if (client_id, secret) != (self.client_id, self.client_secret):
            return self._json({"error": "invalid_client"}, 401)
        with LOCK:
            grant = STATE["codes"].pop(form.get("code", ""), None)
            mode = STATE["mode"]
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return self._json({"error": "invalid_grant"}, 400)
        if grant["challenge"]:
            verifier = form.get("code_verifier", "").encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if digest.decode() != grant["challenge"]:
                return self._json({"error": "invalid_grant", "detail": "PKCE"}, 400)
        now = int(time.time())
        claims = {
            **grant["user"],
            "iss": self.base,
            "aud": "someone-else" if mode == "wrong_audience" else self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": "not-the-nonce" if mode == "wrong_nonce" else grant["nonce"],
        }
        key = FOREIGN_KEY if mode == "foreign_key" else KEY
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
        access_token = secrets.token_urlsafe(24)
        with LOCK:
            STATE["tokens"][access_token] = dict(grant["user"])
        self._json(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )


def main() -> None:
    Handler.client_id, Handler.client_secret = sys.argv[1], sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
