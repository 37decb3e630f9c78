"""The conversation engine: one entry point for every interaction, from any platform.

``handle`` finds the interaction's route in one table built from every feature's ``ROUTES``
(:mod:`conversations.catalogue`), checks who may run it and resolves the ids it carries
(:func:`conversations.flows.lookup.prepare`), and runs its handler in one unit of work: the change
and the messages it causes (in the outbox) commit together, or not at all. A :class:`Refusal`
becomes a polite reply and rolls back. Nothing here awaits the network; the
:class:`~conversations.delivery.sender.Sender` does that. This module names no feature.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from conversations.core.clock import Clock
from conversations.core.interactions import (
    RUN_COMMAND,
    ButtonPressed,
    ChatKind,
    CommandInvoked,
    FormErrors,
    FormSubmitted,
    Interaction,
    NoReply,
    Outcome,
    Reply,
    RunIn,
)
from conversations.core.model import OutboxItem
from conversations.core.routes import (
    ButtonRoute,
    EventRoute,
    FormRoute,
    InSlices,
    InTransactions,
    Lane,
    Parsed,
    Route,
    RouteTable,
    Unknown,
)
from conversations.core.views import Message
from conversations.flows.context import Ctx, Refusal, admin_key
from conversations.flows.lookup import prepare
from conversations.ports.messenger import Capabilities, DeliveryError
from conversations.ports.store import UnitOfWorkFactory

log = logging.getLogger(__name__)
T = TypeVar("T")

RECONCILE_SLICE = 250  # groups per transaction in scheduled work and cohort-wide commands
OUTBOX_RETENTION = timedelta(days=30)  # sent posts keep their content this long (for support)
MEMBER_LANE = Lane.MEMBER.value
COORDINATOR_LANE = Lane.COORDINATOR.value


class Engine:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        clock: Clock,
        seed: int = 0,
        capabilities: Mapping[str, Capabilities] | None = None,
        admins: Iterable[str] = (),
        on_queued: Callable[[], None] | None = None,
        routes: RouteTable | None = None,
    ) -> None:
        from conversations import catalogue  # the features, wired in one place

        self.uow_factory = uow_factory
        self.clock = clock
        self.seed = seed
        self.capabilities = dict(capabilities or {})
        self.admins = check_admins(admins)
        self.on_queued = on_queued  # wakes the sender after a commit
        self.routes = routes if routes is not None else catalogue.table()
        self.hooks = catalogue.hooks()

    # ---- the one entry point for people ---------------------------------------------------

    def handle(self, interaction: Interaction) -> Outcome:
        found = self._route(interaction)
        try:
            outcome = self.run(functools.partial(self._call, interaction, found))
            if isinstance(outcome, InSlices):
                return Reply(self._in_slices(outcome))
            if isinstance(outcome, InTransactions):
                result = outcome.work(self.run)
                return Reply(result) if isinstance(result, Message) else result
            return outcome
        except Refusal as refusal:
            if isinstance(interaction, FormSubmitted):
                field = found.error_field if isinstance(found, FormRoute) else "_form"
                return FormErrors({field: str(refusal)})
            return Reply(Message.simple(str(refusal)))

    def handle_many(self, interactions: Sequence[Interaction], run_in: RunIn | None = None) -> list[Any]:
        """What :meth:`handle` would answer each, run one after another, sharing one unit of work
        and one commit where they can (a group commit: at saturation a queue of clicks pays for the
        session and the commit once). The first that cannot share it (refused, a form with errors,
        work of its own in slices, a failure) undoes the shared unit of work: those before it run
        together again, it runs alone through :meth:`handle`, and the rest carry on together. A
        failure is returned in its place, not raised. ``run_in(i, work)`` runs the i-th
        interaction's work (in its caller's context, say); the default runs it here."""
        out: list[Any] = [None] * len(interactions)
        self._many(list(range(len(interactions))), interactions, run_in or _here, out)
        return out

    def _many(
        self, ids: list[int], interactions: Sequence[Interaction], run_in: RunIn, out: list[Any]
    ) -> None:
        while ids:
            if len(ids) == 1:
                out[ids[0]] = self._alone(ids[0], interactions, run_in)
                return
            stopped = self._together(ids, interactions, run_in, out)
            if stopped is None:
                return
            if stopped < 0:  # the shared commit failed: nothing of it stands
                for i in ids:
                    out[i] = self._alone(i, interactions, run_in)
                return
            self._many(ids[:stopped], interactions, run_in, out)  # undone with it: again, together
            out[ids[stopped]] = self._alone(ids[stopped], interactions, run_in)
            ids = ids[stopped + 1 :]

    def _together(
        self, ids: list[int], interactions: Sequence[Interaction], run_in: RunIn, out: list[Any]
    ) -> int | None:
        """Run ``ids`` in one unit of work and commit: None when all did; the position of the first
        that could not share it (everything undone); -1 when the commit itself failed."""
        outcomes: list[Any] = []
        with self.uow_factory() as uow:
            for position, i in enumerate(ids):
                interaction = interactions[i]
                if position:
                    try:
                        uow.fresh()  # each reads the database as if alone, seeing those before it
                    except Exception:  # writing what those before changed failed: each runs alone
                        uow.rollback()
                        return -1
                ctx = Ctx(uow, self.clock.now(), self.seed, self.capabilities, self.admins, self.routes)
                try:
                    outcome = run_in(
                        i, functools.partial(self._call, interaction, self._route(interaction), ctx)
                    )
                except Exception:  # a refusal or a failure: run alone, it gets the answer handle gives
                    uow.rollback()
                    return position
                if isinstance(outcome, FormErrors | InSlices | InTransactions):
                    uow.rollback()
                    return position
                outcomes.append(outcome)
            try:
                uow.commit()
            except Exception as error:  # its type only: a database's message may quote what people wrote
                log.warning("a shared commit of %d interactions failed (%s); each runs alone",
                            len(ids), type(error).__name__)  # fmt: skip
                return -1
            queued = uow.outbox.queued
        for i, outcome in zip(ids, outcomes, strict=True):
            out[i] = outcome
        if queued and self.on_queued is not None:
            self.on_queued()
        return None

    def _alone(self, i: int, interactions: Sequence[Interaction], run_in: RunIn) -> Any:
        try:
            return run_in(i, functools.partial(self.handle, interactions[i]))
        except Exception as error:
            return error

    def lane(self, interaction: Interaction) -> str:
        """Which queue an interaction should wait in, so slow work never holds up quick work;
        declared on its route (decided without the database)."""
        route = self._route(interaction)
        if isinstance(route, Parsed):
            route = route.route
        if isinstance(route, Unknown | None):
            return MEMBER_LANE
        admin = admin_key(interaction.actor.ref) in self.admins or interaction.actor.ref.key in self.admins
        lane = route.admin_lane if admin and route.admin_lane is not None else route.lane
        return lane.value

    def run(self, work: Callable[[Ctx], T]) -> T:
        """Run ``work`` in one unit of work and commit it; used by handle, the CLI and scheduled jobs."""
        with self.uow_factory() as uow:
            ctx = Ctx(uow, self.clock.now(), self.seed, self.capabilities, self.admins, self.routes)
            result = work(ctx)
            if isinstance(result, FormErrors):
                uow.rollback()  # a rejected form changes nothing
                queued = 0
            else:
                uow.commit()
                queued = uow.outbox.queued
        if queued and self.on_queued is not None:
            self.on_queued()
        return result

    def _route(self, interaction: Interaction) -> Route | Parsed | Unknown | None:
        """The route for an interaction: typed words (and a button that runs some) are parsed once, here."""
        match interaction:
            case CommandInvoked(text=text):
                return self.routes.parse(text)
            case ButtonPressed(action_id=action_id, value=value) if action_id == RUN_COMMAND:
                return self.routes.parse(value)
            case ButtonPressed(action_id=action_id):
                return self.routes.buttons.get(action_id)
            case FormSubmitted(form_id=form_id):
                return self.routes.forms.get(form_id)
        return self.routes.events.get(type(interaction))

    def _call(self, interaction: Interaction, found: Route | Parsed | Unknown | None, ctx: Ctx) -> Any:
        actor = interaction.actor
        match found:
            case Parsed(route=route, args=args, options=options):
                call = prepare(ctx, route, actor, interaction, args=args, options=options)
            case Unknown():
                chat = interaction.chat if isinstance(interaction, CommandInvoked) else ChatKind.DIRECT
                return self.hooks.unknown(ctx, actor, found, chat)
            case ButtonRoute():
                value = interaction.value if isinstance(interaction, ButtonPressed) else ""
                call = prepare(ctx, found, actor, interaction, raw=value)
            case FormRoute():
                assert isinstance(interaction, FormSubmitted)
                call = prepare(
                    ctx, found, actor, interaction, raw=interaction.state, values=interaction.values
                )
            case EventRoute():
                call = prepare(ctx, found, actor, interaction)
            case _:
                if isinstance(interaction, FormSubmitted):
                    return FormErrors({"_form": "This form is out of date; please start again."})
                return NoReply()
        result = call.route.handler(call)
        return Reply(result) if isinstance(result, Message) else result

    def _in_slices(self, job: InSlices) -> Message:
        """A cohort-wide command done a slice of groups per transaction (as :meth:`reconcile`),
        so a national cohort holds no write lock for long; ``job.finish`` reports, in one more."""
        done: list[int] = []
        failed: list[int] = []
        results: list[Any] = []
        for part, result, ok in self._sliced(job.ids, job.size or RECONCILE_SLICE, job.each, job.what):
            (done if ok else failed).extend(part)
            if ok:
                results.append(result)
        return self.run(lambda ctx: job.finish(ctx, results, failed))

    # ---- delivery failures -------------------------------------------------------------------

    def delivery_failed(self, item: OutboxItem, error: DeliveryError) -> None:
        """A post could not be delivered for good: mark unreachable people and tell coordinators."""
        self.run(lambda ctx: self.hooks.delivery_failed(ctx, item, error))

    # ---- scheduled and operator work -------------------------------------------------------

    def periodic(self) -> dict[str, int]:
        """The features' workspace-wide jobs (reminders, introductions...), each in its own unit of
        work, so one failing never holds back the others; how much each did."""
        done: dict[str, int] = {}
        for name, job in self.hooks.periodic:
            try:
                done[name] = self.run(job)
            except Exception:
                log.exception("periodic job %r failed; the others go on", name)
                done[name] = -1
        return done

    def scrub_outbox(self, older_than: timedelta = OUTBOX_RETENTION, batch: int = 1000) -> int:
        """Remove the content of posts sent longer ago than ``older_than`` (letters quoted to a
        partner, names), ``batch`` rows per transaction; how many were scrubbed."""
        total = 0
        while True:
            scrubbed = self.run(lambda ctx: ctx.uow.outbox.scrub_sent(ctx.now - older_than, batch))
            total += scrubbed
            if scrubbed < batch:
                return total

    def reconcile(self, cohort_id: int, *, post_only: bool = False, slice_size: int = RECONCILE_SLICE) -> Any:
        """What is due for a cohort now (the schedule's tick; only the period's task with
        ``post_only``), a slice of ``slice_size`` groups per transaction: no write lock is held
        for long, whatever the cohort's size, and a group that fails holds back no other slice.
        None if the cohort does not exist."""
        ids = self.run(
            lambda ctx: ctx.uow.matches.active_ids(cohort_id) if ctx.uow.cohorts.get(cohort_id) else None
        )
        if ids is None:
            return None
        tick = self.hooks.tick

        def work(ctx: Ctx, part: list[int]) -> Any:
            cohort = ctx.uow.cohorts.get(cohort_id)
            return None if cohort is None else tick(ctx, cohort, part, post_only)

        total = self.hooks.new_report()
        for part, report, ok in self._sliced(ids, slice_size, work, f"cohort {cohort_id}"):
            if not ok:
                total.failed_groups += part
            elif report is None:
                return total  # the cohort was deleted meanwhile
            else:
                total.add(report)
        return total

    def _sliced(
        self, ids: list[int], size: int, work: Callable[[Ctx, list[int]], T], what: str
    ) -> Iterator[tuple[list[int], T | None, bool]]:
        """``work`` over ``ids``, ``size`` of them per unit of work: (slice, result, succeeded).
        A slice that fails is logged and rolled back; the other slices go on."""
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            try:
                result = self.run(functools.partial(_on_slice, work, part))
            except Exception:
                log.exception("%s: groups %s to %s failed; the other slices go on", what, part[0], part[-1])
                yield part, None, False
                continue
            yield part, result, True

    def import_csv(self, cohort_name: str, text: str, skip_invalid: bool = False) -> Any:
        return self.run(lambda ctx: self.hooks.import_csv(ctx, cohort_name, text, skip_invalid))


def _here(_i: int, work: Callable[[], T]) -> T:
    return work()


def _on_slice(work: Callable[[Ctx, list[int]], T], part: list[int], ctx: Ctx) -> T:
    return work(ctx, part)


def check_admins(admins: Iterable[str]) -> frozenset[str]:
    """Administrators are ``WORKSPACE:USER`` (a Slack team id or Teams tenant id, then the user's
    id): a bare user id could be anyone's in another workspace, so it stops start-up."""
    admins = frozenset(a.strip() for a in admins if a.strip())
    bare = sorted(a for a in admins if ":" not in a)
    if bare:
        raise ValueError(
            "BUDDY_ADMINS must name each administrator with their workspace or tenant, like T0123:U0456 "
            f"(Slack team id, then member id); these have none: {', '.join(bare)}."
        )
    return admins
