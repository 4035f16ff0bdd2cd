"""The model pages: the index of models and one page per model (scores by dimension and group,
head-to-head record, fit check, rating history, Likert ratings)."""

from __future__ import annotations

from prefboard.render import charts
from prefboard.render.pages.core import Page, _Builder, _num, chart_block, href
from prefboard.standings.model import POOLED, Entry, Standings, Table


def models(pb: _Builder) -> list[Page]:
    main = pb.s.headline(pb.main_dim.key) if pb.main_dim else None
    rank = {e.model: e for e in main.entries} if main else {}
    rows = [
        [
            {"text": m.name, "href": f"{m.key}.html", "sort": m.name},
            m.organization,
            m.license,
            m.release_date,
            {"text": str(rank[m.key].rank), "sort": rank[m.key].rank} if m.key in rank else "–",
            rank[m.key].battles if m.key in rank else 0,
        ]
        for m in pb.s.models
    ]
    pages = [Page("models/index.md", "Models", pb.render("models_index.md.j2", rows=rows))]
    pages += [model(pb, m.key) for m in pb.s.models]
    return pages


def model(pb: _Builder, key: str) -> Page:
    info = next(m for m in pb.s.models if m.key == key)
    path = f"models/{key}.md"
    link = {"text": "model card", "href": info.url, "sort": ""} if _safe_url(info.url) else "–"
    by_dimension = []
    for d in pb.battle_dims:
        t = pb.s.headline(d.key)
        e = _entry(t, key)
        if e is None:
            continue
        by_dimension.append(
            [
                {
                    "text": d.label,
                    "href": href(path, f"dimensions/{d.key}.md"),
                    "sort": d.label,
                },
                e.rank,
                f"{e.rank_lower}–{e.rank_upper}",
                f"{e.score:.2f}",
                f"{e.lower:.2f} – {e.upper:.2f}",
                e.battles,
                e.wins,
                e.losses,
                e.ties,
            ]
        )
    by_group = []
    dim = pb.main_dim
    if dim:
        for sl in pb.s.slices:
            for value in sl.published:
                e = _entry(pb.s.table(dim.key, sl.attribute, value), key)
                if e is None:
                    continue
                by_group.append(
                    [
                        sl.label,
                        value,
                        e.rank,
                        f"{e.score:.2f}",
                        f"{e.lower:.2f} – {e.upper:.2f}",
                        e.battles,
                    ]
                )
    h2h = []
    if dim:
        for p in pb.s.pairs:
            if p.dimension != dim.key or key not in (p.model_a, p.model_b):
                continue
            me_a = p.model_a == key
            other = p.model_b if me_a else p.model_a
            wins, losses = (p.wins_a, p.wins_b) if me_a else (p.wins_b, p.wins_a)
            share = (wins + p.ties / 2) / p.battles if p.battles else None
            h2h.append(
                [
                    {"text": pb.names[other], "href": f"{other}.html", "sort": other},
                    p.battles,
                    wins,
                    losses,
                    p.ties,
                    "–" if share is None else f"{share:.0%}",
                    f"{(p.p_a if me_a else p.p_b):.0%}",
                ]
            )
    misfits = _misfits(pb, key)
    likert = [
        [
            next(d.label for d in pb.s.dimensions if d.key == r.dimension),
            r.n,
            _num(r.mean),
            f"{_num(r.ci_lower)} – {_num(r.ci_upper)}",
            f"{_scale(pb.s, r.dimension)}",
        ]
        for r in pb.s.likert
        if r.model == key and r.slice_attribute == POOLED
    ]
    text = pb.render(
        "model.md.j2",
        model=info,
        info=[info.organization or "–", info.license or "–", info.release_date or "–", link],
        dim={"label": dim.label if dim else ""},
        by_dimension=by_dimension,
        by_group=by_group,
        h2h=h2h,
        misfits=misfits,
        fit_checked=bool(pb.s.fit_checks),
        history=chart_block(f"history-{key}", charts.history_chart(pb.s, key)),
        likert=likert,
    )
    return Page(path, info.name, text)


def _misfits(pb: _Builder, key: str) -> list[list[object]]:
    """This model's pairs the fit check flagged: observed vs predicted a/b/tie counts."""
    labels = {d.key: d.label for d in pb.s.dimensions}
    rows: list[list[object]] = []
    for p in pb.s.pairs:
        if not p.misfit or key not in (p.model_a, p.model_b):
            continue
        me_a = p.model_a == key
        other = p.model_b if me_a else p.model_a
        wins, losses = (p.wins_a, p.wins_b) if me_a else (p.wins_b, p.wins_a)
        exp = (p.expected_a, p.expected_b) if me_a else (p.expected_b, p.expected_a)
        rows.append(
            [
                labels.get(p.dimension, p.dimension),
                {"text": pb.names[other], "href": f"{other}.html", "sort": other},
                f"{wins}–{losses}–{p.ties}",
                f"{exp[0]:.1f}–{exp[1]:.1f}–{p.expected_tie:.1f}",
                f"{p.fit_p_adjusted:.2g}",
            ]
        )
    return rows


def _entry(table: Table | None, key: str) -> Entry | None:
    if table is None:
        return None
    return next((e for e in table.entries if e.model == key), None)


def _scale(standings: Standings, dimension: str) -> str:
    d = next(x for x in standings.dimensions if x.key == dimension)
    return f"{d.scale_min}–{d.scale_max}"


def _safe_url(url: str) -> bool:
    # Only web links: a javascript: or data: URL in the config must never become a live link.
    return url.startswith(("https://", "http://"))
