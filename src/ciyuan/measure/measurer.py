"""The measurer: native and standard token counts of text for any catalog model."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from ciyuan.catalog.models import Catalog, ModelInfo
from ciyuan.core.language import LanguageClass
from ciyuan.core.measurement import STANDARD_ENCODING, Measurement
from ciyuan.measure.backends import Tokenizer
from ciyuan.measure.language import detect_language
from ciyuan.measure.registry import TokenizerRegistry
from ciyuan.measure.stream import StreamCounter, Utf8Stream, safe_chunks

__all__ = ["BATCH_CHUNK_CHARS", "Measurer"]

#: Piece size when one large text is counted on several threads.
BATCH_CHUNK_CHARS = 256 * 1024
#: Language detection looks at this much of a stream.
LANGUAGE_SAMPLE_CHARS = 64_000


class Measurer:
    """Counts content for catalog models; one per process, shared across threads."""

    def __init__(self, catalog: Catalog, registry: TokenizerRegistry, threads: int = 1) -> None:
        self.catalog = catalog
        self.registry = registry
        self.threads = max(1, threads)

    # -- lookups -------------------------------------------------------------------------
    def model(self, name: str) -> ModelInfo:
        return self.catalog.get(name)

    def tokenizer_for(self, model: ModelInfo) -> Tokenizer:
        return self.registry.get(model.tokenizer)

    @property
    def standard(self) -> Tokenizer:
        return self.registry.get(STANDARD_ENCODING)

    # -- counting ------------------------------------------------------------------------
    def count_tokens(self, text: str, tokenizer: Tokenizer, threads: int | None = None) -> int:
        """Tokens of ``text``; large texts are cut at safe boundaries and counted on
        ``threads`` threads (same total as one call)."""
        threads = self.threads if threads is None else threads
        if threads <= 1 or len(text) < 2 * BATCH_CHUNK_CHARS:
            return tokenizer.count(text)
        return sum(tokenizer.count_many(safe_chunks(text, BATCH_CHUNK_CHARS), threads))

    def count(self, text: str, model: str) -> Measurement:
        """One model's measurement of ``text``."""
        return self.count_models(text, [model])[0]

    def count_models(self, text: str, models: Sequence[str]) -> list[Measurement]:
        infos = [self.model(m) for m in models]  # unknown names fail before any work
        language = detect_language(text)
        standard = self.count_tokens(text, self.standard)
        size = len(text.encode("utf-8", "surrogatepass"))
        out: list[Measurement] = []
        for info in infos:
            tokenizer = self.tokenizer_for(info)
            if info.tokenizer == STANDARD_ENCODING:
                native = standard
            else:
                native = self.count_tokens(text, tokenizer)
            out.append(
                Measurement(
                    model=info.id,
                    tokenizer=info.tokenizer,
                    native_tokens=native,
                    standard_tokens=standard,
                    method="counted" if tokenizer.exact else "estimated",
                    language_class=language,
                    characters=len(text),
                    bytes=size,
                )
            )
        return out

    def count_stream(
        self,
        blocks: Iterable[bytes],
        models: Sequence[str],
        errors: str = "strict",
        progress: Callable[[int], None] | None = None,
    ) -> list[Measurement]:
        """Count a byte stream (a file, stdin) in bounded memory for several models at once.

        Each block is decoded once and fed to one counter per distinct tokenizer; counters
        run on a thread pool (tokenizers release the GIL).
        """
        infos = [self.model(m) for m in models]
        names = list(dict.fromkeys([STANDARD_ENCODING, *(i.tokenizer for i in infos)]))
        counters = {n: StreamCounter(self.registry.get(n)) for n in names}
        utf8 = Utf8Stream(errors)
        sample: list[str] = []
        sampled = 0
        with ThreadPoolExecutor(max_workers=min(self.threads, len(counters))) as pool:
            for block in blocks:
                text = utf8.decode(block)
                if sampled < LANGUAGE_SAMPLE_CHARS:
                    sample.append(text[: LANGUAGE_SAMPLE_CHARS - sampled])
                    sampled += len(sample[-1])
                list(pool.map(StreamCounter.feed, counters.values(), [text] * len(counters)))
                if progress:
                    progress(len(block))
            tail = utf8.decode(b"", final=True)
            totals = dict(
                zip(
                    counters,
                    pool.map(lambda c: (c.feed(tail), c.finish())[1], counters.values()),
                    strict=True,
                )
            )
        language: LanguageClass = detect_language("".join(sample))
        chars = counters[STANDARD_ENCODING].characters
        return [
            Measurement(
                model=info.id,
                tokenizer=info.tokenizer,
                native_tokens=totals[info.tokenizer],
                standard_tokens=totals[STANDARD_ENCODING],
                method="counted" if self.registry.is_exact(info.tokenizer) else "estimated",
                language_class=language,
                characters=chars,
                bytes=utf8.bytes_seen,
            )
            for info in infos
        ]
