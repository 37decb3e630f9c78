"""Consent as records, against a privacy notice a deployment can replace.

The notice is a text file whose first line is ``version: ...`` (the shipped one is
``flows/data/privacy_notice.md``; ``bot`` points :func:`use_notice` at a deployment's own with
``BUDDY_PRIVACY_NOTICE``). Registration shows it with its version; every agreement or withdrawal
is a :class:`ConsentRecord` (what was agreed, the words shown, the notice's version, the time),
added and never overwritten. When the notice's version changes, a member's next interaction asks
them to agree again (``consent agree``) before anything else.

Withdrawing consent to be quoted removes the person from future digests and from digests already
queued; withdrawing participation pauses them and offers erasure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conversations.core.markup import escape
from conversations.core.model import PARTICIPATION, QUOTES, ConsentRecord, Participant, Status
from conversations.core.refs import UserRef
from conversations.core.routes import CommandRoute, Who, command
from conversations.core.views import Actions, Button, Message, Section
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import GATES, Call
from conversations.flows.personal import holding, mentions, scrub
from conversations.ports.store import LastConsent

SHIPPED = Path(__file__).parent / "data" / "privacy_notice.md"


@dataclass(frozen=True)
class Notice:
    version: str
    text: str  # neutral markup


class NoticeError(ValueError):
    pass


def read_notice(path: Path) -> Notice:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NoticeError(f"Cannot read the privacy notice {path}: {error}") from error
    first, _, rest = raw.partition("\n")
    if not first.lower().startswith("version:") or not first.split(":", 1)[1].strip():
        raise NoticeError(
            f"{path}, line 1: the privacy notice must start with “version: ...” (e.g. version: 2)."
        )
    return Notice(first.split(":", 1)[1].strip()[:64], rest.strip())


_notice_path: list[Path] = [SHIPPED]


def use_notice(path: Path | None) -> Notice:
    """Use a deployment's own notice (checked now, so a bad file stops start-up)."""
    chosen = path or SHIPPED
    notice = read_notice(chosen)
    _notice_path[0] = chosen
    current.cache_clear()
    return notice


@functools.cache
def current() -> Notice:
    return read_notice(_notice_path[0])


PARTICIPATION_WORDING = ("I agree to take part in {cohort} and for coordinators to use my details to match me "
                         "and run the scheme, as the privacy notice says")  # fmt: skip
QUOTES_WORDING = "My learning points may be quoted, without my name, in digests to the cohort"


def record(ctx: Ctx, user: UserRef, cohort_id: int | None, kind: str, agreed: bool, wording: str,
           source: str = "form") -> ConsentRecord:  # fmt: skip
    return ctx.uow.consents.add(ConsentRecord(
        platform=user.platform, workspace=user.workspace, user_id=user.user_id, cohort_id=cohort_id, kind=kind,
        agreed=agreed, notice_version=current().version, wording=wording, at=ctx.now, source=source))  # fmt: skip


def latest(ctx: Ctx, user: UserRef, kind: str) -> LastConsent | None:
    return ctx.uow.consents.latest(user, kind)


def record_form(ctx: Ctx, user: UserRef, cohort_id: int, cohort_name: str, data: bool, share: bool,
                source: str = "form") -> None:  # fmt: skip
    """After the registration form: a record for each consent that is new or changed."""
    for kind, agreed, wording in ((PARTICIPATION, data, PARTICIPATION_WORDING.format(cohort=cohort_name)),
                                  (QUOTES, share, QUOTES_WORDING)):  # fmt: skip
        last = latest(ctx, user, kind)
        if last is None or last.agreed != agreed or last.notice_version != current().version:
            record(ctx, user, cohort_id, kind, agreed, wording, source)


def needs_agreement(last: LastConsent | None) -> bool:
    """They agreed to an older notice than the current one (people with no record at all, from
    before records were kept or imported from a survey, are asked when they next edit a profile)."""
    return last is not None and last.agreed and last.notice_version != current().version


EXEMPT = {"consent", "consent agree", "consent withdraw", "consent withdraw quotes", "privacy", "mydata",
          "forget me", "leave", "help", "status", "profile", "join", "register", "forget_me", "forget_me_confirm",
          "forget_me_cancel"}  # fmt: skip


def _gate(call: Call) -> None:
    """Asked before anything else at a member's next interaction after the notice changed (their
    newest consent was read with their membership: :func:`~conversations.flows.lookup.prepare`)."""
    route = call.route
    if (
        getattr(route, "name", "") in EXEMPT
        or isinstance(route, CommandRoute)
        and route.words[:1] == ("help",)
    ):
        return
    if needs_agreement(call.consent):
        notice = current()
        raise Refusal(
            f"Buddy's privacy notice has changed (now version {notice.version}). Please read it with `privacy`, "
            "then type `consent agree` to carry on, or `consent withdraw` to stop taking part."
        )


GATES.append(_gate)


# ---- commands ---------------------------------------------------------------------------------------


def show_notice(ctx: Ctx) -> Message:
    notice = current()
    return Message(f"Privacy notice, version {notice.version}", (
        Section(f"**Privacy notice** (version {escape(notice.version)})"), Section(notice.text)))  # fmt: skip


def show_consent(ctx: Ctx, user: UserRef) -> Message:
    rows = ctx.uow.consents.for_user(user)
    if not rows:
        return Message.simple("There are no consent records for you. Use `join` to register.")
    lines = [f"- {r.at:%Y-%m-%d %H:%M}: {'agreed' if r.agreed else 'withdrew'} ({r.kind}, notice version "
             f"{escape(r.notice_version)}): “{escape(r.wording)}”" for r in rows[-10:]]  # fmt: skip
    return Message("Your consent records", (Section("**Your consent records**\n" + "\n".join(lines)),
                   Section("Change them with `consent withdraw quotes`, `consent withdraw` or `consent agree`.")))  # fmt: skip


def agree(ctx: Ctx, member: Participant) -> Message:
    cohort = ctx.uow.cohorts.get(member.cohort_id)
    name = cohort.name if cohort else ""
    record(ctx, member.ref, member.cohort_id, PARTICIPATION, True, PARTICIPATION_WORDING.format(cohort=name),
           "command")  # fmt: skip
    member.consent_data = True
    return Message.simple(f"Thank you: I've recorded that you agree to the privacy notice (version "
                          f"{escape(current().version)}).")  # fmt: skip


def withdraw_quotes(ctx: Ctx, member: Participant) -> Message:
    member.consent_share = False
    record(ctx, member.ref, member.cohort_id, QUOTES, False, QUOTES_WORDING, "command")
    removed = unquote(ctx, member)
    note = f" I've also taken your words out of {removed} digests still waiting to go." if removed else ""
    return Message.simple("Done: your learning points won't be quoted in digests any more." + note)


def unquote(ctx: Ctx, member: Participant) -> int:
    """Take the person's words out of digests queued and not yet sent; how many changed."""
    texts = [r.text for r in ctx.uow.responses.for_cohort(member.cohort_id) if r.author_id == member.id]
    needles = [t[:40] for t in texts if len(t) > 20] + [escape(t)[:40] for t in texts if len(t) > 20]
    changed = 0
    for item in ctx.uow.outbox.by_status("pending"):
        if not item.key.startswith("digest:") or not mentions(item.message, needles):
            continue
        blocks = [b for b in item.message.get("blocks", []) if not mentions(b, needles)]
        item.message = {**item.message, "blocks": scrub(blocks, needles)}
        changed += 1
    return changed


def withdraw(ctx: Ctx, member: Participant) -> Message:
    cohort = ctx.uow.cohorts.get(member.cohort_id)
    record(ctx, member.ref, member.cohort_id, PARTICIPATION, False,
           PARTICIPATION_WORDING.format(cohort=cohort.name if cohort else ""), "command")  # fmt: skip
    member.consent_data = False
    if member.status != Status.LEFT:
        member.status = Status.PAUSED
    ctx.audit(cohort, member.ref, "consent_withdraw", participant=member.id)
    text = ("I've recorded that you withdraw your consent, and paused you: no tasks or reminders. "
            "Would you like Buddy to erase everything it holds about you?")  # fmt: skip
    return Message(text, (Section(text), Actions((
        Button("Erase my data", "forget_me", "", style="danger"), Button("Resume instead", "resume", "")))))  # fmt: skip


def _records_export(ctx: Ctx, user: UserRef) -> list[dict[str, Any]]:
    return [{"at": r.at.isoformat(), "kind": r.kind, "agreed": r.agreed, "notice_version": r.notice_version,
             "wording": r.wording, "source": r.source} for r in ctx.uow.consents.for_user(user)]  # fmt: skip


holding("consent records", export=_records_export, erase=lambda ctx, user: ctx.uow.consents.delete_for(user))


def _exactly(call: Call, handler: Callable[[], Message]) -> Message:
    """These commands take no words after them: a slip ("consent withdraw quote") must never
    withdraw more than the person meant."""
    if call.args:
        raise Refusal("I didn't follow that. Use `consent` to see your records, `consent withdraw quotes` to stop "
                      "being quoted, or `consent withdraw` to stop taking part.")  # fmt: skip
    return handler()


ROUTES = (
    command("privacy", "read Buddy's privacy notice", lambda call: show_notice(call.ctx), who=Who.ANYONE),
    command("consent", "see what you have agreed to, and when",
            lambda call: _exactly(call, lambda: show_consent(call.ctx, call.user)), who=Who.ANYONE),
    command("consent agree", "agree to the current privacy notice",
            lambda call: _exactly(call, lambda: agree(call.ctx, call.the_member))),
    command("consent withdraw quotes", "stop your learning points being quoted in digests",
            lambda call: _exactly(call, lambda: withdraw_quotes(call.ctx, call.the_member))),
    command("consent withdraw", "withdraw from the scheme (you're paused, and offered erasure)",
            lambda call: _exactly(call, lambda: withdraw(call.ctx, call.the_member))),
)  # fmt: skip
