"""Registration fields: validating a profile (from the form or a CSV row) and describing it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from conversations.core import vocabulary as v
from conversations.core.markup import escape
from conversations.core.model import Participant

GRADE_PATTERN = re.compile(r"^[A-Za-z0-9 /+().\-]{1,40}$")
MAX_INTERESTS = 5


@dataclass
class Profile:
    display_name: str = ""
    role: str = ""
    specialist_area: str = ""
    profession: str = ""
    grade: str = ""
    specialty: str = ""
    employer: str = ""
    employer_type: str = ""
    region: str = ""
    interests: list[str] = field(default_factory=list)
    consent_data: bool = False
    consent_share: bool = False


def validate(raw: Mapping[str, object]) -> tuple[Profile, dict[str, str]]:
    """Check raw field values (labels or keys accepted); return the profile and errors by field."""
    errors: dict[str, str] = {}
    p = Profile()

    def text(name: str) -> str:
        value = raw.get(name)
        return value.strip() if isinstance(value, str) else ""

    def choice(name: str, table: dict[str, str], what: str, required: bool = True) -> str:
        value = text(name)
        if not value:
            if required:
                errors[name] = f"Please choose your {what}."
            return ""
        key = v.lookup(table, value)
        if key is None:
            options = ", ".join(table.values())
            errors[name] = f"“{value[:40]}” isn't a {what} I know. Choose one of: {options}."
            return ""
        return key

    p.display_name = text("display_name")
    if not p.display_name:
        errors["display_name"] = "Please give your name as colleagues know you."
    elif len(p.display_name) > 80:
        errors["display_name"] = f"Your name is {len(p.display_name)} characters long; the limit is 80."
    p.role = choice("role", {str(k): lbl for k, lbl in v.ROLE_LABELS.items()} | _ROLE_ALIASES, "role")
    p.role = _ROLE_CANONICAL.get(p.role, p.role)
    p.specialist_area = choice(
        "specialist_area", v.SPECIALIST_AREAS, "specialist area", required=p.role == v.Role.SPECIALIST_MANAGER
    )
    if p.role != v.Role.SPECIALIST_MANAGER:
        p.specialist_area = ""
    p.profession = choice("profession", v.PROFESSIONS, "profession", required=p.role == v.Role.CLINICIAN)
    p.grade = text("grade")
    if not p.grade:
        errors["grade"] = "Please give your grade, e.g. FY2, ST4, GMTS year 1, Band 7."
    elif not GRADE_PATTERN.match(p.grade):
        errors["grade"] = (
            "A grade is up to 40 letters, digits, spaces or / + ( ) . - (e.g. FY2, ST4, Band 8a)."
        )
    p.specialty = choice("specialty", v.SPECIALTIES, "specialty", required=p.role == v.Role.CLINICIAN)
    p.employer = text("employer")
    if not p.employer:
        errors["employer"] = "Please name your employer (your trust, practice or organisation)."
    elif len(p.employer) > 120:
        errors["employer"] = f"The employer name is {len(p.employer)} characters; the limit is 120."
    p.employer_type = choice(
        "employer_type", {str(k): lbl for k, lbl in v.EMPLOYER_TYPE_LABELS.items()}, "employer type"
    )
    p.region = choice("region", v.REGIONS, "region")
    p.interests = _interests(raw.get("interests"), errors)
    p.consent_data = _truthy(raw.get("consent_data"))
    if not p.consent_data:
        errors["consent_data"] = "You need to agree to take part and to how we use your details."
    p.consent_share = _truthy(raw.get("consent_share"))
    return p, errors


_ROLE_ALIASES = {"doctor": "Doctor", "manager": "Manager", "gmts": "GMTS", "specialist": "Specialist"}
_ROLE_CANONICAL = {"doctor": v.Role.CLINICIAN, "manager": v.Role.GENERAL_MANAGER, "gmts": v.Role.GENERAL_MANAGER,
                   "specialist": v.Role.SPECIALIST_MANAGER}  # fmt: skip


def _interests(value: object, errors: dict[str, str]) -> list[str]:
    if value is None or value == "":
        return []
    items = [s for s in re.split(r"[;,|]", value)] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    keys: list[str] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        key = v.lookup(v.INTERESTS, item)
        if key is None:
            errors["interests"] = (
                f"“{item[:40]}” isn't an interest I know. Choose from: {', '.join(v.INTERESTS.values())}."
            )
            return []
        if key not in keys:
            keys.append(key)
    if len(keys) > MAX_INTERESTS:
        errors["interests"] = f"Please choose at most {MAX_INTERESTS} interests (you chose {len(keys)})."
    return keys


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in {
        "yes",
        "y",
        "true",
        "1",
        "agree",
        "i agree",
        "x",
    }


def apply(participant: Participant, profile: Profile) -> None:
    for name in Profile.__dataclass_fields__:
        value = getattr(profile, name)
        setattr(participant, name, list(value) if isinstance(value, list) else value)


def describe(p: Participant) -> str:
    """One line about a person, in markup, for introductions and previews."""
    role = {
        v.Role.CLINICIAN: v.PROFESSIONS.get(p.profession, "Clinician"),
        v.Role.GENERAL_MANAGER: "General manager",
        v.Role.SPECIALIST_MANAGER: f"{v.SPECIALIST_AREAS.get(p.specialist_area, 'Specialist')} manager",
    }.get(v.Role(p.role), p.role)
    bits = [f"{role}, {escape(p.grade)}"]
    if p.role == v.Role.CLINICIAN and p.specialty:
        bits.append(v.SPECIALTIES.get(p.specialty, p.specialty))
    where = escape(p.employer)
    if p.employer_type:
        where += f" ({v.EMPLOYER_TYPE_LABELS.get(v.EmployerType(p.employer_type), p.employer_type).lower()})"
    bits.append(where)
    if p.region:
        bits.append(v.REGIONS.get(p.region, p.region))
    return ", ".join(bits)
