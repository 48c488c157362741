"""Role order and the secret-handling primitives."""

from __future__ import annotations

import hashlib
from itertools import product

import pytest

from lib.http.credentials import ROLES, fingerprint, role_allows, same_secret


@pytest.mark.parametrize(("have", "need"), list(product(ROLES, ROLES)))
def test_a_role_allows_itself_and_those_below(have: str, need: str) -> None:
    assert role_allows(have, need) == (ROLES.index(have) >= ROLES.index(need))  # type: ignore[arg-type]


def test_roles_are_ordered_viewer_operator_admin() -> None:
    assert ROLES == ("viewer", "operator", "admin")
    assert not any(role_allows(None, need) for need in ROLES)


def test_fingerprint_is_sha256_hex() -> None:
    assert fingerprint("om_x") == hashlib.sha256(b"om_x").hexdigest()


def test_same_secret() -> None:
    assert same_secret("s3cret", "s3cret")
    assert not same_secret("s3cret", "s3cret ")
    assert not same_secret("", "s3cret")
    assert same_secret("비밀번호", "비밀번호")
