"""The whole of leaderboard.toml: `Config`, its checks across sections, and the derived views
(battle and Likert dimensions, model keys, strata) every later stage uses."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from pydantic import Field, field_validator, model_validator

from prefboard.config.covariates import MAX_COVARIATES, Covariate
from prefboard.config.sections import (
    MARGINAL_TOLERANCE,
    MAX_DIMENSIONS,
    MAX_MODELS,
    MAX_SLICES,
    MAX_STRATA_CELLS,
    Data,
    Dimension,
    JointShare,
    Leaderboard,
    Model,
    Plan,
    Privacy,
    Quality,
    Rating,
    Section,
    Site,
    Slice,
)
from prefboard.errors import listed
from prefboard.io.paths import site_conflict


class Config(Section):
    leaderboard: Leaderboard = Field(default_factory=Leaderboard)
    rating: Rating = Field(default_factory=Rating)
    dimensions: list[Dimension] = Field(
        min_length=1, max_length=MAX_DIMENSIONS, description="What participants judged."
    )
    models: list[Model] = Field(
        min_length=2, max_length=MAX_MODELS, description="The models on the board."
    )
    slices: list[Slice] = Field(
        default_factory=list, max_length=MAX_SLICES, description="Demographic attributes."
    )
    quality: Quality = Field(default_factory=Quality)
    data: Data = Field(default_factory=Data)
    site: Site = Field(default_factory=Site)
    privacy: Privacy = Field(default_factory=Privacy)
    plan: Plan = Field(default_factory=Plan)
    covariates: list[Covariate] = Field(
        default_factory=list,
        max_length=MAX_COVARIATES,
        description="Style covariates per side of a battle, adjusted for by style control.",
    )

    @field_validator("dimensions", "models", "slices")
    @classmethod
    def _unique_keys(
        cls, items: list[Dimension | Model | Slice]
    ) -> list[Dimension | Model | Slice]:
        keys = [i.attribute if isinstance(i, Slice) else i.key for i in items]
        # Counter, not keys.count: quadratic on a 60 000-model file
        dupes = sorted(k for k, n in Counter(keys).items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate key(s): {listed(dupes)}")
        return items

    @field_validator("covariates")
    @classmethod
    def _covariate_keys(cls, items: list[Covariate], info: Any) -> list[Covariate]:
        # A dimension named "length_a" and a covariate "length" would share a column.
        dims = {d.key for d in info.data.get("dimensions") or []}
        for c in items:
            clash = sorted(set(c.columns) & dims)
            if clash:
                raise ValueError(
                    f"covariate {c.key!r} reads column {clash[0]!r}, which is also a dimension"
                )
        dupes = sorted(k for k, n in Counter(c.key for c in items).items() if n > 1)
        if dupes:
            raise ValueError(f"duplicate key(s): {listed(dupes)}")
        return items

    @field_validator("site")
    @classmethod
    def _site_apart_from_data(cls, site: Site, info: Any) -> Site:
        # `[site] output = "results"` would let one build delete every result file, and
        # `source = "results"` would publish participants' demographics. (A field validator,
        # after `data`, so that the problem points at the [site] table.)
        d = info.data.get("data")
        if d is None:
            return site
        data = [("data.participants", d.participants), ("data.benchmarks", d.benchmarks)]
        data += [("data.battles", g) for g in d.battles] + [("data.ratings", g) for g in d.ratings]
        for key, value in (("output", site.output), ("source", site.source)):
            why = site_conflict(value, data)
            if why:
                raise ValueError(f"site.{key} {value!r} {why}")
        return site

    @model_validator(mode="after")
    def _stratify(self) -> Config:
        attrs = {s.attribute: s for s in self.slices}
        joint = self.rating.joint_population
        for a in self.rating.stratify_by:
            if a not in attrs:
                raise ValueError(f"rating.stratify_by names unknown slice attribute {a!r}")
            if not attrs[a].population and not joint:
                raise ValueError(f"slice {a!r} is used in stratify_by but has no population")
        cells = math.prod(len(s.values) for s in self.strata)
        if cells > MAX_STRATA_CELLS:
            sizes = " x ".join(f"{s.attribute} ({len(s.values)})" for s in self.strata)
            raise ValueError(
                f"rating.stratify_by: {sizes} make {cells:,} joint cells (limit "
                f"{MAX_STRATA_CELLS:,}); stratify by fewer or coarser slices"
            )
        if joint:
            _check_joint(joint, [attrs[a] for a in self.rating.stratify_by])
        return self

    # Derived views, so downstream stages never re-derive them differently.
    @property
    def battle_dimensions(self) -> list[Dimension]:
        return [d for d in self.dimensions if d.battles]

    @property
    def likert_dimensions(self) -> list[Dimension]:
        return [d for d in self.dimensions if d.likert]

    @property
    def model_keys(self) -> list[str]:
        return [m.key for m in self.models]

    @property
    def strata(self) -> list[Slice]:
        """The slices the headline ranking is post-stratified over."""
        if self.rating.stratify_by:
            wanted = set(self.rating.stratify_by)
            return [s for s in self.slices if s.attribute in wanted]
        return [s for s in self.slices if s.population][:1]


def _check_joint(joint: list[JointShare], strata: list[Slice]) -> None:
    """Joint shares name every stratify_by attribute once, declared values, no cell twice, sum
    to 1, and agree with the marginal shares the slices give."""
    where = "rating.joint_population"
    if not strata:
        raise ValueError(f"{where}: set rating.stratify_by to the attributes of its cells")
    names = [s.attribute for s in strata]
    seen: dict[tuple[str, ...], int] = {}
    for i, row in enumerate(joint):
        if sorted(row.cell) != sorted(names):
            raise ValueError(
                f"{where}[{i}].cell: names {', '.join(sorted(row.cell)) or 'nothing'}; "
                f"expected exactly the stratify_by attributes: {', '.join(names)}"
            )
        for s in strata:
            if row.cell[s.attribute] not in s.values:
                raise ValueError(
                    f"{where}[{i}].cell: {s.attribute} = {row.cell[s.attribute]!r} is not a "
                    f"declared value (values: {', '.join(s.values)})"
                )
        key = tuple(row.cell[a] for a in names)
        if key in seen:
            raise ValueError(f"{where}[{i}].cell: the same cell as {where}[{seen[key]}]")
        seen[key] = i
    total = sum(row.share for row in joint)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{where}: shares sum to {total:.6g}, not 1")
    for s in strata:
        for v, share in s.population.items():
            joint_share = sum(r.share for r in joint if r.cell[s.attribute] == v)
            if abs(joint_share - share) > MARGINAL_TOLERANCE:
                raise ValueError(
                    f"{where}: {s.attribute} = {v!r} has joint share {joint_share:.6g} but "
                    f"population share {share:.6g} in its slice"
                )
