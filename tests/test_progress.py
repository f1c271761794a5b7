"""synthlib.progress: log rows and sample grids that survive a resume, and checkpoints that a
kill at any moment leaves whole. Whole trainings interrupted and resumed are in test_gan,
test_vae and test_classifiers."""
import json

import pandas as pd

from synthlib import progress


def test_log_rows_of_a_resumed_run_end_at_its_checkpoint(tmp_path, capsys):
    pd.DataFrame({"step": [10, 20, 30], "d_loss": [1.0, 2.0, 3.0]}).to_csv(
        tmp_path / "log.csv", index=False)
    log = progress.LogLine(40, 10, path=tmp_path / "log.csv")
    log.on_train_begin()
    log.on_epoch_begin(2)  # restored after the second chunk: the third's row is stale
    assert [r["step"] for r in log.rows] == [10, 20]
    log.on_epoch_end(2, {"d_loss": 3.5})
    log.on_epoch_end(2, {"d_loss": 3.6})  # a chunk logged twice keeps one row
    assert [(r["step"], r["d_loss"]) for r in log.rows] == [(10, 1.0), (20, 2.0), (30, 3.6)]
    assert "resuming from the checkpoint after step 20" in capsys.readouterr().out


def test_sample_grids_cycle_the_labels_given():
    assert progress.SampleGrid(4, n=7, label=[0, 1, 2]).labels.tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert progress.SampleGrid(4, n=3, label=5).labels.tolist() == [5, 5, 5]


def test_a_kill_between_the_two_renames_leaves_the_old_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    (tmp_path / "ckpt.old").mkdir()
    (tmp_path / "ckpt.old" / "latest.weights.h5").write_text("old")
    (tmp_path / "ckpt.new").mkdir()  # half written
    progress.recover_checkpoint(ckpt)
    assert (ckpt / "latest.weights.h5").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    (tmp_path / "ckpt.old").mkdir()  # a kill after the second rename: the new one stands
    (ckpt / "latest.weights.h5").write_text("new")
    progress.recover_checkpoint(ckpt)
    assert (ckpt / "latest.weights.h5").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_steps_done_counts_the_checkpoints_chunks_and_nothing_else(tmp_path):
    assert progress.steps_done(None, 10) == 0
    assert progress.steps_done(tmp_path, 10) == 0  # no checkpoint yet
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "training_metadata.json").write_text(json.dumps({"epoch": 3, "batch": -1}))
    assert progress.steps_done(tmp_path, 10) == 0  # no weights: BackupAndRestore starts over
    (ckpt / "latest.weights.h5").write_text("w")
    assert progress.steps_done(tmp_path, 10) == 30
    (ckpt / "training_metadata.json").write_text("{")  # unreadable: start over
    assert progress.steps_done(tmp_path, 10) == 0
    progress.drop_backup(tmp_path)
    assert not tmp_path.exists()
