"""The hash chain's input is a fixed encoding: the canonical JSON of every journal so far.

``canonical_json`` writes its bytes out directly (for speed); these properties hold it to
the ``json.dumps`` form the chain has always hashed, for any text in any field, so that
journals written before and after hash (and verify) the same.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ciyuan.ledger import Transfer, TransferFlags, canonical_json, chain_hash
from ciyuan.ledger.engine import EntryKind
from ciyuan.ledger.model import ID_MAX_CHARS, METADATA_MAX_KEYS
from ciyuan.store.ledger_rows import metadata_json

#: Any text json can encode to UTF-8 (lone surrogates cannot be stored either way).
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=ID_MAX_CHARS)
ids = texts.filter(bool)


def reference(seq: int, kind: EntryKind, t: Transfer) -> bytes:
    """The chain's input as it was first defined: sorted keys, no spaces, UTF-8."""
    body = {
        "seq": seq, "kind": kind, "id": t.id, "debit_account_id": t.debit_account_id,
        "credit_account_id": t.credit_account_id, "amount": t.amount, "code": t.code,
        "flags": int(t.flags), "pending_id": t.pending_id, "timeout_s": t.timeout_s,
        "metadata": [list(pair) for pair in t.metadata], "timestamp_ns": t.timestamp_ns,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


transfers = st.builds(
    Transfer, ids, ids, ids, st.integers(-(2**63) + 1, 2**63 - 1), ids,
    st.sampled_from(list(TransferFlags)) | st.integers(0, 15).map(TransferFlags), texts,
    st.integers(0, 10**9), st.lists(st.tuples(texts, texts), max_size=METADATA_MAX_KEYS)
    .map(tuple), st.integers(0, 2**63 - 1))


@given(st.integers(1, 2**62), st.sampled_from(["transfer", "expiry"]), transfers)
def test_canonical_json_is_the_reference_encoding(seq: int, kind: EntryKind,
                                                  t: Transfer) -> None:
    assert canonical_json(seq, kind, t) == reference(seq, kind, t)


@given(st.lists(st.tuples(texts, texts), max_size=METADATA_MAX_KEYS))
def test_metadata_column_is_json_of_the_pairs(pairs: list[tuple[str, str]]) -> None:
    t = Transfer("t", "a", "b", 1, metadata=tuple(pairs))
    text = metadata_json(t.metadata)
    assert text == json.dumps([list(p) for p in t.metadata], ensure_ascii=False)
    assert tuple(tuple(p) for p in json.loads(text)) == t.metadata


def test_a_known_entry_hashes_to_its_published_digest() -> None:
    """A fixed vector (computed with the json.dumps encoder): a changed encoding fails here."""
    t = Transfer("call-1", "wallet:t1", "revenue", 2_500_000, metadata=(("model", "qwen-max"),
                 ("说明", "词元")), timestamp_ns=1_700_000_000_000_000_000)
    assert canonical_json(1, "transfer", t) == reference(1, "transfer", t)
    assert chain_hash("0" * 64, 1, "transfer", t) == (
        "58065ca6bdfe76b5a3275e0a9249272862563b8a7138a4770612dd30b6701bae")
