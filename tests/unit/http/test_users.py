"""Password hashing and the login check, on the in-process KV."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from lib.clock import FixedClock
from lib.errors import AuthError
from lib.http.users import USERS_KEY, NewUser, UserStore
from lib.store.memory_kv import MemoryKv

PASSWORD = "a long enough password"


class CountingHasher(PasswordHasher):
    """A real, cheap argon2id hasher that counts verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def store(hasher: CountingHasher) -> UserStore:
    return UserStore(MemoryKv(), FixedClock(1_800_000_000.0), hasher)


def test_the_default_hasher_is_argon2id_rfc9106_low_memory() -> None:
    hasher = UserStore(MemoryKv(), FixedClock(0.0))._hasher
    assert hasher.type is Type.ID
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 4)


def test_only_a_hash_is_stored(store: UserStore) -> None:
    store.create(NewUser(username="ann", password=PASSWORD, role="viewer"), created_by="t")
    raw = store._kv.hget(USERS_KEY, "ann")
    assert raw is not None
    assert PASSWORD not in raw
    assert "$argon2id$" in raw


def test_an_unknown_user_costs_a_verification_like_a_known_one(
    store: UserStore, hasher: CountingHasher
) -> None:
    store.create(NewUser(username="ann", password=PASSWORD, role="viewer"), created_by="t")
    messages = []
    for username in ("ann", "bob"):
        with pytest.raises(AuthError) as raised:
            store.verify(username, "wrong password", None)
        messages.append(raised.value.message)
    assert hasher.verified == 2
    assert messages[0] == messages[1]
    assert store.verify("ann", PASSWORD, None).username == "ann"
