"""Wait for a journaled row without blocking the reactor.

``session.accept_grouped(dataset, row)`` returns a :class:`concurrent.futures.Future` that the
journal's group commit (``storage/groupcommit.py``) completes from its own thread once the
row's batch is fsynced. :func:`durable` awaits it from an item pipeline's ``async def
process_item``: in an asyncio task (Scrapy's default asyncio reactor, or ``asyncio.run`` in a
test) through the loop, otherwise through a Deferred fired in the reactor thread. A batch that
could not be made durable raises :class:`storage.errors.NotDurable` here, counted in the
``archive/journal_failed`` stat: the item fails and is never acknowledged.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

from storage.errors import NotDurable


def _in_asyncio_task() -> bool:
    try:
        return asyncio.current_task() is not None
    except RuntimeError:  # no running loop: a Twisted reactor other than asyncio's
        return False


def _wake(waiter) -> None:
    if not waiter.done():  # (an asyncio waiter cancelled meanwhile)
        waiter.set_result(None)


def _call_in_reactor(fn, *args) -> None:
    from twisted.internet import reactor

    reactor.callFromThread(fn, *args)


def _fire(waiter) -> None:
    if not waiter.called:  # (a Deferred cancelled meanwhile)
        waiter.callback(None)


async def durable(ticket: Future, stats=None) -> None:
    """Return once ``ticket``'s rows are durable; raise ``NotDurable`` (counted) if they cannot be."""
    if not ticket.done():
        if _in_asyncio_task():
            loop = asyncio.get_running_loop()
            waiter = loop.create_future()
            ticket.add_done_callback(lambda _: loop.call_soon_threadsafe(_wake, waiter))
        else:
            from twisted.internet.defer import Deferred

            waiter = Deferred()
            ticket.add_done_callback(lambda _: _call_in_reactor(_fire, waiter))
        await waiter
    try:
        ticket.result()
    except NotDurable:
        if stats is not None:
            stats.inc_value("archive/journal_failed")
        raise
