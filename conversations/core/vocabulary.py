"""The fixed vocabularies of the registration form and the matcher."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLINICIAN = "clinician"
    GENERAL_MANAGER = "general_manager"
    SPECIALIST_MANAGER = "specialist_manager"


ROLE_LABELS = {
    Role.CLINICIAN: "Clinician (doctor, nurse, AHP, pharmacist...)",
    Role.GENERAL_MANAGER: "General manager (e.g. graduate management trainee)",
    Role.SPECIALIST_MANAGER: "Specialist manager (finance, IT, HR...)",
}


class EmployerType(StrEnum):
    ACUTE = "acute"
    MENTAL_HEALTH = "mental_health"
    COMMUNITY = "community"
    PRIMARY_CARE = "primary_care"
    AMBULANCE = "ambulance"
    COMMISSIONER = "commissioner"


EMPLOYER_TYPE_LABELS = {
    EmployerType.ACUTE: "Acute trust",
    EmployerType.MENTAL_HEALTH: "Mental health trust",
    EmployerType.COMMUNITY: "Community provider",
    EmployerType.PRIMARY_CARE: "Primary care",
    EmployerType.AMBULANCE: "Ambulance service",
    EmployerType.COMMISSIONER: "Commissioner (ICB)",
}

PROFESSIONS = {
    "doctor": "Doctor",
    "nurse": "Nurse",
    "midwife": "Midwife",
    "ahp": "Allied health professional",
    "pharmacist": "Pharmacist",
    "healthcare_scientist": "Healthcare scientist",
    "manager": "Manager",
    "other": "Other",
}

SPECIALTIES = {
    "foundation": "Foundation (not yet specialised)",
    "anaesthetics": "Anaesthetics",
    "emergency_medicine": "Emergency medicine",
    "general_practice": "General practice",
    "medicine": "Medicine",
    "obstetrics_gynaecology": "Obstetrics and gynaecology",
    "paediatrics": "Paediatrics",
    "pathology": "Pathology",
    "psychiatry": "Psychiatry",
    "public_health": "Public health",
    "radiology": "Radiology",
    "surgery": "Surgery",
    "operations": "Operations / general management",
    "other": "Other",
}

SPECIALIST_AREAS = {
    "finance": "Finance",
    "it": "IT and digital",
    "hr": "HR and workforce",
    "analytics": "Analytics and information",
    "estates": "Estates and facilities",
    "procurement": "Procurement",
    "other": "Other",
}

REGIONS = {
    "east_of_england": "East of England",
    "london": "London",
    "midlands": "Midlands",
    "north_east_yorkshire": "North East and Yorkshire",
    "north_west": "North West",
    "south_east": "South East",
    "south_west": "South West",
    "scotland": "Scotland",
    "wales": "Wales",
    "northern_ireland": "Northern Ireland",
}

INTERESTS = {
    "digital": "Digital and data",
    "quality_improvement": "Quality improvement",
    "finance": "Finance and productivity",
    "workforce": "Workforce and wellbeing",
    "patient_flow": "Patient flow",
    "research": "Research",
    "education": "Education and training",
    "leadership": "Leadership",
    "population_health": "Population health",
    "sustainability": "Sustainability",
}


def lookup(table: dict[str, str], raw: str) -> str | None:
    """Map a key or a label (any case, spaces or underscores) to the key; None if unknown."""
    norm = raw.strip().lower().replace("-", " ").replace("_", " ")
    if not norm:
        return None
    for key, label in table.items():
        if norm in (key.replace("_", " "), label.lower()):
            return key
    return None
