"""Table machinery: specs and paper numbers load, cells are measured from evaluations and
shown beside the paper's values, and nothing measured is ever taken from the paper."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from weakseg.tables.build import DatasetRef, build_table
from weakseg.tables.render import write_table
from weakseg.tables.specs import PAPERS, SpecError, _parse_numbers, load_paper

EXPECTED_TABLES = {"fc": 4, "mcnn": 4, "ssnm": 5, "mil": 3, "colocam": 9}


@pytest.mark.parametrize("paper", PAPERS)
def test_every_paper_spec_loads_with_numbers_for_every_table(paper):
    spec = load_paper(paper)
    assert len(spec.tables) == EXPECTED_TABLES[paper]
    for table in spec.tables.values():
        assert (spec.numbers["table"] == table.id).any(), table.id
        assert table.rows and table.columns


def test_numbers_naming_a_missing_cell_are_rejected():
    tables = load_paper("fc").tables
    text = "table,row,column,value,std,note\ntable1,no_such_row,corloc,50,,\n"
    with pytest.raises(SpecError, match=r"fc.csv:2: table 'table1' has no cell \('no_such_row', 'corloc'\)"):
        _parse_numbers(text, tables, "fc.csv")


def _corloc_eval(correct_by_class: dict[str, list[bool]]) -> pd.DataFrame:
    rows = [{"item": f"{c}/{i}", "split": "test", "class": c, "correct": ok}
            for c, oks in correct_by_class.items() for i, ok in enumerate(oks)]
    return pd.DataFrame(rows)


def test_corloc_table_cells_and_the_class_mean():
    paper = load_paper("colocam")
    spec = paper.tables["table1_ytov1"]
    classes = ("aeroplane", "bird", "boat", "car", "cat", "cow", "dog", "horse", "motorbike", "train")
    # aeroplane 1/2 correct = 50 %, every other class 4/4 = 100 %  -> class mean 95 %
    per_class = {c: [True] * 4 for c in classes}
    per_class["aeroplane"] = [True, False]
    ev = _corloc_eval(per_class).assign(time_ms=2.0)
    ev["correct_global"] = [i % 3 == 0 for i in range(len(ev))]    # the one-threshold protocol: 13 of 38 frames
    evaluations = {(v, "yto_v1"): ev for v, _ in spec.requirements()}
    df = build_table(spec, paper, evaluations, {"yto_v1": DatasetRef("syn_yto", classes)})
    cell = df.set_index(["row", "column"])
    assert cell.loc[("colocam", "aeroplane"), "measured"] == 50.0
    assert cell.loc[("colocam", "avg"), "measured"] == pytest.approx(95.0)
    assert cell.loc[("colocam", "time"), "measured"] == 2.0
    assert cell.loc[("colocam", "avg_global_tau"), "measured"] == pytest.approx(100 * 13 / 38)
    printed = paper.numbers.query("table == 'table1_ytov1' and row == 'colocam' and column == 'avg'")["value"]
    assert len(printed) == 1 and cell.loc[("colocam", "avg"), "paper"] == printed.iloc[0]
    paper_only = df[df["paper_only"]]
    assert len(paper_only) and paper_only["measured"].isna().all()
    assert paper_only["paper"].notna().any()


def test_confusion_metrics_accumulate_over_items():
    paper = load_paper("mcnn")
    spec = paper.tables["table1"]
    classes = ("aeroplane", "bird", "boat", "car", "cat", "cow", "dog", "horse", "motorbike", "train")
    k = len(classes) + 1
    # two images: background 8 px right, 2 px predicted as aeroplane; aeroplane 2 px right.
    c1, c2 = np.zeros((k, k), int), np.zeros((k, k), int)
    c1[0, 0], c1[0, 1] = 8, 2
    c2[1, 1] = 2
    ev = pd.DataFrame({"item": ["a", "b"], "split": ["val", "val"], "class": [None, None],
                       "confusion": [c1.ravel().tolist(), c2.ravel().tolist()]})
    evaluations = {(v, "voc2012"): ev for v, _ in spec.requirements()}
    df = build_table(spec, paper, evaluations, {"voc2012": DatasetRef("syn_voc", classes)}).set_index(["row", "column"])
    row = spec.measured_rows()[0].key
    assert df.loc[(row, "background"), "measured"] == pytest.approx(80.0)   # 8 / (8 + 2)
    assert df.loc[(row, "aeroplane"), "measured"] == pytest.approx(50.0)    # 2 / (2 + 2)
    assert math.isnan(df.loc[(row, "bird"), "measured"])                    # never present


def test_seeds_give_mean_and_sample_std_and_unavailable_rows_stay_empty():
    paper = load_paper("mcnn")
    spec = paper.tables["table4"]
    classes = ("aeroplane", "bird", "boat", "car", "cat", "cow", "dog", "horse", "motorbike", "train")
    # seed 0: every class 1/2 = 50 %; seed 1: every class 2/2 = 100 % -> mean 75, std 35.36
    ev = pd.concat([_corloc_eval({c: [True, False] for c in classes}).assign(seed=0),
                    _corloc_eval({c: [True, True] for c in classes}).assign(seed=1)])
    row = spec.measured_rows()[0]
    evaluations = {(row.variant, "yto_v1"): ev}
    df = build_table(spec, paper, evaluations, {"yto_v1": DatasetRef("syn_yto", classes)}).set_index(["row", "column"])
    assert df.loc[(row.key, "cat"), "measured"] == pytest.approx(75.0)
    assert df.loc[(row.key, "cat"), "measured_std"] == pytest.approx(np.std([50, 100], ddof=1))
    assert df.loc[(row.key, "avg"), "measured_std"] == pytest.approx(np.std([50, 100], ddof=1))
    skipped = build_table(spec, paper, {}, {"yto_v1": DatasetRef("syn_yto", classes)},
                          unavailable={row.variant: "no data"}).set_index(["row", "column"])
    assert skipped.loc[row.key, "measured"].isna().all() and skipped.loc[row.key, "paper"].notna().all()


def test_split_filter_and_missing_evaluation():
    paper = load_paper("colocam")
    spec = paper.tables["table2"]
    ev = pd.concat([_corloc_eval({"cat": [True]}), _corloc_eval({"cat": [False]}).assign(split="val", item="v")])
    evaluations = {(v, b): ev for v, b in spec.requirements()}
    df = build_table(spec, paper, evaluations, {"yto_v1": DatasetRef("syn_yto", ("cat",))})
    measured = df[~df["paper_only"]]["measured"]
    assert (measured == 100.0).all(), "only the test split counts"
    some = next(iter(evaluations))
    del evaluations[some]
    with pytest.raises(KeyError, match=f"no evaluation of variant '{some[0]}'"):
        build_table(spec, paper, evaluations, {"yto_v1": DatasetRef("syn_yto", ("cat",))})


def test_rendered_table_shows_measured_beside_paper(tmp_path):
    paper = load_paper("fc")
    spec = paper.tables["table3"]
    ev = _corloc_eval({"airplane": [True, True], "car": [False, True], "horse": [True, False]})
    evaluations = {(v, "object_discovery"): ev for v, _ in spec.requirements()}
    df = build_table(spec, paper, evaluations, {"object_discovery": DatasetRef("syn_od", ("airplane", "car", "horse"))})
    out = {ext: tmp_path / f"t.{ext}" for ext in ("csv", "md", "png")}
    write_table(spec, paper, df, "synthetic", out["csv"], out["md"], out["png"])
    md = out["md"].read_text()
    assert "object_discovery → syn_od" in md and "profile `synthetic`" in md
    assert "| measured |" in md and "| paper |" in md
    assert "66.7" in md  # 4 of 6 images correct
    csv = pd.read_csv(out["csv"])
    assert {"measured", "paper", "profile"} <= set(csv.columns)
    assert out["png"].stat().st_size > 1000
