"""API keys: format, hashing, and constant-time authentication."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciyuan.identity import (
    ApiKey,
    InvalidApiKeyError,
    KeyCache,
    RevokedApiKeyError,
    authenticate,
    issue_key,
    key_id_of,
)
from ciyuan.identity import keys as keys_module
from ciyuan.identity.keys import KEY_PATTERN, SECRET_CHARS, _base62

NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


def _lookup(*keys: ApiKey) -> Callable[[str], ApiKey | None]:
    by_id = {k.id: k for k in keys}
    return by_id.get


def test_an_issued_key_has_the_documented_format_and_only_its_hash_is_kept() -> None:
    issued = issue_key("acme", now=NOW, agent="bot", models=["gpt-4o"], rate_limit_rpm=60)
    assert KEY_PATTERN.fullmatch(issued.secret)
    assert issued.secret.startswith(f"cy-{issued.key.id}-")
    assert issued.key.prefix == issued.secret[:len(issued.key.prefix)]
    assert len(issued.key.prefix) == len("cy-") + 12 + 1 + 4
    assert issued.key.secret_sha256 == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert issued.secret not in repr(issued) and issued.secret not in repr(issued.key)
    assert key_id_of(issued.secret) == issued.key.id


def test_keys_are_random() -> None:
    secrets = {issue_key("acme", now=NOW).secret for _ in range(50)}
    assert len(secrets) == 50
    assert len({key_id_of(s) for s in secrets}) == 50


@given(st.binary(min_size=32, max_size=32))
def test_base62_secret_is_always_43_characters(data: bytes) -> None:
    text = _base62(data, SECRET_CHARS)
    assert len(text) == SECRET_CHARS and text.isalnum()
    assert _base62(b"\x00" * 32, SECRET_CHARS) == "0" * SECRET_CHARS


def test_authenticate_returns_the_principal() -> None:
    issued = issue_key("acme", now=NOW, team=None, agent="bot", models=["gpt-4o"],
                       rate_limit_rpm=60, rate_limit_tpm=10_000)
    principal = authenticate(issued.secret, _lookup(issued.key))
    assert (principal.tenant, principal.key_id, principal.agent) == ("acme", issued.key.id, "bot")
    assert principal.models == ("gpt-4o",)
    assert (principal.rate_limit_rpm, principal.rate_limit_tpm) == (60, 10_000)


def _one_char_changed(secret: str) -> str:
    last = secret[-1]
    return secret[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize("presented", [
    "", "sk-123", "cy-", "cy-short-secret", "Bearer cy-x", "cy-" + "a" * 12 + "-" + "b" * 42,
])
def test_malformed_keys_are_refused(presented: str) -> None:
    with pytest.raises(InvalidApiKeyError) as info:
        authenticate(presented, _lookup())
    assert info.value.code == "invalid-api-key"


def test_a_wrong_secret_or_unknown_id_is_refused_alike() -> None:
    issued = issue_key("acme", now=NOW)
    with pytest.raises(InvalidApiKeyError) as wrong:
        authenticate(_one_char_changed(issued.secret), _lookup(issued.key))
    other = issue_key("acme", now=NOW)
    with pytest.raises(InvalidApiKeyError) as unknown:
        authenticate(other.secret, _lookup(issued.key))
    assert wrong.value.message == unknown.value.message  # nothing tells the two apart


def test_the_secret_is_compared_in_constant_time_even_for_unknown_ids(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    issued = issue_key("acme", now=NOW)
    authenticate(issued.secret, _lookup(issued.key))
    with pytest.raises(InvalidApiKeyError):
        authenticate(issue_key("acme", now=NOW).secret, _lookup(issued.key))
    assert len(calls) == 2 and all(len(a) == len(b) == 64 for a, b in calls)


def test_a_revoked_key_is_refused_but_only_its_holder_learns_it_was_revoked() -> None:
    issued = issue_key("acme", now=NOW)
    revoked = dataclasses.replace(issued.key, revoked_at=NOW)
    with pytest.raises(RevokedApiKeyError) as info:
        authenticate(issued.secret, _lookup(revoked))
    assert info.value.code == "api-key-revoked"
    with pytest.raises(InvalidApiKeyError) as guess:
        authenticate(_one_char_changed(issued.secret), _lookup(revoked))
    assert not isinstance(guess.value, RevokedApiKeyError)


def test_key_cache_keeps_lookups_for_the_ttl_and_is_bounded() -> None:
    issued = issue_key("acme", now=NOW)
    store = {issued.key.id: issued.key}
    calls: list[str] = []
    now = [0.0]

    def lookup(key_id: str) -> ApiKey | None:
        calls.append(key_id)
        return store.get(key_id)

    cache = KeyCache(lookup, ttl_s=5.0, max_entries=2, clock=lambda: now[0])
    assert cache(issued.key.id) is issued.key and cache(issued.key.id) is issued.key
    assert len(calls) == 1
    store[issued.key.id] = dataclasses.replace(issued.key, revoked_at=NOW)
    now[0] = 4.9
    assert cache(issued.key.id).revoked_at is None  # type: ignore[union-attr]
    now[0] = 5.0
    assert cache(issued.key.id).revoked_at == NOW  # type: ignore[union-attr]
    cache.forget(issued.key.id)
    cache(issued.key.id)
    assert len(calls) == 3
    cache("a" * 12)
    cache("b" * 12)
    cache(issued.key.id)  # evicted by the two above (max_entries=2)
    assert len(calls) == 6
