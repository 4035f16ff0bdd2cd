"""Which battles to run next, when to stop, and whom to recruit.

- :mod:`.information`: mutual information of a battle on the batch posterior; fantasy updates.
- :mod:`.posterior`: a table's posterior rebuilt from standings.json.
- :mod:`.queue`: the plan (``prefboard plan``, the Next battles page).
- :mod:`.stopping`: the stopping rule for the ``[plan]`` goal and recruitment quotas.
- :mod:`.online`: the single-pass TrueSkill gain and the first study (kept for comparison).
"""

from prefboard.matchmaking.online import (
    CERTAIN,
    GroupNeed,
    expected_gain,
    expected_gain_array,
    groups_in_need,
    outcome_probabilities,
    params_from,
    simulate_policy,
)
from prefboard.matchmaking.queue import (
    DEFAULT_EXPLORE,
    PLAN_COLUMNS,
    Candidate,
    plan,
    plan_csv,
    plan_table,
)

__all__ = [
    "CERTAIN",
    "DEFAULT_EXPLORE",
    "PLAN_COLUMNS",
    "Candidate",
    "GroupNeed",
    "expected_gain",
    "expected_gain_array",
    "groups_in_need",
    "outcome_probabilities",
    "params_from",
    "plan",
    "plan_csv",
    "plan_table",
    "simulate_policy",
]
