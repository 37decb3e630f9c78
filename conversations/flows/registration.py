"""Joining, editing a profile, pausing, resuming and leaving."""

from __future__ import annotations

from collections.abc import Mapping

from conversations.core import patient_data
from conversations.core import vocabulary as v
from conversations.core.interactions import Actor, CloseForm, FormErrors, Outcome, Reply, ShowForm
from conversations.core.markup import escape
from conversations.core.model import Cohort, Participant, Status
from conversations.core.profiles import Profile, apply, validate
from conversations.core.routes import Who, button, command, form
from conversations.core.views import (
    Actions,
    Button,
    Checkbox,
    Form,
    Message,
    MultiSelect,
    Note,
    Option,
    Section,
    Select,
    ShortText,
)
from conversations.flows import consent
from conversations.flows.assignments import recheck
from conversations.flows.cohort_settings import guard_level
from conversations.flows.context import Ctx, Refusal
from conversations.flows.lookup import Call
from conversations.flows.matchmaking import end_match_for_departure
from conversations.flows.network import join_channel
from conversations.flows.waiting import offer

FORM_ID = "register"


def _options(table: dict[str, str]) -> tuple[Option, ...]:
    return tuple(Option(str(k), lbl) for k, lbl in table.items())


def registration_form(cohort_id: int, cohort_name: str, profile: Profile, *, editing: bool) -> Form:
    return Form(
        form_id=FORM_ID,
        title="Edit your profile" if editing else "Join the buddy scheme",
        submit_label="Save" if editing else "Register",
        state=str(cohort_id),
        fields=(
            Note(
                f"**Privacy notice** (version {escape(consent.current().version)}): "
                f"{_first_paragraph(consent.current().text)} Read all of it with `privacy`."
            ),  # fmt: skip
            ShortText("display_name", "Your name", max_chars=80, initial=profile.display_name),
            Select(
                "role",
                "Your role",
                _options({str(k): x for k, x in v.ROLE_LABELS.items()}),
                initial=profile.role,
            ),
            Select(
                "specialist_area",
                "Specialist area (specialist managers only)",
                _options(v.SPECIALIST_AREAS),
                required=False,
                initial=profile.specialist_area,
            ),  # fmt: skip
            Select(
                "profession",
                "Profession (clinicians)",
                _options(v.PROFESSIONS),
                required=False,
                initial=profile.profession,
            ),  # fmt: skip
            ShortText(
                "grade",
                "Grade",
                max_chars=40,
                initial=profile.grade,
                placeholder="e.g. FY2, ST4, GMTS year 1, Band 7",
            ),  # fmt: skip
            Select(
                "specialty",
                "Specialty (clinicians)",
                _options(v.SPECIALTIES),
                required=False,
                initial=profile.specialty,
            ),  # fmt: skip
            ShortText(
                "employer",
                "Employer",
                max_chars=120,
                initial=profile.employer,
                placeholder="e.g. Leeds Teaching Hospitals NHS Trust",
            ),  # fmt: skip
            Select(
                "employer_type",
                "Type of employer",
                _options({str(k): x for k, x in v.EMPLOYER_TYPE_LABELS.items()}),
                initial=profile.employer_type,
            ),  # fmt: skip
            Select("region", "Region", _options(v.REGIONS), initial=profile.region),
            MultiSelect(
                "interests",
                "Interests (up to 5)",
                _options(v.INTERESTS),
                initial=tuple(profile.interests),
                max_selected=5,
            ),  # fmt: skip
            Checkbox(
                "consent_data",
                f"I agree to take part in {cohort_name} and for coordinators to use my "
                "details to match me and run the scheme",
                required=True,
                initial=profile.consent_data,
            ),  # fmt: skip
            Checkbox(
                "consent_share",
                "My learning points may be quoted, without my name, in digests to the cohort",
                initial=profile.consent_share,
            ),  # fmt: skip
        ),
    )


def _first_paragraph(text: str) -> str:
    return " ".join(text.split("\n\n", 1)[0].split())


FREE_TEXT = (("display_name", "your name"), ("grade", "your grade"), ("employer", "your employer"))


def start_join(ctx: Ctx, actor: Actor, cohort_name: str | None) -> Outcome:
    existing = ctx.participant(actor.ref)
    if existing is not None and not cohort_name:
        cohort = ctx.uow.cohorts.get(existing.cohort_id)
        assert cohort is not None
        return Reply(Message.simple(
            f"You're already registered for **{escape(cohort.name)}** (status: {existing.status}). "
            "Use `profile` to change your details."))  # fmt: skip
    cohort = ctx.open_cohort(actor.ref, cohort_name)
    assert cohort.id is not None
    return ShowForm(
        registration_form(cohort.id, cohort.name, Profile(display_name=actor.display_name), editing=False)
    )


def start_profile(ctx: Ctx, actor: Actor) -> Outcome:
    participant = ctx.participant(actor.ref)
    if participant is None:
        raise Refusal("You haven't registered yet: use `join` to sign up.")
    profile = Profile(**{name: getattr(participant, name) for name in Profile.__dataclass_fields__})
    cohort = ctx.uow.cohorts.get(participant.cohort_id)
    assert cohort is not None
    return ShowForm(registration_form(participant.cohort_id, cohort.name, profile, editing=True))


def submit(ctx: Ctx, actor: Actor, cohort: Cohort, values: Mapping[str, object]) -> Outcome:
    """The form's state named ``cohort``, already resolved in the actor's workspace."""
    profile, errors = validate(values)
    level = guard_level(cohort)
    for name, what in FREE_TEXT:
        raw = values.get(name)
        problem = patient_data.check(raw if isinstance(raw, str) else "", level, what)
        if problem:
            errors[name] = problem
    if errors:
        return FormErrors(errors)
    participant = ctx.uow.participants.find(cohort.id, actor.ref)
    if participant is None:
        if not cohort.registration_open:
            return FormErrors(
                {"display_name": f"Registration for {cohort.name} closed while you were filling this in."}
            )
        participant = Participant(
            cohort_id=cohort.id,
            platform=actor.ref.platform,
            workspace=actor.ref.workspace,
            user_id=actor.ref.user_id,
            display_name=profile.display_name,
            role=profile.role,
            email=actor.email,
            registered_at=ctx.now,
            last_active_at=ctx.now,
        )
        apply(participant, profile)
        ctx.uow.participants.add(participant)
        text = (
            f"Thanks {escape(profile.display_name)}, you're registered for **{escape(cohort.name)}**. "
            "I'll introduce you to your buddy when the coordinators next run matching."
        )
        text += offer(ctx, cohort, participant)
    else:
        rejoining = participant.status == Status.LEFT
        confirming = participant.status == Status.INVITED  # imported from a survey: the form confirms
        apply(participant, profile)
        participant.last_active_at = ctx.now
        if rejoining or confirming:
            participant.status = Status.REGISTERED
        text = (
            "Welcome back: you're registered again."
            if rejoining
            else f"Thank you: you're registered for **{escape(cohort.name)}**."
            if confirming
            else "Your profile is saved."
        )
    consent.record_form(ctx, actor.ref, cohort.id, cohort.name, profile.consent_data, profile.consent_share)
    return CloseForm(Message.simple(text))


def pause(ctx: Ctx, p: Participant) -> Outcome:
    """``p`` is the actor's membership, as the route's lookup found it (not looked up twice)."""
    if p.status == Status.PAUSED:
        return Reply(Message.simple("You're already paused. Use `resume` when you're ready."))
    p.status = Status.PAUSED
    match = ctx.uow.matches.active_for(p.id)
    if match is not None:
        recheck(ctx, match)  # the others may have finished without them
    text = "Paused: no tasks or reminders until you `resume`. Your buddy group stays as it is."
    return Reply(Message(text, (Section(text), Actions((Button("Resume", "resume", ""),)))))


def resume(ctx: Ctx, p: Participant) -> Outcome:
    if p.status != Status.PAUSED:
        return Reply(Message.simple("You're not paused, so there's nothing to resume."))
    active = ctx.uow.matches.active_for(p.id)
    p.status = Status.MATCHED if active else Status.REGISTERED
    p.last_active_at = ctx.now
    return Reply(Message.simple("Welcome back! Tasks and reminders are on again."))


def leave(ctx: Ctx, actor: Actor) -> Outcome:
    p = _member(ctx, actor)
    p.status = Status.LEFT
    match = ctx.uow.matches.active_for(p.id)
    note = ""
    if match is not None:
        end_match_for_departure(ctx, match, p)
        note = " I've let your buddy know and will find them someone new."
    cohort = ctx.uow.cohorts.get(p.cohort_id)
    ctx.audit(cohort, actor.ref, "leave", participant=p.id)
    return Reply(Message.simple(f"You've left the scheme.{note} You can `join` again at any time."))


def _member(ctx: Ctx, actor: Actor) -> Participant:
    p = ctx.participant(actor.ref)
    if p is None:
        raise Refusal(NOT_MEMBER)
    return p


NOT_MEMBER = "You're not registered for a buddy scheme: use `join` to sign up."


def _join(call: Call) -> Outcome:
    """``join [cohort]`` registers for a scheme; ``join #channel`` joins a community channel."""
    if call.args and call.args[0].startswith("#"):
        return Reply(join_channel(call.ctx, call.user, " ".join(call.args)))
    return start_join(call.ctx, call.actor, " ".join(call.args) or call.options.get("cohort"))


def _profile(call: Call) -> Outcome:
    return start_profile(call.ctx, call.actor)


def _pause(call: Call) -> Outcome:
    return pause(call.ctx, call.the_member)


def _resume(call: Call) -> Outcome:
    return resume(call.ctx, call.the_member)


ROUTES = (
    command("join [cohort]", "register for the buddy scheme (`join #channel` joins a community channel)", _join,
            who=Who.ANYONE),
    command("profile", "see and edit your profile", _profile,
            not_member="You haven't registered yet: use `join` to sign up."),
    command("pause", "take a break: no tasks or nudges until you resume", _pause, not_member=NOT_MEMBER),
    command("resume", "come back after a pause", _resume, not_member=NOT_MEMBER),
    command("leave", "leave the scheme", lambda call: leave(call.ctx, call.actor), not_member=NOT_MEMBER),
    button("join", _join, who=Who.ANYONE),
    button("profile", _profile, not_member="You haven't registered yet: use `join` to sign up."),
    button("pause", _pause, not_member=NOT_MEMBER),
    button("resume", _resume, not_member=NOT_MEMBER),
    form(FORM_ID, lambda call: submit(call.ctx, call.actor, call.target, call.values), who=Who.ANYONE,
         target="open_cohort", error_field="display_name"),
)  # fmt: skip
