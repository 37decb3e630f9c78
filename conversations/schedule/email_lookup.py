"""Finding imported people by their work email, in the background.

A platform allows only so many lookups (Slack ``users.lookupByEmail``: Tier 3, about 50 a minute),
so a survey of a few hundred people takes minutes: far longer than the 3 seconds a request may
take. The import leaves its rows ``pending``; this worker takes a slice at a time, asks the
platform's :class:`~conversations.ports.directory.Directory` (which paces itself), and records the
results in one short transaction per slice. When a batch has none left, the coordinator is sent
the preview (:func:`conversations.flows.survey_import.finish`). Nothing is held open while the
platform is asked, and a restart carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from conversations.flows import survey_import
from conversations.flows.context import Ctx
from conversations.ports.directory import Directory
from conversations.ports.messenger import DeliveryError

log = logging.getLogger(__name__)

SLICE = 50  # lookups per transaction: about a minute of Slack's Tier 3

Run = Callable[[Callable[[Ctx], Any]], Any]  # Engine.run


class EmailLookups:
    def __init__(self, run: Run, directories: Mapping[str, Directory], *, slice_size: int = SLICE) -> None:
        self.run = run
        self.directories = dict(directories)
        self.slice_size = slice_size
        self.looked_up = 0

    async def step(self) -> int:
        """Look up one slice; how many rows were settled (0: nothing waiting)."""
        platforms = list(self.directories)
        todo = self.run(lambda ctx: survey_import.next_lookups(ctx, platforms, self.slice_size))
        if not todo:
            return 0
        batch_id, platform = todo[0][0], todo[0][2]
        directory = self.directories[platform]
        results: dict[int, tuple[str, str]] = {}
        for _batch, row_id, _platform, workspace, email in todo:
            try:
                person = await directory.find_by_email(workspace, email)
            except DeliveryError as error:
                if error.retryable:  # asked to wait: keep what we have, the rest stay pending
                    log.info("email lookups paused %.1fs (%s)", error.retry_after or 1.0, error.code)
                    await asyncio.sleep(min(error.retry_after or 1.0, 60.0))
                    break
                results[row_id] = ("", f"couldn't be looked up ({error.code})")
                continue
            results[row_id] = (person.user_id, "") if person else ("", "")
        if results:
            self.run(lambda ctx: survey_import.record_lookups(ctx, batch_id, results, platform))
            self.looked_up += len(results)
        return len(results) or 1  # a pause still counts as work to come back to

    async def drain(self) -> int:
        """Until nothing is waiting (tests, the CLI and benchmarks); how many rows were settled."""
        before = self.looked_up
        while await self.step():
            pass
        return self.looked_up - before

    async def run_forever(self, idle_seconds: float = 2.0) -> None:
        while True:
            try:
                busy = await self.step()
            except Exception:  # keep the loop alive; the rows stay pending and are tried again
                log.exception("email lookups failed")
                busy = 0
            if not busy:
                await asyncio.sleep(idle_seconds)
