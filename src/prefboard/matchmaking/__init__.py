"""Which battles to run next, when to stop, and whom to recruit: the plan stage.

- :mod:`.stage`: the plan stage, computed once into ``Standings.plan`` (the Next battles page
  and ``prefboard plan`` read it).
- :mod:`.information`: mutual information of a battle on the batch posterior; fantasy updates.
- :mod:`.posterior`: a table's posterior rebuilt from standings.json.
- :mod:`.queue`: the queue of next battles for a dimension or group.
- :mod:`.stopping`: the stopping rule for the ``[plan]`` goal; :mod:`.quotas`: recruitment.
- :mod:`.tables`, :mod:`.groups`: which tables a plan covers; groups in need of participants.
- :mod:`.online`: the single-pass TrueSkill gain (kept for comparison).
"""

from prefboard.matchmaking.groups import GroupNeed, groups_in_need
from prefboard.matchmaking.online import (
    CERTAIN,
    expected_gain,
    expected_gain_array,
    outcome_probabilities,
    params_from,
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
]
