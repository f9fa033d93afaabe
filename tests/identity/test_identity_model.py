"""Identity values refuse malformed fields with a typed error that names the field."""

from __future__ import annotations

import datetime as dt

import pytest

from ciyuan.identity import (
    SECTORS,
    ApiKey,
    IdentityInputError,
    ModelNotAllowedError,
    Principal,
    Tenant,
    slugify,
)
from ciyuan.identity.model import check_models, check_rate_limit, check_region

NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("name", "slug"), [
    ("Acme Research", "acme-research"),
    ("  ACME  ", "acme"),
    ("Société Générale", "societe-generale"),
    ("a" * 80, "a" * 63),
])
def test_slugify_keeps_ascii_words(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_slugify_gives_a_stable_id_to_names_without_ascii() -> None:
    assert slugify("词元科技") == slugify("词元科技")
    assert slugify("词元科技").startswith("t-") and len(slugify("词元科技")) == 10
    assert slugify("词元科技") != slugify("词元数据")


def test_tenant_fields_are_checked() -> None:
    assert Tenant("acme", "Acme", NOW, "finance", "CN-GD").sector == "finance"
    for bad in ({"id": "Acme"}, {"id": "-acme"}, {"id": ""}, {"name": ""}, {"name": "a\x00b"},
                {"name": "x\ud800"}, {"name": "tab\there"}, {"name": "   "},
                {"sector": "mining"}, {"region": "C N"}):
        fields = {"id": "acme", "name": "Acme", "created_at": NOW, **bad}
        with pytest.raises(IdentityInputError) as info:
            Tenant(**fields)  # type: ignore[arg-type]
        assert info.value.code == "identity-invalid"


def test_sectors_end_with_other() -> None:
    assert SECTORS[-1] == "other" and "software" in SECTORS and "government" in SECTORS


def test_models_rate_limits_and_regions() -> None:
    assert check_models(["a", "b", "a"]) == ("a", "b")
    assert check_models([]) == ()
    for bad in (["has space"], [""], ["x"] * 101, "gpt-4o", ["m\ud800"]):
        with pytest.raises(IdentityInputError):
            check_models(bad)
    assert check_rate_limit(None, "rpm") is None and check_rate_limit(60, "rpm") == 60
    for bad_limit in (0, -1, True, 1.5, 10**13):
        with pytest.raises(IdentityInputError, match="rpm"):
            check_rate_limit(bad_limit, "rpm")
    assert check_region("") == ""
    with pytest.raises(IdentityInputError):
        check_region("x" * 33)


def test_key_refuses_a_non_hex_hash() -> None:
    with pytest.raises(AssertionError):
        ApiKey("abcdefghijkl", "acme", "cy-abcdefghijkl-abcd", "not-hex", NOW)


def test_principal_model_allow_list() -> None:
    open_key = Principal("acme", "k1")
    assert open_key.allows("anything")
    limited = Principal("acme", "k1", models=("gpt-4o",))
    assert limited.allows("gpt-4o") and not limited.allows("gpt-4o-mini")
    limited.require_model("gpt-4o")
    with pytest.raises(ModelNotAllowedError, match="gpt-4o") as info:
        limited.require_model("deepseek-chat")
    assert info.value.code == "model-not-allowed"
