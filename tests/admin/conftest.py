"""An admin app over a fresh SQLite identity store, and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_constants import AUTH, TOKEN  # noqa: F401 - re-exported for fixtures
from fastapi.testclient import TestClient

from ciyuan.admin import AdminServices, Directory, build_admin_app
from ciyuan.receipt import ReceiptSigner
from ciyuan.store.sqlite_identity import SqliteIdentityStore


@pytest.fixture
def services(tmp_path: Path) -> Iterator[AdminServices]:
    made = AdminServices(Directory(SqliteIdentityStore(tmp_path / "ciyuan.db")),
                         admin_token=TOKEN, receipt_public_key=ReceiptSigner.generate().public_key)
    yield made
    made.close()


@pytest.fixture
def client(services: AdminServices) -> Iterator[TestClient]:
    with TestClient(build_admin_app(services)) as made:
        yield made
