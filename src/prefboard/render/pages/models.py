"""The model pages: the index of models and one page per model (scores by dimension and group,
head-to-head record, fit check, rating history, Likert ratings)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from prefboard.render import charts
from prefboard.render import format as fmt
from prefboard.render.pages.core import Page, _Builder, chart_block, href
from prefboard.standings.model import Pair, Standings

#: Opponents a model page lists: those nearest in headline rank. Every opponent met made the
#: page grow with models (and the site with models²: 90,000 table rows for MkDocs to parse and
#: index at 300 models); the rest of the record is in standings.json.
H2H_SHOWN = 24


def pairs_by_model(pairs: Iterable[Pair]) -> dict[str, list[Pair]]:
    """Each model's pairs, in the standings' order: one pass, so a model page does not scan
    every pair of the board (models² pairs × models pages)."""
    out: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        out[p.model_a].append(p)
        out[p.model_b].append(p)
    return out


def models(pb: _Builder) -> list[Page]:
    main = pb.s.headline(pb.main_dim.key) if pb.main_dim else None
    rank = {e.model: e for e in main.entries} if main else {}
    rows = [
        [
            {"text": m.name, "href": f"{m.key}.html", "sort": m.name},
            m.organization or fmt.MISSING,
            m.license or fmt.MISSING,
            m.release_date or fmt.MISSING,
            {"text": str(rank[m.key].rank), "sort": rank[m.key].rank}
            if m.key in rank
            else fmt.MISSING,
            fmt.count(rank[m.key].battles if m.key in rank else 0),
        ]
        for m in pb.s.models
    ]
    pages = [Page("models/index.md", "Models", pb.render("models_index.md.j2", rows=rows))]
    dim = pb.main_dim
    h2h = pairs_by_model(p for p in pb.s.pairs if dim is not None and p.dimension == dim.key)
    flagged = pairs_by_model(p for p in pb.s.pairs if p.misfit)
    position = {e.model: n for n, e in enumerate(main.entries)} if main else {}
    pages += [
        model(pb, m.key, _nearest(position, m.key, h2h.get(m.key, [])), flagged.get(m.key, []))
        for m in pb.s.models
    ]
    return pages


def _nearest(position: dict[str, int], key: str, pairs: list[Pair]) -> tuple[list[Pair], int]:
    """The `H2H_SHOWN` pairs of `key` whose opponent is nearest in headline rank (`position`:
    each model's place in the headline table), in their standings order, and how many pairs
    there were."""
    if len(pairs) <= H2H_SHOWN:
        return pairs, len(pairs)
    mine = position.get(key, len(position))

    def distance(p: Pair) -> tuple[int, int]:
        other = position.get(p.model_b if p.model_a == key else p.model_a, len(position) * 2)
        return abs(other - mine), other

    kept = {(p.model_a, p.model_b) for p in sorted(pairs, key=distance)[:H2H_SHOWN]}
    return [p for p in pairs if (p.model_a, p.model_b) in kept], len(pairs)


def model(pb: _Builder, key: str, h2h: tuple[list[Pair], int], misfits: list[Pair]) -> Page:
    """The page of model `key`; `h2h`: the pairs of the main dimension it lists and how many
    the model has (`_nearest`), `misfits`: its pairs the fit check flagged."""
    info = next(m for m in pb.s.models if m.key == key)
    path = f"models/{key}.md"
    link: object = fmt.MISSING
    if _safe_url(info.url):
        link = {"text": "model card", "href": info.url, "sort": ""}
    dim = pb.main_dim
    text = pb.render(
        "model.md.j2",
        model=info,
        info=[
            info.organization or fmt.MISSING,
            info.license or fmt.MISSING,
            info.release_date or fmt.MISSING,
            link,
        ],
        dim={"label": dim.label if dim else ""},
        by_dimension=_by_dimension(pb, path, key),
        by_group=_by_group(pb, key),
        h2h=_head_to_head(pb, key, h2h[0]),
        h2h_total=h2h[1],
        misfits=_misfits(pb, key, misfits),
        fit_checked=bool(pb.s.fit_checks),
        history=chart_block(f"history-{key}", charts.history_spec(pb.s, key)),
        likert=_likert(pb, key),
    )
    return Page(path, info.name, text)


def _by_dimension(pb: _Builder, path: str, key: str) -> list[list[object]]:
    """The model's headline entry in each battle dimension."""
    rows: list[list[object]] = []
    for d in pb.battle_dims:
        e = pb.entry(pb.s.headline(d.key), key)
        if e is None:
            continue
        rows.append(
            [
                {"text": d.label, "href": href(path, f"dimensions/{d.key}.md"), "sort": d.label},
                e.rank,
                fmt.rank_range(e.rank_lower, e.rank_upper),
                fmt.number(e.score),
                fmt.band(e.lower, e.upper),
                fmt.count(e.battles),
                fmt.count(e.wins),
                fmt.count(e.losses),
                fmt.count(e.ties),
            ]
        )
    return rows


def _by_group(pb: _Builder, key: str) -> list[list[object]]:
    """The model's entry in each published group's table of the main dimension."""
    dim = pb.main_dim
    rows: list[list[object]] = []
    if dim is None:
        return rows
    for sl in pb.s.slices:
        for value in sl.published:
            e = pb.entry(pb.s.table(dim.key, sl.attribute, value), key)
            if e is None:
                continue
            rows.append(
                [
                    sl.label or sl.attribute,
                    value,
                    e.rank,
                    fmt.number(e.score),
                    fmt.band(e.lower, e.upper),
                    fmt.count(e.battles),
                ]
            )
    return rows


def _head_to_head(pb: _Builder, key: str, pairs: list[Pair]) -> list[list[object]]:
    """The model's record against each opponent in the main dimension."""
    rows: list[list[object]] = []
    for p in pairs:
        me_a, other, wins, losses = _side(p, key)
        share = p.share_of(key)
        rows.append(
            [
                {"text": pb.names[other], "href": f"{other}.html", "sort": other},
                fmt.count(p.battles),
                fmt.count(wins),
                fmt.count(losses),
                fmt.count(p.ties),
                fmt.percent(share),
                fmt.percent(p.p_a if me_a else p.p_b),
            ]
        )
    return rows


def _side(p: Pair, key: str) -> tuple[bool, str, int, int]:
    """`key`'s side of the pair: is it model_a, its opponent, its wins and its losses."""
    me_a = p.model_a == key
    if me_a:
        return me_a, p.model_b, p.wins_a, p.wins_b
    return me_a, p.model_a, p.wins_b, p.wins_a


def _likert(pb: _Builder, key: str) -> list[list[object]]:
    return [
        [
            pb.dim_labels[r.dimension],
            fmt.count(r.n),
            fmt.number(r.mean),
            fmt.band(r.ci_lower, r.ci_upper),
            _scale(pb.s, r.dimension),
        ]
        for r in pb.pooled_likert.get(key, [])
    ]


def _misfits(pb: _Builder, key: str, pairs: list[Pair]) -> list[list[object]]:
    """This model's pairs the fit check flagged: observed vs predicted a/b/tie counts."""
    rows: list[list[object]] = []
    for p in pairs:
        me_a, other, wins, losses = _side(p, key)
        exp = (p.expected_a, p.expected_b) if me_a else (p.expected_b, p.expected_a)
        rows.append(
            [
                pb.dim_labels.get(p.dimension, p.dimension),
                {"text": pb.names[other], "href": f"{other}.html", "sort": other},
                f"{wins}–{losses}–{p.ties}",
                "–".join(fmt.number(x, 1) for x in (*exp, p.expected_tie)),
                f"{p.fit_p_adjusted:.2g}",
            ]
        )
    return rows


def _scale(standings: Standings, dimension: str) -> str:
    d = next(x for x in standings.dimensions if x.key == dimension)
    return fmt.rank_range(d.scale_min, d.scale_max)


def _safe_url(url: str) -> bool:
    # Only web links: a javascript: or data: URL in the config must never become a live link.
    return url.startswith(("https://", "http://"))
