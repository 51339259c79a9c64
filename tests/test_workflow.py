"""The Snakemake workflow end to end on the tiny synthetic config, lint, and the errors a
user meets before any job runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, snakemake, snakemake_cmd

from weakseg.workflow import ConfigError, check_enabled_methods, table_spec


def test_tables_end_to_end_on_the_tiny_profile(tiny_run):
    tmp_path = tiny_run
    tables = tmp_path / "results" / "synthetic" / "tables"
    index = (tables / "index.md").read_text()
    assert "[summary](data/summary.md)" in index
    assert "[Table 1 (table1)](fc/table1.md)" in index
    assert "[Table 1 (table1)](mcnn/table1.md)" in index
    assert "[Table 7 (table7)](colocam/table7.md)" in index and "not built" not in index
    assert (tables / "index.html").read_text().startswith("<!doctype html>")
    for paper in ("fc", "mcnn", "ssnm", "mil", "colocam"):  # the papers' qualitative figures, listed in the index
        assert (tables / paper / "qualitative.png").stat().st_size > 10_000
        assert f"{paper}/qualitative.png" in index
    summary = pd.read_csv(tables / "data" / "summary.csv")
    msrc = summary.query("benchmark == 'msrc' and statistic == 'images'")
    assert msrc["measured"].item() == 14 and msrc["real"].item() == 70  # 7 groups x 2 images (tiny)
    for name in ("syn_yto", "syn_voc", "syn_coco_seg"):
        assert (tmp_path / "results" / "synthetic" / "data" / name / "index.parquet").is_file()
        assert "done in" in (tmp_path / "results" / "synthetic" / "logs" / "data" / f"{name}.log").read_text()
        assert (tmp_path / "results" / "synthetic" / "benchmarks" / "data" / f"{name}.tsv").is_file()
    rerun = snakemake(tmp_path, "tables", "-n")
    assert "Nothing to be done" in rerun.stdout + rerun.stderr


def test_fc_tables_show_measured_beside_paper(tiny_run):
    import json

    import numpy as np

    results = tiny_run / "results" / "synthetic"
    for table, rows in (("table1", 5), ("table2", 5), ("table3", 4), ("table4", 4)):
        df = pd.read_csv(results / "tables" / "fc" / f"{table}.csv")
        measured = df[~df["paper_only"]]
        assert len(measured) == rows and measured["measured"].notna().all(), table
        assert measured["measured"].between(0, 100).all() and measured["paper"].notna().all()
    provenance = json.loads((results / "tables" / "fc" / "table4.provenance.json").read_text())
    assert provenance["seed"] == 0 and len(provenance["config_sha256"]) == 64
    assert provenance["versions"]["numpy"] == np.__version__
    md = (results / "tables" / "fc" / "table4.md").read_text()
    assert "pascal07_6x2 → syn_pascal07_6x2" in md and "efficientnet_lite0" in md
    evaluation = pd.read_parquet(results / "eval" / "fc" / "syn_yto" / "full.parquet")
    assert set(evaluation["split"]) == {"test"} and evaluation["correct"].notna().any()
    assert "QP full" in (results / "logs" / "fc" / "syn_yto" / "full.log").read_text()


def test_mcnn_tables_show_measured_beside_paper(tiny_run):
    import torch

    results = tiny_run / "results" / "synthetic"
    for table, rows in (("table1", 6), ("table2", 3), ("table3", 1), ("table4", 1)):
        df = pd.read_csv(results / "tables" / "mcnn" / f"{table}.csv")
        measured = df[~df["paper_only"] & df["measured"].notna()]
        assert measured["row"].nunique() == rows, table
        assert measured["measured"].between(0, 100).all() or table == "table3", table
    t2 = pd.read_csv(results / "tables" / "mcnn" / "table2.csv")
    assert t2.query("row == 'mcnn_vocaug_ytube'")["measured"].isna().all()     # no SBD images in the profile
    assert "M-CNN (VOC aug.+YTube): not measured, needs benchmark 'voc2012_aug'" in \
        (results / "tables" / "mcnn" / "table2.md").read_text()
    t3 = pd.read_csv(results / "tables" / "mcnn" / "table3.csv").query("row == 'mcnn_voc_ytube_20cls'")
    assert t3.set_index("column").loc["n_train", "measured"] > 0
    models = results / "mcnn" / "models"
    state = torch.load(models / "mcnn_large" / "seed0.pt", weights_only=False)
    assert state["variant"] == "mcnn_large" and state["fov"] == "large" and len(state["classes"]) == 3
    assert not list(models.rglob("*.epoch.pt"))                    # per-epoch checkpoints are removed at the end
    ev = pd.read_parquet(results / "eval" / "mcnn" / "syn_voc" / "mcnn_star_large.parquet")
    assert set(ev["seed"]) == {0} and set(ev["split"]) <= {"val", "test"} and len(ev)
    log = (results / "logs" / "mcnn" / "train" / "mcnn_star_large" / "seed0.log").read_text()
    assert "pruning (Sec. 4.2)" in log and "epoch 1/1" in log


def test_ssnm_tables_show_measured_beside_paper(tiny_run):
    import torch

    results = tiny_run / "results" / "synthetic"
    t5 = pd.read_csv(results / "tables" / "ssnm" / "table5.csv")
    measured = t5[~t5["paper_only"]]
    assert measured["row"].nunique() == 4 and measured["measured"].between(0, 100).all()
    for table in ("table1", "table2", "table3", "table4"):
        df = pd.read_csv(results / "tables" / "ssnm" / f"{table}.csv")
        assert df.query("row == 'ours_hrnet'")["measured"].notna().any(), table
        vgg = df.query("row == 'ours_vgg16'")
        assert vgg["measured"].isna().all() and vgg["paper"].notna().any(), table   # no VGG16 weights offline
    assert "Ours-VGG16: not measured, the ImageNet weights of vgg16" in (results / "tables/ssnm/table4.md").read_text()
    state = torch.load(results / "ssnm" / "models" / "no_sem" / "seed0.pt", weights_only=False)
    assert state["settings"] == {"semantic": False} and len(state["categories"]) == 12
    ev = pd.read_parquet(results / "eval" / "ssnm" / "syn_voc_coseg" / "full.parquet")
    assert set(ev["seed"]) == {0} and ev["jaccard"].between(0, 1).all() and len(ev) == 40   # 20 groups x 2


def test_mil_tables_show_measured_beside_paper(tiny_run):
    import torch

    results = tiny_run / "results" / "synthetic"
    for table, rows in (("table2", 3), ("table3", 3), ("table4", 5)):
        df = pd.read_csv(results / "tables" / "mil" / f"{table}.csv")
        measured = df[~df["paper_only"] & df["measured"].notna()]
        assert measured["row"].nunique() == rows, table
        assert measured["measured"].between(0, 100).all(), table
    t2 = pd.read_csv(results / "tables" / "mil" / "table2.csv")
    assert set(t2.query("row == 'lse'")["dataset"]) == {"syn_voc"}      # VOC 2008-2010 -> the VOC-like set
    for aggregation in ("max", "sum", "lse"):
        state = torch.load(results / "mil" / "models" / aggregation / "seed0.pt", weights_only=False)
        assert state["aggregation"] == aggregation and all(k.startswith("head.") for k in state["model"])
    log = (results / "logs" / "eval" / "mil" / "syn_voc" / "ilp_bb.log").read_text()
    assert "seed 0: thresholds [0.0," in log


def test_colocam_tables_and_figure_show_measured_beside_paper(tiny_run):
    import torch

    results = tiny_run / "results" / "synthetic"
    tables = results / "tables" / "colocam"
    t1 = pd.read_csv(tables / "table1_ytov1.csv")
    measured = t1[~t1["paper_only"] & t1["measured"].notna()]
    assert set(measured["row"]) == {"cam", "gradcam", "gradcampp", "smooth_gradcampp", "xgradcam", "layercam", "fcam",
                                    "tcam", "colocam"}
    corloc = measured[measured["metric"].isin(["corloc", "corloc_global"]) & (measured["column"] != "time")]
    assert corloc["measured"].between(0, 100).all()
    times = t1.query("column == 'time' and row in ['layercam', 'colocam']")
    assert (times["measured"] > 0).all()                                   # cost.variants of the tiny config
    assert t1.query("column == 'time' and row == 'fcam'")["measured"].isna().all()
    t2 = pd.read_csv(tables / "table2.csv")
    assert t2[~t2["paper_only"]]["measured"].notna().all() and t2[~t2["paper_only"]]["paper"].notna().all()
    t4 = pd.read_csv(tables / "table4.csv").set_index(["row", "column"])
    assert t4.loc[("colocam", "train_step"), "measured"] > 0 and t4.loc[("colocam", "params_learnable"), "measured"] > 0
    assert t4.loc[("colocam", "params_total"), "measured"] > t4.loc[("layercam", "params_total"), "measured"]
    assert pd.isna(t4.loc[("layercam", "train_step"), "measured"])           # not in the tiny train_step_variants
    t6 = pd.read_csv(tables / "table6.csv").set_index("row")
    assert t6.loc["backbone_lite0", "measured"] >= 0 and pd.isna(t6.loc["backbone_vgg16", "measured"])
    md6 = (tables / "table6.md").read_text()
    assert "the ImageNet weights of vgg16 are not at" in md6
    assert "not run: config 'colocam.stability.m' is []" in (tables / "table7.md").read_text()
    assert pd.read_csv(tables / "table7.csv")["measured"].isna().all()
    md8 = (tables / "table8.md").read_text()
    assert "CLIP-ES (Tables 1 and 8): not run" in md8 and pd.read_csv(tables / "table8.csv")["measured"].isna().all()
    md3 = (tables / "table3.md").read_text()
    assert "CoLo-CAM code: best tau per class" in md3 and "TCAM code: one best tau" in md3
    for panel in "abcd":
        assert (tables / f"figure2_{panel}.png").stat().st_size > 1000
    points = pd.read_csv(tables / "figure2.csv")
    assert set(points["panel"]) == {"a", "b", "c", "d"} and points.query("panel == 'c'")["y2"].notna().all()
    index = (results / "tables" / "index.md").read_text()
    assert "colocam/figure2_a.png" in index
    state = torch.load(results / "colocam" / "models" / "syn_yto" / "colocam" / "seed0.pt", weights_only=False)
    assert tuple(state["variant"]["terms"]) == ("pl", "crf", "asc", "coloc") and state["history"][-1]["coloc"] < 0
    assert not (results / "colocam" / "models" / "syn_yto" / "colocam_n4").exists()   # colocam_n4 is colocam
    ev = pd.read_parquet(results / "eval" / "colocam" / "syn_yto" / "colocam.parquet")
    assert set(ev["split"]) == {"test"} and ev["correct"].dtype == bool and set(ev["seed"]) == {0}


def test_every_rule_that_runs_a_job_declares_its_memory():
    """Issue #12: mem_mb on every rule with a script (the target-only rules run nothing); a rule without it
    makes the test fail naming the rule."""
    import re

    missing = []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        for block in re.split(r"\n(?=(?:rule|checkpoint)\b)", smk.read_text()):
            if re.search(r"^\s+script:", block, re.M) and "mem_mb=" not in block:
                missing.append(f"{smk.name}: {block.splitlines()[0]}")
    assert not missing, missing


def test_lint_is_clean():
    run = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0
    assert "Congratulations, your workflow is in a good condition!" in run.stdout + run.stderr


def test_a_table_of_a_method_that_is_not_enabled_fails_naming_the_key(tmp_path):
    run = snakemake(tmp_path, "colocam_table2", "--config", "methods={'enabled':['fc']}")
    assert run.returncode != 0
    assert "needs method 'colocam'; add it to config 'methods.enabled'" in run.stderr + run.stdout
    assert not (tmp_path / "results" / "synthetic" / "tables" / "colocam").exists()


@pytest.mark.parametrize("override, message", [
    (["--config", "dataset_profil=real"], "Additional properties are not allowed ('dataset_profil'"),
    (["--config", "methods={'enabled':['fcc']}"], "'fcc' is not one of"),
    (["--config", "dataset_profile=reel"], "'dataset_profile: reel' has no entry under 'profiles'"),
    (["--config", "synthetic={'seed':'zero'}"], "'zero' is not of type 'integer'"),
])
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path, override, message):
    run = snakemake(tmp_path, "-n", "tables", *override)
    assert run.returncode != 0
    assert message in run.stderr + run.stdout
    assert not (tmp_path / "results").exists()


def test_an_unknown_backbone_fails_before_any_job_naming_the_key(tmp_path):
    extra = tmp_path / "bad.yaml"
    extra.write_text("ssnm:\n  variants:\n    full: {backbone: resnet5}\n")
    run = subprocess.run([*snakemake_cmd("-n", "tables"), str(extra)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode != 0
    assert "config 'ssnm.variants.full.backbone' is 'resnet5', not a registered backbone" in run.stderr + run.stdout
    assert not (tmp_path / "results").exists()


def test_enabling_an_unimplemented_method_names_the_issue(monkeypatch):
    import weakseg.workflow

    monkeypatch.setattr(weakseg.workflow, "implemented", lambda: ("fc", "mcnn", "ssnm", "mil"))
    with pytest.raises(ConfigError, match=r"names 'colocam', whose method is not implemented yet \(issue #8\)"):
        check_enabled_methods(["colocam"])
    with pytest.raises(ConfigError, match=r"needs the colocam method, which is not implemented yet \(issue #8\)"):
        table_spec("colocam", "table2", ["colocam"])
    with pytest.raises(ConfigError, match="has no table 'table9'"):
        table_spec("fc", "table9", [])


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci.startswith("python3 -m venv .venv")
    assert f"```bash\n{ci}\n```" in (REPO / "README.md").read_text()


def test_preprocess_end_to_end_on_the_tiny_profile(tiny_run):
    import json

    import numpy as np

    from weakseg.preprocess.store import load_unit

    run = snakemake(tiny_run, "preprocess")
    assert run.returncode == 0, run.stderr[-3000:]
    results = tiny_run / "results" / "synthetic"
    units = json.loads((results / "data" / "syn_yto" / "units.json").read_text())
    assert units["kind"] == "video"
    video = sorted(units["units"])[0]
    flow = load_unit(results / "pre" / "syn_yto" / video / "flow_farneback.npz")
    assert flow.items == units["units"][video], "flow on every frame of the video"
    saliency = load_unit(results / "pre" / "syn_yto" / video / "saliency.npz")
    assert set(saliency.fields) == {"image", "motion", "video"} and len(saliency.items) < len(flow.items)
    item = saliency.items[0]
    np.testing.assert_array_equal(saliency.get("video", item),
                                  np.maximum(saliency.get("image", item), saliency.get("motion", item)))
    boxes = load_unit(results / "pre" / "syn_yto" / video / "boxes_ss30.npz")
    feats = load_unit(results / "features" / "syn_yto" / "features_ss30.npz")
    assert boxes.items == saliency.items and set(boxes.items) < set(feats.items)
    assert feats.get("features", item).shape[0] == boxes.get("boxes", item).shape[0]
    assert boxes.attrs["method"] == "selective_search" and feats.attrs["backbone"] == "efficientnet_lite0"
    group = load_unit(results / "pre" / "syn_object_discovery" / "car" / "saliency.npz")
    assert set(group.fields) == {"image"}, "no motion saliency on still images"
    assert (results / "pre" / "syn_voc" / "chunk0000" / "segments_merge.npz").is_file()
    maps = load_unit(results / "features" / "syn_voc" / "maps_lite0.npz")
    assert maps.get("maps", maps.items[0]).shape == (112, 14, 14)  # lite0 stage 3: stride 16 at 224
    assert not (results / "pre" / "syn_object_discovery" / "car" / "flow_farneback.npz").exists()
    log = (results / "logs" / "pre" / "syn_yto" / f"{video}.log").read_text()
    assert "motion_fst: " in log and "items/s" in log


def test_python_lint_is_clean():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "src", "tests", "scripts"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]


def test_the_gpu_workstation_command_of_the_readme_plans(tmp_path):
    run = snakemake(tmp_path, "tables", "--resources", "gpu=1", "-n")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "features" in run.stdout + run.stderr or "dataset_units" in run.stdout + run.stderr


def test_the_report_holds_every_table_and_figure_with_its_caption(tiny_run):
    run = subprocess.run([*snakemake_cmd("tables", "--report", "report.html")], cwd=tiny_run, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    html = (tiny_run / "report.html").read_text()
    tables = tiny_run / "results" / "synthetic" / "tables"
    expected = [p.relative_to(tiny_run).as_posix() for p in tables.glob("*/*.png") if p.parent.name != "data"]
    assert len(expected) > 20
    missing = [p for p in expected if f'"{p}"' not in html]
    assert not missing, f"not in the report: {missing}"
    assert "measured in this run beside the paper" in html  # the tables' caption
    assert '"results/synthetic/tables/data/summary.png"' in html


def test_gpu_detection_for_resources_needs_no_torch(monkeypatch):
    from weakseg.workflow import nvidia_gpu_visible

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert nvidia_gpu_visible() is False
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert nvidia_gpu_visible() == any(p.name[6:].isdigit() for p in Path("/dev").glob("nvidia*"))
    run = subprocess.run([sys.executable, "-c", "import sys, weakseg.workflow, weakseg.tables.figure_specs, "
                          "weakseg.data.real; print('torch' in sys.modules)"], capture_output=True, text=True)
    assert run.stdout.strip() == "False"


def test_building_the_dag_imports_no_torch(tmp_path):
    """Snakemake evaluates the rules and every input function at DAG time, on every start and on the SLURM
    submit host: torch (~1 GB RSS, ~2.5 s of imports) stays out of that process (plans every job of `tables`)."""
    argv = ["snakemake", *snakemake_cmd("-n", "tables")[3:]]  # drop `python -m snakemake`
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('TORCH_IMPORTED', 'torch' in sys.modules, flush=True))\n"
            f"sys.argv = {argv!r}\n"
            "from snakemake.cli import main\n"
            "main()\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Job stats" in run.stdout + run.stderr
    assert "TORCH_IMPORTED False" in run.stdout, run.stdout[-500:]
