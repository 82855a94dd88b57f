"""analysis.report.build end to end on a synthetic experiment, and its CLI's errors."""

import pandas as pd
import pytest

from analysis import report
from analysis_fakes import fake_eval, fake_run
from benchmark.store import Store
from tasks.errors import UserError


def _experiment(tmp_path):
    store = Store(tmp_path)
    for seed, (ppo, sac) in enumerate([(4.0, 1.0), (5.0, 3.0)]):
        fake_run(tmp_path, f"ppo{seed}", "ppo", seed, "finished", ppo, task="go2_rough", curve=(0.0, ppo))
        fake_run(tmp_path, f"sac{seed}", "sac", seed, "finished", sac, task="go2_rough", curve=(0.0, sac))
    fake_run(tmp_path, "old-duplicate", "ppo", 0, "finished", 99.0, task="go2_rough")  # not in the run-id list
    for run, alive in [("ppo0", 800.0), ("sac0", 600.0)]:
        for scenario in ("go2_source", "go2_to_a1", "go2_to_spot"):
            fake_eval(store.run(run).path, scenario, alive=alive)
    return store, ["ppo0", "ppo1", "sac0", "sac1"]


def test_build_writes_every_file_of_the_report(tmp_path, capsys):
    store, run_ids = _experiment(tmp_path)
    exp_dir = store.experiment_dir("exp")
    paths = report.build(store, "exp", run_ids, "synthetic")
    names = {p.name for p in paths}
    assert names == {"results.csv", "table.md", "table.tex", "table.csv", "vs_review.md", "vs_review.tex",
                     "vs_review.csv", "curves.png", "stats.csv", "scores.csv", "iqm.png", "profiles.png",
                     "transfer.md", "transfer.tex", "transfer.csv", "transfer_vs_review.md", "transfer_vs_review.tex",
                     "transfer_vs_review.csv", "radar.png", "radar_review.png"}
    assert all(p.parent == exp_dir / ("." if p.name == "results.csv" else "report") and p.stat().st_size > 0
               for p in paths)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
               for p in paths if p.suffix == ".png")
    assert sorted(pd.read_csv(exp_dir / "results.csv")["run_id"]) == sorted(run_ids)  # no duplicate
    row = "| Unitree Go2 Rough | **4.50 ± 0.50** | <u>2.00 ± 1.00</u> |"
    assert row in (exp_dir / "report" / "table.md").read_text()
    assert "| Unitree Go2 Rough | PPO | 4.50 ± 0.50 (n=2) | 15.40 ± 1.00 | -10.90 | Table 4 |" in \
        (exp_dir / "report" / "vs_review.md").read_text()
    assert "| Alive ↑ | Go2 (source) | **800.00 ± 0.00 (n=1)** | <u>600.00 ± 0.00 (n=1)</u> |" in \
        (exp_dir / "report" / "transfer.md").read_text()
    assert not [p for p in (exp_dir / "report").iterdir() if ".tmp-" in p.name]  # nothing half-written
    out = capsys.readouterr().out
    assert row in out and str(exp_dir / "report" / "iqm.png") in out


def test_no_transfer_files_without_evaluations(tmp_path):
    fake_run(tmp_path, "a", "ppo", 0, "finished", 4.0)
    names = {p.name for p in report.build(Store(tmp_path), "exp", None, "t", paper=False)}
    assert "radar.png" not in names and "transfer.md" not in names and "vs_review.md" not in names
    assert "table.md" in names


def test_an_experiment_without_finished_runs_is_a_clear_error(tmp_path):
    fake_run(tmp_path, "a", "ppo", 0, "diverged", None)
    with pytest.raises(UserError, match="no finished run to report .*diverged: 1"):
        report.build(Store(tmp_path), "exp", ["a"], "t")
    assert not (tmp_path / "exp" / "report").exists()


def test_cli_errors_exit_2_with_a_message(tmp_path, capsys):
    assert report.main(["--exp", "no_such_experiment"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'no_such_experiment'" in err and "smoke" in err
    assert report.main(["--exp", "smoke", "--out", str(tmp_path)]) == 2
    assert "no finished run to report" in capsys.readouterr().err
