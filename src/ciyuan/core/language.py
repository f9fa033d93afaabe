"""Language classes used by exchange rates and statistics."""

from typing import Literal, get_args

LanguageClass = Literal["zh", "en", "code", "mixed"]
LANGUAGE_CLASSES: tuple[LanguageClass, ...] = get_args(LanguageClass)

__all__ = ["LANGUAGE_CLASSES", "LanguageClass"]
