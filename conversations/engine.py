"""The conversation engine: one entry point for every interaction, from any platform.

``handle`` runs one interaction in one unit of work: the change and the messages it causes (in
the outbox) commit together, or not at all. A :class:`Refusal` becomes a polite reply and rolls
back. Nothing here awaits the network; the :class:`~conversations.delivery.sender.Sender` does that.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TypeVar

from conversations.core.clock import Clock
from conversations.core.grammar import Command, UnknownCommand, parse
from conversations.core.interactions import (
    RUN_COMMAND,
    Actor,
    ButtonPressed,
    CommandInvoked,
    FileShared,
    FormErrors,
    FormSubmitted,
    HomeOpened,
    Installed,
    Interaction,
    MemberJoined,
    NoReply,
    Outcome,
    Reply,
    ShowHome,
)
from conversations.core.markup import escape
from conversations.core.model import Cohort, OutboxItem
from conversations.core.refs import UserRef
from conversations.core.views import Actions, Button, Message, Section
from conversations.delivery.outbox import queue, to_user
from conversations.flows import (
    assignments,
    cohort_settings,
    coordination,
    csv_import,
    failures,
    matchmaking,
    overview,
    registration,
)
from conversations.flows.context import Ctx, Refusal
from conversations.ports.messenger import Capabilities, DeliveryError
from conversations.ports.store import UnitOfWorkFactory
from conversations.schedule import cadence, nudging

log = logging.getLogger(__name__)
T = TypeVar("T")

RECONCILE_SLICE = 250  # groups per transaction in scheduled work
OUTBOX_RETENTION = timedelta(days=30)  # sent posts keep their content this long (for support)
MEMBER_LANE = "member"
COORDINATOR_LANE = "coordinator"
COORDINATOR_BUTTONS = frozenset(
    {"match_confirm", "match_preview", "rematch", "cohort_import", "cohort_export", *failures.SETTLE_ACTIONS}
)


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
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.seed = seed
        self.capabilities = dict(capabilities or {})
        self.admins = frozenset(admins)
        self.on_queued = on_queued  # wakes the sender after a commit

    # ---- the one entry point for people ---------------------------------------------------

    def handle(self, interaction: Interaction) -> Outcome:
        # Typed words (and a button that runs some) are parsed once, here.
        words = _command_words(interaction)
        command = parse(words) if words is not None else None

        def run(ctx: Ctx) -> Outcome:
            if command is not None:
                return self._command(ctx, interaction.actor, command)
            return self._dispatch(ctx, interaction)

        try:
            if isinstance(command, Command) and command.name == "task send":  # a slice at a time
                return Reply(self._task_send(interaction.actor.ref, command))
            return self.run(run)
        except Refusal as refusal:
            if isinstance(interaction, FormSubmitted):
                return FormErrors({"_form": str(refusal)})
            return Reply(Message.simple(str(refusal)))

    def lane(self, interaction: Interaction) -> str:
        """Which queue an interaction should wait in, so slow work never holds up quick work:
        ``coordinator`` for coordinator commands and buttons, and for an admin's status and home
        (they may scan whole cohorts); ``member`` for everything else. Decided without the
        database, so a cohort coordinator who is not an admin has their status in ``member``."""
        admin = interaction.actor.ref.key in self.admins or interaction.actor.ref.user_id in self.admins

        def of_command(text: str) -> str:
            command = parse(text)
            heavy = isinstance(command, Command) and (
                command.spec.coordinator or (admin and command.name == "status")
            )
            return COORDINATOR_LANE if heavy else MEMBER_LANE

        match interaction:
            case CommandInvoked(text=text):
                return of_command(text)
            case ButtonPressed(action_id=action_id, value=value) if action_id == RUN_COMMAND:
                return of_command(value)
            case ButtonPressed(action_id=action_id) if action_id in COORDINATOR_BUTTONS or (
                admin and action_id == "status"
            ):
                return COORDINATOR_LANE
            case HomeOpened() if admin:
                return COORDINATOR_LANE
            case FormSubmitted(form_id=csv_import.FORM_ID) | FileShared():
                return COORDINATOR_LANE
        return MEMBER_LANE

    def run(self, work: Callable[[Ctx], T]) -> T:
        """Run ``work`` in one unit of work and commit it; used by handle, the CLI and scheduled jobs."""
        with self.uow_factory() as uow:
            ctx = Ctx(uow, self.clock.now(), self.seed, self.capabilities, self.admins)
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

    def _dispatch(self, ctx: Ctx, interaction: Interaction) -> Outcome:
        actor = interaction.actor
        match interaction:
            case ButtonPressed(action_id=action_id, value=value):
                return self._button(ctx, actor, action_id, value)
            case FormSubmitted(form_id=form_id, state=state, values=values):
                return self._form(ctx, actor, form_id, state, dict(values))
            case HomeOpened():
                return ShowHome(overview.home(ctx, actor.ref))
            case MemberJoined(channel=channel):
                return self._welcome(ctx, actor, channel.conversation_id)
            case FileShared(filename=filename, text=text, caption=caption):
                return csv_import.shared_file(ctx, actor.ref, filename, text, caption)
            case Installed():
                intro = ("Hello! I'm Buddy: I pair clinicians with managers so each learns how the other side "
                         "works, with a short task each week. Here's what I can do:")  # fmt: skip
                return Reply(overview.help_message(ctx, actor.ref, intro=intro))
        return NoReply()

    # ---- commands -------------------------------------------------------------------------

    def _command(self, ctx: Ctx, actor: Actor, command: Command | UnknownCommand) -> Outcome:
        user = actor.ref
        if isinstance(command, UnknownCommand):
            return Reply(
                overview.help_message(ctx, user, intro=f"{escape(command.reason)} Here's what I understand:")
            )
        name, args, options = command.name, command.args, command.options
        if command.spec.coordinator and name != "cohort create":
            cohort = ctx.cohort_for_coordinator(user, options.get("cohort"))
            if name == "import":
                return csv_import.start(cohort)
            return Reply(self._coordinator_command(ctx, user, cohort, command))
        match name:
            case "help":
                return Reply(overview.help_message(ctx, user))
            case "join":
                return registration.start_join(ctx, actor, " ".join(args) or options.get("cohort"))
            case "profile":
                return registration.start_profile(ctx, actor)
            case "pause":
                return registration.pause(ctx, actor)
            case "resume":
                return registration.resume(ctx, actor)
            case "leave":
                return registration.leave(ctx, actor)
            case "status":
                return Reply(overview.status_message(ctx, user))
            case "community":
                return Reply(overview.community(ctx, user))
            case "task":
                return self._current_task(ctx, actor)
            case "rematch":
                return Reply(self._self_rematch(ctx, actor))
            case "cohort create":
                return Reply(coordination.create_cohort(ctx, user, args, options))
        raise Refusal(f"`{name}` isn't available yet.")

    def _coordinator_command(self, ctx: Ctx, user: UserRef, cohort: Cohort, command: Command) -> Message:
        args, mentions = command.args, command.mentions
        match command.name:
            case "cohort list":
                return coordination.list_cohorts(ctx)
            case "cohort open" | "cohort close":
                return coordination.set_registration(ctx, user, cohort, command.name == "cohort open")
            case "coordinator add":
                return coordination.add_coordinator(ctx, user, cohort, mentions)
            case "cohort settings":
                return cohort_settings.show(cohort)
            case "cohort set":
                return cohort_settings.apply(ctx, user, cohort, command.options, args)
            case "community add":
                return cohort_settings.add_channel(ctx, user, cohort, args)
            case "community remove":
                return cohort_settings.remove_channel(ctx, user, cohort, args)
            case "event add":
                return cohort_settings.add_event(ctx, user, cohort, args)
            case "event remove":
                return cohort_settings.remove_event(ctx, user, cohort, args)
            case "event announce":
                return cohort_settings.announce_event(ctx, user, cohort, args)
            case "match preview":
                return matchmaking.preview(ctx, cohort, user.key)
            case "match swap":
                return matchmaking.swap(ctx, cohort, mentions)
            case "match lock":
                return matchmaking.lock(ctx, cohort, args)
            case "match exclude":
                return matchmaking.exclude(ctx, cohort, mentions, user.key)
            case "match confirm":
                return matchmaking.confirm(ctx, cohort, user)
            case "task list":
                tasks = ctx.uow.tasks.all()
                lines = [
                    f"- `{t.key}`: **{escape(t.title)}** ({t.minutes} min, due in {t.due_days} days)"
                    for t in tasks
                ]
                return Message("Task bank", (Section("**Task bank**\n" + "\n".join(lines)),))
            case "nudge":
                report = nudging.sweep(ctx, cohort)
                ctx.audit(cohort, user, "nudge", pair=report.pair, individual=report.individual,
                          coordinator=report.coordinator)  # fmt: skip
                return Message.simple(
                    f"Nudged {report.pair} quiet groups and {report.individual} quiet people; "
                    f"{report.coordinator} alerts to coordinators."
                )
            case "export":
                return self._export(ctx, user, cohort)
            case "digest":
                return coordination.digest(ctx, user, cohort)
            case "status":
                return coordination.cohort_status(ctx, cohort)
            case "cadence":
                return cadence.command(ctx, user, cohort, args)
            case "cadence skip":
                return cadence.skip(ctx, user, cohort, args)
            case "cohort pause" | "cohort resume":
                return cadence.set_paused(ctx, user, cohort, command.name == "cohort pause")
        raise Refusal(f"`{command.name}` isn't available yet.")

    def _current_task(self, ctx: Ctx, actor: Actor) -> Outcome:
        participant = ctx.participant(actor.ref)
        if participant is None:
            raise Refusal("You're not registered yet: use `join` to sign up.")
        assignment = assignments.current_assignment(ctx, participant)
        if assignment is None:
            raise Refusal("You don't have a task yet: it arrives once you've been matched.")
        return assignments.open_form(ctx, participant, str(assignment.id))

    def _self_rematch(self, ctx: Ctx, actor: Actor) -> Message:
        participant = ctx.participant(actor.ref)
        match = ctx.uow.matches.active_for(participant.id) if participant and participant.id else None
        if participant is None or match is None:
            raise Refusal("You don't have a buddy at the moment, so there's no one to re-match.")
        assignment = ctx.uow.assignments.latest(match.id)
        alerted = {n.participant_id for n in ctx.uow.nudges.for_assignment(assignment.id) if n.level == "coordinator"} \
            if assignment else set()  # fmt: skip
        quiet = [m for m in ctx.uow.matches.members(match.id) if m.id in alerted and m.id != participant.id]
        if not quiet:
            raise Refusal("You can ask for a new buddy once yours has been quiet long enough for me to alert the "
                          "coordinators. If something else is wrong, please talk to a coordinator.")  # fmt: skip
        outcomes = matchmaking.rematch(ctx, match, quiet)
        ctx.audit(
            ctx.uow.cohorts.get(match.cohort_id), actor.ref, "rematch_self", match=match.id, outcomes=outcomes
        )
        return Message.simple("Done: " + "; ".join(escape(o) for o in outcomes) + ".")

    # ---- buttons and forms ------------------------------------------------------------------

    def _button(self, ctx: Ctx, actor: Actor, action_id: str, value: str) -> Outcome:
        user = actor.ref
        if action_id in ("join", "profile", "pause", "resume", "community", "status", "help"):
            return self._command(ctx, actor, parse(action_id))
        if action_id == "respond":
            participant = ctx.participant(user)
            if participant is None:
                raise Refusal("You're not registered in this scheme any more.")
            return assignments.open_form(ctx, participant, value)
        if action_id == "match_confirm":
            proposal_cohort = self._cohort_of_proposal(ctx, value)
            cohort = ctx.cohort_for_coordinator(user, proposal_cohort.name)
            return Reply(matchmaking.confirm(ctx, cohort, user, int(value)))
        if action_id in ("match_preview", "cohort_import", "cohort_export"):
            found = ctx.uow.cohorts.get(int(value)) if value.isdigit() else None
            if found is None:
                raise Refusal("That cohort no longer exists.")
            cohort = ctx.cohort_for_coordinator(user, found.name)
            if action_id == "cohort_import":
                return csv_import.start(cohort)
            if action_id == "cohort_export":
                return Reply(self._export(ctx, user, cohort))
            return Reply(matchmaking.preview(ctx, cohort, user.key))
        if action_id == "rematch":
            return Reply(self._coordinator_rematch(ctx, user, value))
        if action_id in failures.SETTLE_ACTIONS:
            return Reply(failures.settle(ctx, user, value, resend=action_id == failures.RESEND))
        return NoReply()

    @staticmethod
    def _export(ctx: Ctx, user: UserRef, cohort: Cohort) -> Message:
        ctx.audit(cohort, user, "export")
        return coordination.export_message(ctx, cohort, ctx.caps(user.platform).send_files)

    def _cohort_of_proposal(self, ctx: Ctx, value: str) -> Cohort:
        for cohort in ctx.uow.cohorts.all():
            proposal = ctx.uow.matches.open_proposal(cohort.id)
            if proposal is not None and str(proposal.id) == value:
                return cohort
        raise Refusal("That preview has already been confirmed or replaced: run `match preview` again.")

    def _coordinator_rematch(self, ctx: Ctx, user: UserRef, value: str) -> Message:
        match_id, _, quiet_id = value.partition(":")
        match = ctx.uow.matches.get(int(match_id)) if match_id.isdigit() else None
        cohort = ctx.uow.cohorts.get(match.cohort_id) if match else None
        if match is None or cohort is None or not quiet_id.isdigit():
            raise Refusal("That group no longer exists.")
        cohort = ctx.cohort_for_coordinator(user, cohort.name)
        if match.status != "active":
            raise Refusal("That group has already been re-matched or ended.")
        quiet = ctx.uow.participants.get(int(quiet_id))
        if quiet is None:
            raise Refusal("That person is no longer registered.")
        outcomes = matchmaking.rematch(ctx, match, [quiet])
        ctx.audit(cohort, user, "rematch", match=match.id, quiet=quiet.id, outcomes=outcomes)
        return Message.simple("Re-matched: " + "; ".join(escape(o) for o in outcomes) + ".")

    def _form(self, ctx: Ctx, actor: Actor, form_id: str, state: str, values: dict[str, object]) -> Outcome:
        if form_id == registration.FORM_ID:
            return registration.submit(ctx, actor, state, values)
        if form_id == csv_import.FORM_ID:
            return csv_import.submit(ctx, actor.ref, state, values)
        if form_id == assignments.FORM_ID:
            participant = ctx.participant(actor.ref)
            if participant is None:
                return FormErrors({"answer": "You're not registered in this scheme any more."})
            return assignments.submit(ctx, participant, state, values)
        return FormErrors({"_form": "This form is out of date; please start again."})

    def _welcome(self, ctx: Ctx, actor: Actor, channel_id: str) -> Outcome:
        user = actor.ref
        if ctx.participant(user) is not None:
            return NoReply()
        open_here = [c for c in ctx.uow.cohorts.all()
                     if c.platform == user.platform and c.workspace == user.workspace and c.registration_open]  # fmt: skip
        if not open_here:
            return NoReply()
        text = ("Welcome to the network! We run a buddy scheme that pairs clinicians with managers so each "
                "learns how the other side works: a short virtual task a week, in your own time.")  # fmt: skip
        message = Message(text, (Section(text), Actions((Button("Join the buddy scheme", "join", "", style="primary"),
                                                         Button("Community", "community", "")))))  # fmt: skip
        queue(ctx.uow, f"welcome:{user.key}", to_user(user), message, ctx.now)
        return NoReply()

    # ---- delivery failures -------------------------------------------------------------------

    def delivery_failed(self, item: OutboxItem, error: DeliveryError) -> None:
        """A post could not be delivered for good: mark unreachable people and tell coordinators."""
        self.run(lambda ctx: failures.delivery_failed(ctx, item, error))

    def _task_send(self, user: UserRef, command: Command) -> Message:
        """``task send [KEY]``: the task to every active group, a slice of groups per transaction
        (as :meth:`reconcile` does), so a national cohort holds no write lock for long."""
        task_key = command.args[0] if command.args else None

        def prepare(ctx: Ctx) -> tuple[int, list[int]]:
            cohort = ctx.cohort_for_coordinator(user, command.options.get("cohort"))
            assignments.check_bank(ctx, task_key)
            return cohort.id, ctx.uow.matches.active_ids(cohort.id)

        cohort_id, ids = self.run(prepare)

        def work(ctx: Ctx, part: list[int]) -> int:
            cohort = ctx.uow.cohorts.get(cohort_id)
            return len(assignments.send_tasks(ctx, cohort, task_key, part)) if cohort else 0

        posted = failed = 0
        for part, count, ok in self._sliced(ids, RECONCILE_SLICE, work, "task send"):
            posted += count or 0
            failed += 0 if ok else len(part)
        self.run(lambda ctx: ctx.audit(ctx.uow.cohorts.get(cohort_id), user, "task_send",
                                       task=task_key or "next", groups=posted, failed=failed))  # fmt: skip
        if failed:
            return Message.simple(f"Posted the task to {posted} groups; {failed} groups failed (see the logs). "
                                  "Send the same task again by its key (`task list`) to retry them: nobody gets it twice.")  # fmt: skip
        if not posted:
            return Message.simple("Every active group already has that task (or has done every task).")
        return Message.simple(f"Posted the task to {posted} groups.")

    # ---- scheduled and operator work -------------------------------------------------------

    def scrub_outbox(self, older_than: timedelta = OUTBOX_RETENTION, batch: int = 1000) -> int:
        """Remove the content of posts sent longer ago than ``older_than`` (letters quoted to a
        partner, names), ``batch`` rows per transaction; how many were scrubbed."""
        total = 0
        while True:
            scrubbed = self.run(lambda ctx: ctx.uow.outbox.scrub_sent(ctx.now - older_than, batch))
            total += scrubbed
            if scrubbed < batch:
                return total

    def reconcile(
        self, cohort_id: int, *, post_only: bool = False, slice_size: int = RECONCILE_SLICE
    ) -> cadence.TickReport | None:
        """What is due for a cohort now (:func:`cadence.tick`; only the period's task with
        ``post_only``), a slice of ``slice_size`` groups per transaction: no write lock is held
        for long, whatever the cohort's size, and a group that fails holds back no other slice.
        None if the cohort does not exist."""
        ids = self.run(
            lambda ctx: ctx.uow.matches.active_ids(cohort_id) if ctx.uow.cohorts.get(cohort_id) else None
        )
        if ids is None:
            return None

        def work(ctx: Ctx, part: list[int]) -> cadence.TickReport | None:
            cohort = ctx.uow.cohorts.get(cohort_id)
            if cohort is None:
                return None
            if post_only:
                return cadence.TickReport(posts=cadence.post_due(ctx, cohort, part))
            return cadence.tick(ctx, cohort, part)

        total = cadence.TickReport()
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

    def import_csv(self, cohort_name: str, text: str, skip_invalid: bool = False) -> csv_import.ImportReport:
        def work(ctx: Ctx) -> csv_import.ImportReport:
            cohort = ctx.uow.cohorts.by_name(cohort_name)
            if cohort is None:
                raise Refusal(f"There is no cohort called “{cohort_name}”.")
            return csv_import.run_import(ctx, cohort, text, skip_invalid)

        return self.run(work)


def _on_slice(work: Callable[[Ctx, list[int]], T], part: list[int], ctx: Ctx) -> T:
    return work(ctx, part)


def _command_words(interaction: Interaction) -> str | None:
    """The words of a typed command, or of a button that runs one (``RUN_COMMAND``: the presser's
    own words, with the same checks as if they had typed them)."""
    if isinstance(interaction, CommandInvoked):
        return interaction.text
    if isinstance(interaction, ButtonPressed) and interaction.action_id == RUN_COMMAND:
        return interaction.value
    return None
