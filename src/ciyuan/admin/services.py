"""What the admin API needs, built once from the settings: the directory, the admin token
and the receipt public key."""

from __future__ import annotations

from dataclasses import dataclass, field

from ciyuan.admin.directory import Directory
from ciyuan.receipt.keys import ReceiptPublicKey, default_key_path, load_or_create_signer
from ciyuan.settings import Settings
from ciyuan.store.identity import open_identity_store

__all__ = ["AdminServices", "open_admin_services"]


@dataclass
class AdminServices:
    """The services behind ``/api``. ``admin_token`` None refuses every admin call (health
    and the receipt public key stay open); ``receipt_public_key`` None answers 404 there."""

    directory: Directory
    admin_token: str | None = field(default=None, repr=False)
    receipt_public_key: ReceiptPublicKey | None = None

    def close(self) -> None:
        self.directory.store.close()


def open_admin_services(settings: Settings) -> AdminServices:
    """Open the identity store of ``settings.db_url`` and the receipt key (made on first
    run); the gateway calls this once at start-up, or builds ``AdminServices`` itself to share
    the store and the signer it already has."""
    signer = load_or_create_signer(default_key_path(settings))
    return AdminServices(Directory(open_identity_store(settings.db_url)),
                         admin_token=settings.admin_token,
                         receipt_public_key=signer.public_key)
