"""Who meets whom: optimal, explained, deterministic grouping of a buddy-scheme cohort.

Pure computation over :mod:`conversations.matching.types`; nothing here touches storage or platforms.
"""

from conversations.matching.explain import explain_group
from conversations.matching.plan import best_partners, plan_matches
from conversations.matching.types import Candidate, Group, MatchPlan, MatchRules, Pairs, Weights

__all__ = [
    "Candidate",
    "Group",
    "MatchPlan",
    "MatchRules",
    "Pairs",
    "Weights",
    "best_partners",
    "explain_group",
    "plan_matches",
]
