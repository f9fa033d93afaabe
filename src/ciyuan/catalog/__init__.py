"""The model catalog: providers and models, shipped as data (``data/models.toml``).

In: the shipped TOML plus the user's ``[models]`` and ``[providers]`` from ciyuan.toml.
Out: ``Catalog`` (look up a model by id or alias; the model → tokenizer mapping that
``ciyuan.measure`` uses). Prices live in ``ciyuan.price``.
"""

from ciyuan.catalog.models import Catalog, ModelInfo, ProviderInfo, load_catalog

__all__ = ["Catalog", "ModelInfo", "ProviderInfo", "load_catalog"]
