"""Run records: run.json and metrics.jsonl beside the checkpoint, and --config reading them back."""

import json

import numpy as np
import pytest
import torch
from toy_data import make_toy_dataset

from genai_engine import __version__
from genai_engine.checkpoints import load_checkpoint
from genai_engine.cli import main
from genai_engine.errors import GenAIError
from genai_engine.families.vae.nets import ModelConfig
from genai_engine.run_record import METRICS_FILE, RUN_FILE, read_run
from genai_engine.tasks import TaskControl, drain
from genai_engine.training import EpochRecord, TrainConfig, train


def small_run(dataset, **kw):
    model = ModelConfig(hidden=(32,), latent_dim=3, image_shape=dataset.image_shape)
    return model, TrainConfig(**{"epochs": 2, "batch_size": 32, "lr": 3e-3, "device": "cpu", "seed": 3, **kw})


def rows(folder):
    lines = (folder / METRICS_FILE).read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_run_folder_holds_its_config_and_metrics(toy_dataset, tmp_path):
    model, config = small_run(toy_dataset)
    done = drain(train(toy_dataset, model, config, out_dir=tmp_path))
    run = json.loads((tmp_path / RUN_FILE).read_text())
    assert run["family"] == "vae" and run["seed"] == 3
    assert run["model_config"]["hidden"] == [32] and run["model_config"]["latent_dim"] == 3
    assert run["train_config"]["epochs"] == 2 and run["train_config"]["lr"] == 3e-3
    assert run["dataset"]["fingerprint"] == toy_dataset.fingerprint
    assert run["versions"]["genai_lab"] == __version__ and run["versions"]["torch"] == torch.__version__
    assert run["device"] == "cpu"
    assert run["summary"]["status"] == "completed" and run["summary"]["epochs"] == 2
    assert run["summary"]["test_loss"] == pytest.approx(done.test_loss)

    records = rows(tmp_path)
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [r["epoch"] for r in epochs] == [1, 2] and not any(r["partial"] for r in epochs)
    for key in ("train_loss", "test_loss", "test_recon", "test_kl"):
        assert [r[key] for r in epochs] == pytest.approx(done.history[key])
    steps = [r for r in records if r["kind"] == "step"]
    assert steps and all(isinstance(r["train_loss"], float) and r["lr"] > 0 for r in steps)
    assert all("preview" not in r for r in records)


def test_a_resumed_run_keeps_appending_and_a_fresh_one_starts_over(toy_dataset, tmp_path):
    model, config = small_run(toy_dataset, epochs=3)
    control = TaskControl()
    for record in train(toy_dataset, model, config, out_dir=tmp_path, control=control):
        if isinstance(record, EpochRecord) and record.epoch == 1:
            control.cancel()
    assert json.loads((tmp_path / RUN_FILE).read_text())["summary"]["status"] == "cancelled"
    first = load_checkpoint(tmp_path / "checkpoint.pt")
    drain(train(toy_dataset, None, config, out_dir=tmp_path, resume=first))
    assert [r["epoch"] for r in rows(tmp_path) if r["kind"] == "epoch"] == [1, 2, 3]
    run = json.loads((tmp_path / RUN_FILE).read_text())
    assert run["start_epoch"] == 1 and run["resumed_from"].endswith("checkpoint.pt")
    assert run["summary"]["epochs"] == 3

    drain(train(toy_dataset, model, small_run(toy_dataset, epochs=1)[1], out_dir=tmp_path))
    assert [r["epoch"] for r in rows(tmp_path) if r["kind"] == "epoch"] == [1]


def test_no_out_dir_writes_no_record(toy_dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model, config = small_run(toy_dataset, epochs=1)
    drain(train(toy_dataset, model, config))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def toy_npz(tmp_path):
    data = make_toy_dataset(n_train=256, n_test=64)
    path = tmp_path / "toy.npz"
    np.savez(path, images=data.train.images[..., 0], test_images=data.test.images[..., 0])
    return path


def test_a_run_json_fed_back_reproduces_the_run(toy_npz, tmp_path, capsys):
    common = ["--device", "cpu", "--json", "--quiet"]
    assert main(["train", "--dataset", str(toy_npz), "--hidden", "24", "--latent-dim", "3", "--epochs", "2",
                 "--batch-size", "32", "--lr", "0.002", "--seed", "4", "--out", str(tmp_path / "a"),
                 *common]) == 0
    first = json.loads(capsys.readouterr().out)
    feed_back = ["train", "--config", str(tmp_path / "a" / RUN_FILE)]
    assert main([*feed_back, "--out", str(tmp_path / "b"), *common]) == 0
    again = json.loads(capsys.readouterr().out)
    a, b = (json.loads((tmp_path / name / RUN_FILE).read_text()) for name in ("a", "b"))
    for key in ("family", "model_config", "train_config", "dataset", "seed"):
        assert a[key] == b[key], key
    assert again["test_loss"] == first["test_loss"]  # same seed, same data: the same run

    # options given on the command line win over the file; the model comes whole from the file
    assert main(["train", "--config", str(tmp_path / "a" / RUN_FILE), "--out", str(tmp_path / "c"),
                 "--epochs", "1", "--seed", "0", *common]) == 0
    c = json.loads((tmp_path / "c" / RUN_FILE).read_text())
    assert c["train_config"]["epochs"] == 1 and c["seed"] == 0 and c["train_config"]["lr"] == 0.002
    assert main(["train", "--config", str(tmp_path / "a" / RUN_FILE), "--hidden", "8", *common]) == 2
    assert "model_config" in capsys.readouterr().err


def test_a_toml_file_gives_settings_too(toy_npz, tmp_path, capsys):
    toml = tmp_path / "run.toml"
    toml.write_text(f'family = "vae"\ndataset = "{toy_npz}"\n[train_config]\nepochs = 1\nbatch_size = 64\n')
    assert main(["train", "--config", str(toml), "--latent-dim", "4", "--out", str(tmp_path / "t"),
                 "--device", "cpu", "--quiet"]) == 0
    run = json.loads((tmp_path / "t" / RUN_FILE).read_text())
    assert run["train_config"]["batch_size"] == 64 and run["model_config"]["latent_dim"] == 4
    assert run["dataset"]["source"] == str(toy_npz)


@pytest.mark.parametrize("text,expected", [
    ("{not json", "not a readable run record"),
    ('{"name": "x"}', "not a run record"),
])
def test_a_bad_settings_file_is_one_sentence(tmp_path, text, expected):
    path = tmp_path / "run.json"
    path.write_text(text)
    with pytest.raises(GenAIError, match=expected):
        read_run(path)
    with pytest.raises(GenAIError, match="no such settings file"):
        read_run(tmp_path / "missing.toml")


def test_a_record_that_cannot_be_written_never_stops_training(toy_dataset, tmp_path, caplog):
    (tmp_path / METRICS_FILE).mkdir()  # in the way of the metrics file
    model, config = small_run(toy_dataset, epochs=1)
    done = drain(train(toy_dataset, model, config, out_dir=tmp_path))
    assert done.reason == "completed" and load_checkpoint(done.checkpoint).epoch == 1
    warnings = [r.getMessage() for r in caplog.records if "run record stops" in r.getMessage()]
    assert len(warnings) == 1 and METRICS_FILE in warnings[0]
    assert "summary" not in json.loads((tmp_path / RUN_FILE).read_text())  # nothing more written
