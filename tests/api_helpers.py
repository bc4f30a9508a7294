"""Helpers for API tests: token clients for users."""

from __future__ import annotations

from rest_framework.test import APIClient

from annotator.services import api_token_create


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        key = api_token_create(user=user, name="tests").key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client
