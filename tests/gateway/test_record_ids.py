"""Usage-record ids: UUIDv7 (RFC 9562) after ``ur-``, so that ids made one after another
sort in the order they were made (the stores' indexes on them grow at one end)."""

from __future__ import annotations

import time
import uuid

from ciyuan.gateway.metering import uuid7_hex


def test_ids_are_uuid7_in_the_order_of_their_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    ids = [uuid7_hex() for _ in range(2_000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert len(value) == 32 and parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert before <= int(value[:12], 16) <= after
    stamps = [int(v[:12], 16) for v in ids]
    assert stamps == sorted(stamps)


def test_the_random_part_varies_in_every_bit() -> None:
    values = [int(uuid7_hex(), 16) for _ in range(512)]
    low_74 = [(v >> 64 & 0xFFF) << 62 | v & ((1 << 62) - 1) for v in values]
    ones = 0
    for v in low_74:
        ones |= v
    zeros = 0
    for v in low_74:
        zeros |= ~v & ((1 << 74) - 1)
    assert ones == zeros == (1 << 74) - 1  # no bit of the 74 stuck at 0 or at 1
