"""The ledger writes of one event-loop turn, submitted as one batch.

Each metered call writes the ledger twice (its reservation before the upstream call, its
settlement after), one or a few transfers each time, and every submit has a cost of its own
besides its transfers': on PostgreSQL at least one round trip to the server, during which
the event loop waits; on SQLite the write block, three statements and the engine's set-up.
So the writes the calls of one loop turn ask for are gathered and submitted together: the
first one asks the loop for a flush (``call_soon``), every write asked for before the flush
runs joins it, and each caller gets its own transfers' results. Measured in-process, 16
calls at a time: on PostgreSQL ~10 transfers a submit and 0.6-0.7x the time a call; on
SQLite ~4 transfers a submit and a gain within the noise (docs/performance.md).

What stays as it was: each call's transfers are one linked chain, all-or-nothing by itself,
and a chain sees the transfers before it in the batch as a later submit would (so budgets
never overshoot: a reservation that does not fit after the others of its turn is refused).
If the batch's submit raises (a bug, a store error), each write is submitted again on its
own, so the error reaches only the call whose write causes it. A write must close its own
chain (its last transfer not ``LINKED``): an open one would take the next call's write into
it, so it is refused before it joins the turn.

Cancellation: a write cancelled before the flush is not made. A write the flush has made is
never lost to a cancellation that reaches its task before the task runs again: ``submit``
hands back its results all the same and the cancellation is raised at the caller's next
``await`` instead (else a reservation could be held with nobody left to settle or release
it, or a settlement posted with its usage record never completed).

Bound: ``TURN_BATCH_TRANSFERS`` transfers a submit; a busier turn flushes in several.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from ciyuan.ledger import Result, Transfer, TransferFlags

__all__ = ["TURN_BATCH_TRANSFERS", "LedgerTurn"]

#: Most transfers in one submit of a turn (a call's write is never split between two).
TURN_BATCH_TRANSFERS = 512

_Submit = Callable[[Sequence[Transfer]], list[Result]]
_Write = tuple[Sequence[Transfer], "asyncio.Future[list[Result]]"]


class LedgerTurn:
    """Gathers the submits of one loop turn (see the module docstring); one per process
    and ledger store, used from the event loop's thread only."""

    def __init__(self, submit: _Submit, max_transfers: int = TURN_BATCH_TRANSFERS) -> None:
        assert max_transfers > 0
        self._submit = submit
        self._max = max_transfers
        self._waiting: list[_Write] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        #: submits made and transfers in them (for tests and the benchmarks' notes)
        self.submits = 0
        self.transfers = 0

    async def submit(self, transfers: Sequence[Transfer]) -> list[Result]:
        """The results of ``transfers`` (one per transfer, in order), submitted with the
        other writes of this turn."""
        if not transfers:
            return []
        if transfers[-1].flags & TransferFlags.LINKED:
            raise ValueError(f"transfer {transfers[-1].id!r} leaves its write's linked chain "
                             "open: a write's last transfer must not be LINKED")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests run several): nothing carries over
            self._loop, self._waiting = loop, []
        if not self._waiting:
            loop.call_soon(self._flush)
        future: asyncio.Future[list[Result]] = loop.create_future()
        self._waiting.append((transfers, future))
        try:
            return await future
        except asyncio.CancelledError as cancelled:
            if not future.done() or future.cancelled() or future.exception() is not None:
                raise  # not made (cancelled before the flush), or failed: nothing to hand back
            task = asyncio.current_task()
            assert task is not None
            # made, then cancelled before this task ran again: keep the write's results and
            # let the same cancellation (one request, as counted by Task.cancelling) land
            # at the caller's next await
            task.uncancel()
            task.cancel(cancelled.args[0] if cancelled.args else None)
            return future.result()

    def _flush(self) -> None:
        # a caller cancelled before the flush (a server shutting down) makes no write
        waiting = [w for w in self._waiting if not w[1].done()]
        self._waiting = []
        batch: list[_Write] = []
        size = 0
        for write in waiting:
            if batch and size + len(write[0]) > self._max:
                self._run(batch)
                batch, size = [], 0
            batch.append(write)
            size += len(write[0])
        if batch:
            self._run(batch)

    def _run(self, batch: list[_Write]) -> None:
        try:
            results = self._call([t for transfers, _ in batch for t in transfers])
        except Exception as error:  # noqa: BLE001 - handed to the caller, who raises it
            if len(batch) > 1:  # each write on its own: the error finds its call
                for write in batch:
                    self._run([write])
            elif not batch[0][1].done():
                batch[0][1].set_exception(error)
            return
        start = 0
        for transfers, future in batch:
            end = start + len(transfers)
            if not future.done():
                future.set_result(results[start:end])
            start = end

    def _call(self, transfers: Sequence[Transfer]) -> list[Result]:
        self.submits += 1
        self.transfers += len(transfers)
        return self._submit(transfers)
