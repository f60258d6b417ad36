import csv
import json
import math
import tracemalloc
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsclf.cli import main
from newsclf.data import DataError
from newsclf.labels import STANCES, TOPICS
from newsclf.report import aggregate, build_report, display_text, font_families, period_of, tables, wilson


def row(outlet, day, topics, stance, article, no_content=False):
    r = {"id": f"{article}-p", "article_id": article, "date": day, "topics": topics,
         "topic_scores": dict.fromkeys(TOPICS, 0.5), "stance": stance, "stance_scores": dict.fromkeys(STANCES, 0.3),
         "no_content": no_content}
    return r if outlet is ... else {**r, "outlet": outlet}


# A handful of rows whose shares are worked out by hand below.
ROWS = [
    row("A", "2018-01-05", ["military"], "neutral", "a1"),
    row("A", "2018-01-20", ["military", "displacement"], "pro_government", "a1"),
    row("A", "2018-02-03", [], "neutral", "a2"),
    row("A", "2018-02-04", [], "neutral", "a2", no_content=True),  # counted apart, in no share
    row("بلدي", None, ["humanitarian"], "pro_opposition", "a3"),  # Arabic group, no date
    row(..., "2018-02-10", ["diplomatic"], "neutral", "a4"),  # no outlet field
    row("", "not a date", [], "pro_government", "a5"),  # empty outlet, unparseable date
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def flat(r):
    """The flat form of a row (CSV and Parquet output of newsclf predict)."""
    out = {"id": r["id"], "article_id": r["article_id"], "outlet": r.get("outlet"), "date": r["date"],
           "topics": r["topics"], **{f"topic_{t}": s for t, s in r["topic_scores"].items()}, "stance": r["stance"],
           **{f"stance_{s}": v for s, v in r["stance_scores"].items()}, "no_content": r["no_content"]}
    return out


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(flat(rows[0])))
        w.writeheader()
        for r in map(flat, rows):
            w.writerow(r | {"topics": "|".join(r["topics"]), "no_content": int(r["no_content"]),
                            "outlet": r["outlet"] or "", "date": r["date"] or ""})
    return path


def write_parquet(path, rows):
    pq.write_table(pa.Table.from_pylist([flat(r) for r in rows]), path)
    return path


def read_table(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_wilson_matches_textbook_values():
    # Wilson 95 % intervals as tabulated (e.g. Newcombe 1998; Brown, Cai & DasGupta 2001)
    assert wilson(0, 10) == pytest.approx((0.0, 0.0, 0.2775), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.5, 0.2366, 0.7634), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((1.0, 0.7225, 1.0), abs=1e-4)
    assert wilson(2, 3) == pytest.approx((2 / 3, 0.2077, 0.9385), abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))


@pytest.mark.parametrize("value, time, expected", [
    ("2018-04-03", "month", "2018-04"), ("2018-04-03", "week", "2018-W14"), ("2018-04-03", "year", "2018"),
    ("2018-12-31T23:00:00", "week", "2019-W01"), (datetime(2018, 4, 3, 12), "month", "2018-04"),
    (None, "month", "(no date)"), ("03/04/2018", "month", "(no date)"), (20180403, "month", "(no date)"),
    ("2018-04-03", None, "all"),
])
def test_period_of(value, time, expected):
    assert period_of(value, time) == expected


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report of ROWS with min_count=2: (summary, out_dir)."""
    tmp = tmp_path_factory.mktemp("report")
    return build_report(write_jsonl(tmp / "p.jsonl", ROWS), tmp / "out", min_count=2, progress=False), tmp / "out"


def test_hand_computed_tables(report):
    summary, out = report
    assert {k: summary[k] for k in ("rows", "no_content", "paragraphs", "groups", "periods")} == \
        {"rows": 7, "no_content": 1, "paragraphs": 6, "groups": 3, "periods": 3}
    assert summary["below_min_count"] == ["بلدي"]
    groups = {r["group"]: r for r in read_table(out / "by_group.csv")}
    assert list(groups) == ["A", "(unknown)", "بلدي"]  # largest first; missing and empty outlet -> (unknown)
    a = groups["A"]  # 3 paragraphs with content (the no-content row is counted apart), 2 articles
    assert (a["paragraphs"], a["no_content"], a["articles"], a["paragraphs_per_article"]) == ("3", "1", "2", "2.0")
    shares = {k: float(a[k]) for k in ("topic_military", "topic_humanitarian", "topic_diplomatic",
                                       "topic_displacement", "no_topic", "stance_pro_government",
                                       "stance_pro_opposition", "stance_neutral")}
    assert shares == pytest.approx({"topic_military": 2 / 3, "topic_humanitarian": 0, "topic_diplomatic": 0,
                                    "topic_displacement": 1 / 3, "no_topic": 1 / 3, "stance_pro_government": 1 / 3,
                                    "stance_pro_opposition": 0, "stance_neutral": 2 / 3}, abs=1e-6)
    assert (float(a["topic_military_lo"]), float(a["topic_military_hi"])) == pytest.approx((0.2077, 0.9385), abs=1e-4)
    unknown = groups["(unknown)"]
    assert (unknown["paragraphs"], unknown["topic_diplomatic"], unknown["no_topic"], unknown["stance_neutral"]) == \
        ("2", "0.5", "0.5", "0.5")
    assert [g["below_min_count"] for g in groups.values()] == ["False", "False", "True"]

    periods = {(r["group"], r["period"]): r for r in read_table(out / "by_group_period.csv")}
    assert list(periods) == [("A", "2018-01"), ("A", "2018-02"), ("(unknown)", "2018-02"),
                             ("(unknown)", "(no date)"), ("بلدي", "(no date)")]
    jan, feb = periods[("A", "2018-01")], periods[("A", "2018-02")]
    assert (jan["paragraphs"], jan["topic_military"], jan["topic_displacement"], jan["stance_pro_government"]) == \
        ("2", "1.0", "0.5", "0.5")
    assert (feb["paragraphs"], feb["no_content"], feb["no_topic"], feb["below_min_count"]) == ("1", "1", "1.0", "True")


def test_csv_jsonl_and_parquet_give_the_same_tables(tmp_path):
    outputs = [tables(aggregate(write(tmp_path / name, ROWS), progress=False), min_count=2)
               for name, write in [("p.jsonl", write_jsonl), ("p.csv", write_csv), ("p.parquet", write_parquet)]]
    assert outputs[0] == outputs[1] == outputs[2]
    assert [r["group"] for r in outputs[0][0]] == ["A", "(unknown)", "بلدي"] and len(outputs[0][1]) == 5


@pytest.mark.parametrize("change, field, message", [
    ({"topics": None}, "topics", "is missing"),
    ({"topics": ["sport"]}, "topics", "unknown topic 'sport'"),
    ({"stance": None}, "stance", "is missing"),
    ({"stance": "pro_rebels"}, "stance", "unknown stance 'pro_rebels'"),
    ({"no_content": "maybe"}, "no_content", "must be 0/1"),
])
def test_bad_row_is_an_error_naming_line_and_field(tmp_path, change, field, message):
    bad = {k: v for k, v in {**ROWS[1], **change}.items() if v is not None}
    path = write_jsonl(tmp_path / "p.jsonl", [ROWS[0], ROWS[2], bad])
    with pytest.raises(DataError) as err:
        build_report(path, tmp_path / "out", progress=False)
    assert (err.value.line, err.value.field) == (3, field)
    assert f"{path}:3: field '{field}'" in str(err.value) and message in str(err.value)


def test_cli_min_count_by_and_time(tmp_path, capsys):
    path = write_jsonl(tmp_path / "p.jsonl", ROWS)
    assert main(["report", str(path), str(tmp_path / "a"), "--min-count", "3"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["below_min_count"] == ["(unknown)", "بلدي"]
    flags = {r["group"]: r["below_min_count"] for r in read_table(tmp_path / "a" / "by_group.csv")}
    assert flags == {"A": "False", "(unknown)": "True", "بلدي": "True"}
    assert main(["report", str(path), str(tmp_path / "b"), "--by", "none", "--time", "none"]) == 0
    table = read_table(tmp_path / "b" / "by_group.csv")
    assert [(r["group"], r["paragraphs"], r["no_content"]) for r in table] == [("all", "6", "1")]
    assert not (tmp_path / "b" / "by_group_period.csv").exists()
    assert not (tmp_path / "b" / "topics_over_time.png").exists()
    with pytest.raises(SystemExit):
        main(["report", str(path), str(tmp_path / "c"), "--time", "fortnight"])
    assert main(["report", str(tmp_path / "missing.jsonl"), str(tmp_path / "d")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err


def test_html_is_self_contained_and_figures_are_png_and_svg(report):
    summary, out = report
    for name in ("topics_over_time", "stance_mix", "topic_heatmap"):
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in (out / f"{name}.svg").read_text(encoding="utf-8")[:2000]
        assert str(out / f"{name}.png") in summary["files"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "http" not in page and "<script" not in page and "<link" not in page
    assert page.count('src="') == page.count('src="data:image/png;base64,') == 3
    assert "<bdi>بلدي</bdi>" in page and '<html lang="en" dir="ltr">' in page
    assert "too narrow" in page and "rows read: <b>7</b>" in page


def _ink(text, fontsize=30):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(5, 1))
    fig.text(0.02, 0.3, text, fontfamily=list(font_families()), fontsize=fontsize)
    fig.canvas.draw()
    a = np.asarray(fig.canvas.buffer_rgba())[:, :, 0] < 128
    plt.close(fig)
    cols = np.where(a.any(0))[0]
    return a[:, cols.min():cols.max() + 1]


def test_arabic_labels_render_right_to_left():
    if font_families()[0] == "DejaVu Sans":
        pytest.skip("no Arabic font installed (fonts-noto-core)")
    label, first, second = _ink(display_text("بيت كلب") + " (n=3)"), _ink("بيت"), _ink("كلب")
    # right to left: the second word is drawn first (leftmost), and the count stays to the right of the name
    assert (label[:, :second.shape[1]] == second).mean() > 0.99
    assert (label[:, :first.shape[1]] == first).mean() < 0.98
    assert display_text("bbc") == "bbc"


def _write_synthetic(path, n):
    """n slim prediction rows over 7 outlets x 9 months (the keys do not grow with n)."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f'{{"outlet": "outlet{i % 7}", "date": "2018-{1 + i % 9:02d}-{1 + i % 28:02d}", '
                     f'"article_id": "a{i // 5}", "topics": {json.dumps([TOPICS[i % 4]] if i % 3 else [])}, '
                     f'"stance": "{STANCES[i % 3]}", "no_content": {"true" if i % 97 == 0 else "false"}}}\n'
                     for i in range(n))
    return path


def test_memory_does_not_grow_with_rows(tmp_path):
    peaks = []
    for n in (5_000, 50_000):  # 10x the rows (tracemalloc slows parsing ~8x, so not more)
        path = _write_synthetic(tmp_path / f"p{n}.jsonl", n)
        tracemalloc.start()
        agg = aggregate(path, progress=False)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert agg.rows == n and len(agg.groups) == 7 and len(agg.periods) == 7 * 9
    assert peaks[1] < 1.5 * peaks[0], f"peak {peaks[1] / 2**20:.2f} MiB for 50k rows vs {peaks[0] / 2**20:.2f} MiB"


def test_the_time_axis_spans_the_central_share_of_dated_paragraphs():
    from newsclf.report import _central_span

    assert _central_span([(2013, 50), (2014, 49), (2017, 5000), (2018, 6000), (2019, 3)]) == (2017, 2018)
    assert _central_span([(2018, 10)]) == (2018, 2018)
    assert _central_span([(2017, 1), (2018, 1)]) == (2017, 2018)
