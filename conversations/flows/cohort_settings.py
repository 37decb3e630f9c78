"""Coordinators' per-cohort settings: nudge thresholds, trios, eligibility, matching weights,
and the community channels and events shown to members. Every value is checked before anything
is saved, and a mistake names the setting and says what it accepts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields

from conversations.core import patient_data
from conversations.core.markup import escape
from conversations.core.model import Cohort
from conversations.core.refs import UserRef
from conversations.core.routes import Who, command
from conversations.core.views import Message, Section
from conversations.flows.context import Ctx, Refusal
from conversations.matching import Weights

THRESHOLDS = ("nudge_pair_days", "nudge_individual_days", "alert_coordinator_days")
WEIGHTS = tuple(f.name for f in fields(Weights))
YES, NO = {"yes", "true", "on", "1"}, {"no", "false", "off", "0"}


def guard_level(cohort: Cohort | None) -> str:
    """How strictly the cohort refuses text that looks like patient data (core/patient_data.py)."""
    level = ((cohort.settings or {}) if cohort else {}).get("patient_guard", patient_data.DEFAULT_LEVEL)
    return level if level in patient_data.LEVELS else patient_data.DEFAULT_LEVEL


def guard(cohort: Cohort | None, text: str, what: str) -> None:
    """Refuse ``text`` (naming what looked like patient data, never echoing it)."""
    problem = patient_data.check(text, guard_level(cohort), what)
    if problem:
        raise Refusal(problem)


def show(cohort: Cohort) -> Message:
    settings = cohort.settings or {}
    weights = {**{name: getattr(Weights(), name) for name in WEIGHTS}, **settings.get("weights", {})}
    grades = settings.get("eligible_grades")
    lines = [f"`{name}={getattr(cohort, name)}`" for name in THRESHOLDS]
    lines.append(f"`allow_trios={'yes' if cohort.allow_trios else 'no'}`")
    lines.append(f"`eligible_grades={','.join(grades) if grades else 'any'}`")
    lines.append(f"`patient_guard={guard_level(cohort)}`")
    lines += [f"`weight.{name}={value:g}`" for name, value in weights.items()]
    return Message(
        f"Settings of {cohort.name}",
        (
            Section(f"**Settings of {escape(cohort.name)}**\n" + "\n".join(lines)),
            Section("Change them with `cohort set name=value ...`."),
        ),  # fmt: skip
    )


def apply(
    ctx: Ctx, actor: UserRef, cohort: Cohort, options: Mapping[str, str], args: Sequence[str]
) -> Message:
    options = {k: v for k, v in options.items() if k != "cohort"}  # which cohort, not a setting
    if args or not options:
        raise Refusal("Write settings as `name=value`, e.g. `cohort set nudge_pair_days=3 allow_trios=yes`. "
                      "See them all with `cohort settings`.")  # fmt: skip
    settings = dict(cohort.settings or {})
    weights = dict(settings.get("weights", {}))
    thresholds = {name: getattr(cohort, name) for name in THRESHOLDS}
    allow_trios = cohort.allow_trios
    for name, raw in options.items():
        value = raw.strip()
        if name in THRESHOLDS:
            if not value.isdigit() or not 1 <= int(value) <= 60:
                raise Refusal(f"`{name}` must be a whole number of days from 1 to 60, not “{escape(value)}”.")
            thresholds[name] = int(value)
        elif name == "inbox_remind_days":  # unanswered buddies' messages remind coordinators (issue 13)
            if not value.isdigit() or not 1 <= int(value) <= 30:
                raise Refusal(
                    f"`inbox_remind_days` must be a whole number of days from 1 to 30, not “{escape(value)}”."
                )
            settings["inbox_remind_days"] = int(value)
        elif name == "allow_trios":
            if value.lower() not in YES | NO:
                raise Refusal(f"`allow_trios` must be yes or no, not “{escape(value)}”.")
            allow_trios = value.lower() in YES
        elif name == "eligible_grades":
            grades = [g.strip() for g in value.split(",") if g.strip()]
            if value.lower() == "any":
                settings.pop("eligible_grades", None)
            elif not grades or any(len(g) > 40 for g in grades):
                raise Refusal(
                    "`eligible_grades` is a comma-separated list of grades (e.g. `FY2,CT1,ST1`) or `any`."
                )
            else:
                settings["eligible_grades"] = grades
        elif name == "patient_guard":
            if value.lower() not in patient_data.LEVELS:
                raise Refusal(
                    f"`patient_guard` must be one of {', '.join(patient_data.LEVELS)}, not “{escape(value)}”."
                )
            settings["patient_guard"] = value.lower()
        elif name.startswith("weight.") and name[len("weight.") :] in WEIGHTS:
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if not 0 <= number <= 10:
                raise Refusal(f"`{name}` must be a number from 0 to 10, not “{escape(value)}”.")
            weights[name[len("weight.") :]] = number
        else:
            known = ", ".join(
                [
                    *THRESHOLDS,
                    "inbox_remind_days",
                    "allow_trios",
                    "eligible_grades",
                    "patient_guard",
                    *(f"weight.{w}" for w in WEIGHTS),
                ]
            )
            raise Refusal(f"There's no setting called `{escape(name)}`. Settings: {known}.")
    if (
        not thresholds["nudge_pair_days"]
        <= thresholds["nudge_individual_days"]
        <= thresholds["alert_coordinator_days"]
    ):
        raise Refusal(
            "Nudges escalate: `nudge_pair_days` ≤ `nudge_individual_days` ≤ `alert_coordinator_days`."
        )
    for name, days in thresholds.items():
        setattr(cohort, name, days)
    cohort.allow_trios = allow_trios
    if weights:
        settings["weights"] = weights
    cohort.settings = settings
    ctx.audit(cohort, actor, "settings", **dict(options))
    return show(cohort)


ROUTES = (
    command("cohort settings", "show the cohort's nudge, matching and trio settings",
            lambda call: show(call.the_cohort), who=Who.COORDINATOR),
    command("cohort set name=value ...", "change settings, e.g. nudge_pair_days=3",
            lambda call: apply(call.ctx, call.user, call.the_cohort, call.options, call.args), who=Who.COORDINATOR),
)  # fmt: skip
