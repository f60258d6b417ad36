"""Corpus report from a predictions file: topic shares and stance mix per group (outlet) and period.

The file written by ``newsclf predict`` (JSONL, CSV or Parquet) is read as a stream and only counts
per group and per (group, period) are kept, so memory grows with the number of groups and periods,
never with the number of rows. Rows with ``no_content`` (empty texts) are counted apart and left out
of every share; a row without a group value goes to ``(unknown)``, one without a parseable date to
``(no date)``: both are shown, nothing is dropped. Groups (and group-periods) with fewer than
``min_count`` paragraphs are flagged, not hidden.

Intervals are 95 % Wilson score intervals on paragraph counts. Paragraphs of one article are
correlated (one story, one framing), so treating them as independent draws makes these intervals
too narrow when articles contribute many paragraphs: read them as a lower bound on the uncertainty
(the ``paragraphs_per_article`` column shows how much clustering there is). Articles are counted
as runs of consecutive rows with the same ``article_field`` within a group, which needs no memory
per article and is exact for ``newsclf predict`` output (an article's paragraphs are written
together); a file re-sorted so that an article's paragraphs are scattered overcounts articles.

Writes ``by_group.csv``, ``by_group_period.csv`` (unless ``time=None``), three figures as PNG and
SVG (topic share over time, stance mix, topic x group heat map) and one self-contained
``report.html``.
"""
from __future__ import annotations

import base64
import csv
import html
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.ft2font  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from .data import DataError, _parse_topic_cell, iter_rows  # noqa: E402
from .labels import STANCES, TOPICS  # noqa: E402

logger = logging.getLogger(__name__)

TIMES = ("month", "week", "year", None)
UNKNOWN_GROUP, NO_DATE, ALL = "(unknown)", "(no date)", "all"
NO_TOPIC = "no_topic"
SHARES = (*(f"topic_{t}" for t in TOPICS), NO_TOPIC, *(f"stance_{s}" for s in STANCES))
Z95 = 1.959963984540054  # two-sided 95 % normal quantile
TIME_GROUPS = 6  # lines per panel of the over-time figure
FIGURE_GROUPS = 25  # rows of the stance and heat-map figures
ARABIC_FONTS = ("Noto Sans Arabic", "Noto Naskh Arabic")
STANCE_COLOURS = {"pro_government": "#c0392b", "pro_opposition": "#2e86c1", "neutral": "#bdc3c7"}

# Counter layout: rows, no_content, articles, one per topic, no topic, one per stance.
_ROWS, _EMPTY, _ARTICLES, _TOPIC0 = 0, 1, 2, 3
_NONE = _TOPIC0 + len(TOPICS)
_STANCE0 = _NONE + 1
_WIDTH = _STANCE0 + len(STANCES)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Share k/n with its Wilson score interval (lo, hi); all NaN when n is 0."""
    if n == 0:
        return math.nan, math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return p, max(0.0, centre - half), min(1.0, centre + half)


def period_of(value, time: str | None) -> str:
    """The period label of a date value (``2018-04``, ``2018-W14``, ``2018``), or ``(no date)``."""
    if time is None:
        return ALL
    if isinstance(value, datetime):
        d = value.date()
    elif isinstance(value, date):
        d = value
    else:
        try:
            d = date.fromisoformat(value.strip()[:10]) if isinstance(value, str) else None
        except ValueError:
            d = None
    if d is None:
        return NO_DATE
    if time == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if time == "week":
        year, week, _ = d.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{d.year:04d}"


def period_start(period: str) -> date:
    """First day of a period label made by :func:`period_of` (for the time axis)."""
    if "-W" in period:
        year, week = period.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    year, _, month = period.partition("-")
    return date(int(year), int(month or 1), 1)


@dataclass
class Aggregate:
    """Counts per group and per (group, period): what the tables and figures are made from."""

    groups: dict = field(default_factory=dict)  # group -> counter list
    periods: dict = field(default_factory=dict)  # (group, period) -> counter list
    rows: int = 0
    no_content: int = 0
    group_field_seen: bool = False
    article_field_seen: bool = False


def _parse(path, line: int, row: dict) -> tuple[bool, list[int], int]:
    """(no_content, topic indices, stance index) of one prediction row; DataError naming file, line, field."""
    topics = row.get("topics")
    if topics is None:
        raise DataError(path, line, "topics", "is missing")
    if isinstance(topics, str):  # CSV cell, or Parquet written as text
        topics = _parse_topic_cell(path, line, topics)
    if not isinstance(topics, (list, tuple)):
        raise DataError(path, line, "topics", f"must be a list of topic names, got {topics!r}")
    indices = []
    for t in topics:
        if t not in TOPICS:
            raise DataError(path, line, "topics", f"has unknown topic {t!r}; expected names from {list(TOPICS)}")
        indices.append(TOPICS.index(t))
    stance = row.get("stance")
    if stance is None or stance == "":
        raise DataError(path, line, "stance", "is missing")
    if stance not in STANCES:
        raise DataError(path, line, "stance", f"has unknown stance {stance!r}; expected one of {list(STANCES)}")
    empty = row.get("no_content", False)
    if isinstance(empty, str):
        if empty.strip().lower() not in ("", "0", "1", "true", "false"):
            raise DataError(path, line, "no_content", f"must be 0/1 or true/false, got {empty!r}")
        empty = empty.strip().lower() in ("1", "true")
    return bool(empty), sorted(set(indices)), STANCES.index(stance)


def aggregate(predictions: str | Path, by: str | None = "outlet", time: str | None = "month",
              date_field: str = "date", article_field: str = "article_id", progress: bool = True) -> Aggregate:
    """Stream a predictions file into counts per group and per (group, period)."""
    if time not in TIMES:
        raise ValueError(f"time must be one of {list(TIMES)}, got {time!r}")
    path = Path(predictions)
    agg, last_article = Aggregate(), {}
    for line, row in tqdm(iter_rows(path), desc=f"report {path.name}", unit="row", disable=not progress):
        empty, topics, stance = _parse(path, line, row)
        value = row.get(by) if by else ALL
        agg.group_field_seen |= by is None or by in row
        group = UNKNOWN_GROUP if value is None or str(value).strip() == "" else str(value).strip()
        article = row.get(article_field)
        article = None if article == "" else article  # an empty CSV cell
        agg.article_field_seen |= article is not None
        agg.rows += 1
        agg.no_content += empty
        keys = [(agg.groups, group)] + ([(agg.periods, (group, period_of(row.get(date_field), time)))] if time else [])
        for table, key in keys:
            counts = table.get(key)
            if counts is None:
                counts = table[key] = [0] * _WIDTH
            counts[_ROWS] += 1
            if article is not None and last_article.get(key) != article:
                counts[_ARTICLES] += 1
                last_article[key] = article
            if empty:
                counts[_EMPTY] += 1
                continue
            for t in topics:
                counts[_TOPIC0 + t] += 1
            counts[_NONE] += not topics
            counts[_STANCE0 + stance] += 1
    if agg.rows == 0:
        raise DataError(path, None, None, "no rows")
    if not agg.group_field_seen:
        logger.warning("no row of %s has the field %r: every row is in group %r", path, by, UNKNOWN_GROUP)
    return agg


def table_row(counts: list[int], min_count: int, with_articles: bool) -> dict:
    """One table row: paragraph counts, each share with its Wilson interval, and the min-count flag."""
    n = counts[_ROWS] - counts[_EMPTY]
    out = {"paragraphs": n, "no_content": counts[_EMPTY]}
    if with_articles:
        out["articles"] = counts[_ARTICLES]
        out["paragraphs_per_article"] = round(counts[_ROWS] / counts[_ARTICLES], 2) if counts[_ARTICLES] else ""
    for name, k in zip(SHARES, counts[_TOPIC0:]):
        p, lo, hi = wilson(k, n)
        out |= {name: p, f"{name}_lo": lo, f"{name}_hi": hi}
    out["below_min_count"] = n < min_count
    return out


def tables(agg: Aggregate, min_count: int) -> tuple[list[dict], list[dict]]:
    """Rows of by_group and by_group_period: groups largest first, periods in time order, (no date) last."""
    order = sorted(agg.groups, key=lambda g: (-(agg.groups[g][_ROWS] - agg.groups[g][_EMPTY]), g))
    rank = {g: i for i, g in enumerate(order)}
    arts = agg.article_field_seen
    by_group = [{"group": g, **table_row(agg.groups[g], min_count, arts)} for g in order]
    keys = sorted(agg.periods, key=lambda k: (rank[k[0]], k[1] == NO_DATE, k[1]))
    by_period = [{"group": g, "period": p, **table_row(agg.periods[(g, p)], min_count, arts)} for g, p in keys]
    return by_group, by_period


def _write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else
                                 round(v, 6) if isinstance(v, float) else v) for k, v in r.items()})


# ---- figures ----

@cache
def font_families() -> tuple[str, ...]:
    """An installed font with Arabic glyphs first (registered if the font cache predates it), then DejaVu Sans."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    if not known & set(ARABIC_FONTS):
        for file in font_manager.findSystemFonts():
            if Path(file).stem in ("NotoSansArabic-Regular", "NotoNaskhArabic-Regular"):
                font_manager.fontManager.addfont(file)
        known = {f.name for f in font_manager.fontManager.ttflist}
    return tuple(f for f in ARABIC_FONTS if f in known)[:1] + ("DejaVu Sans",)


@cache
def _native_shaping() -> bool:
    """Whether matplotlib shapes and orders right-to-left text itself (built with libraqm, 3.11+)."""
    return bool(getattr(matplotlib.ft2font, "__libraqm_version__", None))


def display_text(text: str) -> str:
    """Text as matplotlib must be given it to show Arabic joined and right to left, inside a left-to-right line.

    Matplotlib built with libraqm shapes and orders by itself: it only gets a leading left-to-right
    mark, so that what follows (a count) stays on the right. Otherwise the text is reshaped and reordered here.
    """
    if not any("\u0600" <= c <= "\u06ff" or "\ufb50" <= c <= "\ufeff" for c in text):
        return text
    if _native_shaping():
        return "\u200e" + text
    import arabic_reshaper
    from bidi.algorithm import get_display

    return get_display(arabic_reshaper.reshape(text))


def _group_label(row: dict) -> str:
    flag = " *" if row["below_min_count"] else ""
    return display_text(row["group"]) + f" (n={row['paragraphs']}){flag}"


def _save(fig, out_dir: Path, name: str) -> list[Path]:
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.svg"]
    for p in paths:
        fig.savefig(p, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return paths


def _rc():
    return plt.rc_context({"font.family": list(font_families()), "svg.fonttype": "path", "axes.spines.top": False,
                           "axes.spines.right": False})


def _central_span(weighted: list[tuple], share: float = 0.98) -> tuple:
    """The first and last of sorted ``(value, weight)`` pairs that bound the central ``share`` of the weight."""
    total, tail = sum(w for _, w in weighted), (1 - share) / 2
    cumulative = np.cumsum([w for _, w in weighted]) / total
    first = int(np.searchsorted(cumulative, tail, side="right"))
    last = int(np.searchsorted(cumulative, 1 - tail, side="left"))
    return weighted[min(first, len(weighted) - 1)][0], weighted[min(last, len(weighted) - 1)][0]


def time_figure(by_group: list[dict], by_period: list[dict], out_dir: Path, time: str, min_count: int) -> list[Path]:
    """Topic share over time, one panel per topic, a line and 95 % band per group (those with most dated paragraphs).

    Lines and bands join only periods with at least ``min_count`` paragraphs; sparser periods are
    hollow markers, and the time axis spans the periods that reach ``min_count`` and hold the central
    98 % of their paragraphs, so a few stray old dates do not squeeze the rest (cells outside are
    counted in a note and are in the tables).
    """
    cells = {}
    for p in by_period:
        if p["period"] != NO_DATE and p["paragraphs"]:
            cells.setdefault(p["group"], []).append(p)
    dated = {g: sum(p["paragraphs"] for p in ps) for g, ps in cells.items()}
    shown = sorted(cells, key=lambda g: (-dated[g], g))[:TIME_GROUPS]
    dense = sorted((period_start(p["period"]), p["paragraphs"]) for g in shown for p in cells[g]
                   if p["paragraphs"] >= min_count)
    span = _central_span(dense) if dense else None
    outside = sum(1 for g in shown for p in cells[g] if span and not span[0] <= period_start(p["period"]) <= span[1])
    undated = sum(p["paragraphs"] for p in by_period if p["period"] == NO_DATE)
    with _rc():
        fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), sharex=True, sharey=True)
        colours = plt.get_cmap("tab10").colors
        for ax, topic in zip(axes.flat, TOPICS):
            for colour, g in zip(colours, shown):
                x = np.array([period_start(p["period"]) for p in cells[g]])
                low = np.array([p["paragraphs"] < min_count for p in cells[g]], dtype=bool)
                y, lo, hi = (np.array([p[f"topic_{topic}{s}"] for p in cells[g]]) for s in ("", "_lo", "_hi"))
                ax.fill_between(x, np.where(low, np.nan, lo), np.where(low, np.nan, hi), color=colour, alpha=0.15,
                                lw=0)
                ax.plot(x, np.where(low, np.nan, y), "o-", color=colour, lw=1.5, ms=3.5,
                        label=display_text(g) + f" ({dated[g]} dated)")
                ax.plot(x[low], y[low], "o", mfc="white", color=colour, ms=3.5, alpha=0.6)
            ax.set_title(topic)
            ax.set_ylim(0, 1)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
            ax.grid(alpha=0.3)
            if span:
                pad = max((span[1] - span[0]) / 40, timedelta(days=3))
                ax.set_xlim(span[0] - pad, span[1] + pad)
            ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        for ax in axes[:, 0]:
            ax.set_ylabel("share of paragraphs")
        note = [f"shaded: 95 % Wilson interval; hollow marker: fewer than {min_count} paragraphs in that {time}"]
        if len(cells) > len(shown):
            note.append(f"the {len(shown)} of {len(cells)} groups with most dated paragraphs")
        if outside:
            note.append(f"{outside} (group, {time}) cells outside this range are only in the tables")
        if undated:
            note.append(f"{undated} paragraphs without a date are in the tables, not on this axis")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        rows = (len(labels) + 2) // 3
        fig.suptitle(f"Topic share per {time}", fontsize=13)
        fig.tight_layout(rect=(0, 0.05 + 0.035 * (rows + len(note)), 1, 1))
        legend = fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), frameon=False,
                            bbox_to_anchor=(0.5, 0), title=";\n".join(note), title_fontsize=9)
        legend.get_title().set(color="#555", family="DejaVu Sans")
        return _save(fig, out_dir, "topics_over_time")


def _figure_rows(by_group: list[dict]) -> list[dict]:
    return [r for r in by_group if r["paragraphs"]][:FIGURE_GROUPS]


def _rows_note(by_group: list[dict], shown: list[dict], min_count: int) -> str:
    note = f"* fewer than {min_count} paragraphs"
    if len(shown) < len(by_group):
        note += f"; the {len(shown)} largest of {len(by_group)} groups (all are in the tables)"
    return note


def stance_figure(by_group: list[dict], out_dir: Path, min_count: int) -> list[Path]:
    """Stance mix per group as stacked horizontal bars (largest group on top)."""
    rows = _figure_rows(by_group)[::-1]
    with _rc():
        fig, ax = plt.subplots(figsize=(9, 1.4 + 0.32 * len(rows)))
        left = np.zeros(len(rows))
        for s in STANCES:
            share = np.array([r[f"stance_{s}"] for r in rows])
            ax.barh(range(len(rows)), share, left=left, color=STANCE_COLOURS[s], label=s, height=0.75)
            for i, (x0, w) in enumerate(zip(left, share)):
                if w >= 0.07:
                    ax.text(x0 + w / 2, i, f"{w:.0%}", ha="center", va="center", fontsize=8)
            left += share
        ax.set_yticks(range(len(rows)), [_group_label(r) for r in rows])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
        ax.set_xlabel("share of paragraphs; " + _rows_note(by_group, rows, min_count), fontsize=9)
        fig.tight_layout()
        return _save(fig, out_dir, "stance_mix")


def heatmap_figure(by_group: list[dict], out_dir: Path, min_count: int) -> list[Path]:
    """Topic x group heat map with each share written in its cell."""
    rows = _figure_rows(by_group)
    cols = [f"topic_{t}" for t in TOPICS] + [NO_TOPIC]
    m = np.array([[r[c] for c in cols] for r in rows]).reshape(len(rows), len(cols))
    with _rc():
        fig, ax = plt.subplots(figsize=(8, 1.6 + 0.32 * len(rows)))
        ax.imshow(m, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ax.text(j, i, f"{m[i, j]:.0%}", ha="center", va="center", fontsize=8,
                        color="white" if m[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(cols)), [c.removeprefix("topic_").replace("_", " ") for c in cols])
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(rows)), [_group_label(r) for r in rows])
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_xlabel("share of paragraphs with each topic; " + _rows_note(by_group, rows, min_count), fontsize=9)
        fig.tight_layout()
        return _save(fig, out_dir, "topic_heatmap")


# ---- html ----

_CSS = """body{font-family:system-ui,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",sans-serif;margin:2em auto;
max-width:1400px;padding:0 1em;color:#222;line-height:1.45}h1{font-size:1.6em}h2{margin-top:1.6em;
border-bottom:1px solid #ddd}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:2px 5px;text-align:right;white-space:nowrap;line-height:1.2}th{background:#f4f4f4}
td.g{text-align:start}tr.low td{color:#888;font-style:italic}small{color:#777;font-size:.8em}.wide{overflow-x:auto}
.flag{color:#b9770e;font-weight:bold}img{max-width:100%;border:1px solid #eee}
.note{background:#f8f8f2;border-left:4px solid #ccb;padding:.5em 1em}"""


def _cell(row: dict, name: str) -> str:
    p = row[name]
    if math.isnan(p):
        return "<td>–</td>"
    return f"<td>{p:.1%}<br><small>{row[name + '_lo']:.1%}–{row[name + '_hi']:.1%}</small></td>"


def _html_table(rows: list[dict], with_period: bool, min_count: int) -> str:
    arts = "articles" in rows[0]
    head = ["group"] + (["period"] if with_period else []) + ["paragraphs", "no content"]
    head += ["articles", "per article"] if arts else []
    head += [s.removeprefix("topic_").removeprefix("stance_").replace("_", " ") for s in SHARES]
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        cells = [f'<td class="g"><bdi>{html.escape(r["group"])}</bdi>'
                 + (f' <span class="flag" title="fewer than {min_count} paragraphs">*</span>'
                    if r["below_min_count"] else "") + "</td>"]
        if with_period:
            cells.append(f'<td class="g">{html.escape(r["period"])}</td>')
        cells += [f"<td>{r['paragraphs']}</td>", f"<td>{r['no_content']}</td>"]
        cells += [f"<td>{r['articles']}</td>", f"<td>{r['paragraphs_per_article']}</td>"] if arts else []
        cells += [_cell(r, s) for s in SHARES]
        out.append(f'<tr class="{"low" if r["below_min_count"] else ""}">' + "".join(cells) + "</tr>")
    return '<div class="wide">' + "\n".join(out) + "</table></div>"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></p>'


def write_html(path: Path, title: str, summary: dict, by_group: list[dict], by_period: list[dict],
               figures: dict[str, Path], min_count: int, time: str | None) -> None:
    """One self-contained page (inline CSS, figures as data URIs, no script, nothing fetched)."""
    low = [r["group"] for r in by_group if r["below_min_count"]]
    low_html = ", ".join(f"<bdi>{html.escape(g)}</bdi>" for g in low) or "none"
    shown = {r["group"] for r in by_group[:TIME_GROUPS]}
    parts = [f'<!DOCTYPE html><html lang="en" dir="ltr"><head><meta charset="utf-8"><title>{html.escape(title)}'
             f"</title><style>{_CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             "<h2>Summary</h2><ul>",
             f"<li>rows read: <b>{summary['rows']}</b> from <code>{html.escape(summary['predictions'])}</code></li>",
             f"<li>no-content rows (empty texts, counted apart, not in any share): <b>{summary['no_content']}</b></li>",
             f"<li>paragraphs with content: <b>{summary['paragraphs']}</b></li>",
             f"<li>groups (by <code>{html.escape(str(summary['by']))}</code>): <b>{summary['groups']}</b>"
             f"{'' if summary['group_field_seen'] else ' <b>(no row has this field)</b>'}</li>",
             f"<li>periods (per {html.escape(str(time))}): <b>{summary['periods']}</b></li>" if time else "",
             f"<li>groups below the minimum of {min_count} paragraphs "
             f'(<span class="flag">*</span>, greyed in the tables): {low_html}</li></ul>',
             '<h2>How to read this</h2><div class="note"><p>Each share is the fraction of a group\'s paragraphs '
             "(with content) that the model gave a topic or a stance; a paragraph can have several topics or none, "
             "and has exactly one stance. The labels are model predictions, not annotations: they carry the model's "
             "errors. Ranges in brackets and shaded bands are 95 % Wilson score intervals computed on paragraph "
             "counts. Paragraphs of one article are correlated, so these intervals are <b>too narrow</b> when "
             "articles contribute many paragraphs (see paragraphs per article): treat them as the least uncertainty "
             "there is. Groups with few paragraphs are flagged, not hidden: their shares are noisy.</p></div>"]
    captions = {"topics_over_time": "Topic share over time", "stance_mix": "Stance mix per group",
                "topic_heatmap": "Topic share per group"}
    parts += [f"<h2>{captions[name]}</h2>" + _img(p, captions[name]) for name, p in figures.items()]
    parts += ["<h2>Per group</h2>", _html_table(by_group, False, min_count)]
    if by_period:
        rows = [r for r in by_period if r["group"] in shown]
        parts += [f"<h2>Per group and {html.escape(str(time))}</h2>",
                  f"<p>The {len(shown)} largest groups; every group is in <code>by_group_period.csv</code>.</p>",
                  _html_table(rows, True, min_count)]
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def build_report(predictions: str | Path, out_dir: str | Path, by: str | None = "outlet", time: str | None = "month",
                 min_count: int = 30, date_field: str = "date", article_field: str = "article_id",
                 progress: bool = True, title: str | None = None) -> dict:
    """Tables, figures and report.html for a predictions file in ``out_dir``; returns a summary dict."""
    if not isinstance(min_count, int) or min_count < 0:
        raise ValueError(f"min_count must be a whole number >= 0, got {min_count!r}")
    agg = aggregate(predictions, by, time, date_field, article_field, progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_group, by_period = tables(agg, min_count)
    files = [out / "by_group.csv"]
    _write_csv(by_group, files[-1])
    figures = {}
    if time:
        files.append(out / "by_group_period.csv")
        _write_csv(by_period, files[-1])
        if any(p["period"] != NO_DATE and p["paragraphs"] for p in by_period):
            figures["topics_over_time"] = time_figure(by_group, by_period, out, time, min_count)
    if any(r["paragraphs"] for r in by_group):
        figures["stance_mix"] = stance_figure(by_group, out, min_count)
        figures["topic_heatmap"] = heatmap_figure(by_group, out, min_count)
    files += [p for paths in figures.values() for p in paths]
    summary = {"predictions": str(predictions), "by": by, "time": time, "rows": agg.rows,
               "no_content": agg.no_content, "paragraphs": agg.rows - agg.no_content, "groups": len(agg.groups),
               "periods": len({p for _, p in agg.periods}), "group_field_seen": agg.group_field_seen,
               "below_min_count": [r["group"] for r in by_group if r["below_min_count"]]}
    files.append(out / "report.html")
    write_html(files[-1], title or f"newsclf corpus report: {Path(predictions).name}", summary, by_group,
               by_period, {k: v[0] for k, v in figures.items()}, min_count, time)
    return summary | {"files": [str(f) for f in files]}
