"""The command line with text: train on a .txt, generate (streamed or --json), refusals."""

import contextlib
import io
import json
import math

import pytest
from toy_data import make_toy_text

from genai_engine.checkpoints import save_checkpoint
from genai_engine.cli import main as cli_main
from genai_engine.families import get_family
from genai_engine.families.autoregressive.config import ARConfig


class Recorder:
    """A stdout that records each write and whether it was flushed before the next one."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushed: list[bool] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        self.flushed.append(False)
        return len(text)

    def flush(self) -> None:
        if self.flushed:
            self.flushed[-1] = True


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """``genai-lab train`` on a tiny .txt corpus: its JSON summary."""
    folder = tmp_path_factory.mktemp("text_cli")
    corpus = folder / "corpus.txt"
    corpus.write_text(make_toy_text(), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_main(["train", "--family", "autoregressive", "--dataset", str(corpus), "--context", "16",
                         "--ar-width", "16", "--ar-layers", "1", "--ar-heads", "2", "--epochs", "1",
                         "--epoch-images", "64", "--batch-size", "16", "--out", str(folder / "run"),
                         "--device", "cpu", "--json", "--quiet"]) == 0
    return corpus, json.loads(out.getvalue())


def test_train_on_a_txt_file_reports_bits_per_char(text_run):
    _, summary = text_run
    assert summary["family"] == "autoregressive" and summary["dataset"] == "corpus"
    assert summary["characters"] == 21 and summary["context"] == 16 and "levels" not in summary
    assert 0 < summary["test_bits_per_char"] < math.log2(21) + 0.5
    assert summary["test_loss"] == pytest.approx(summary["test_bits_per_char"] * 16 * math.log(2), rel=1e-3)


def test_a_resumed_text_run_keeps_its_context(text_run, tmp_path, capsys):
    corpus, summary = text_run
    run = tmp_path / "resumed"
    assert cli_main(["train", "--dataset", str(corpus), "--resume", summary["checkpoint"], "--epochs", "2",
                     "--out", str(run), "--device", "cpu", "--json", "--quiet"]) == 0  # no --context
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["epochs"] == 2 and resumed["context"] == 16


def test_generate_streams_each_character_and_json_gives_the_same_text(text_run, monkeypatch, capsys):
    _, summary = text_run
    command = ["generate", "--checkpoint", summary["checkpoint"], "--prompt", "the cat", "--length", "40",
               "--seed", "2", "--device", "cpu"]
    stream = Recorder()
    monkeypatch.setattr("sys.stdout", stream)
    assert cli_main([*command, "--quiet"]) == 0
    monkeypatch.undo()
    assert stream.writes[0] == "the cat" and all(len(w) == 1 for w in stream.writes[1:])
    assert len(stream.writes) == 1 + 40 + 1 and all(stream.flushed[:-1])  # each character flushed at once
    assert cli_main([*command, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text"] == "".join(stream.writes[1:-1]) and result["prompt"] == "the cat"
    assert result["settings"] == {"length": 40, "temperature": 0.8, "top_k": 0, "top_p": 1.0, "seed": 2}
    assert result["tokens_per_s"] > 0


def test_generate_refuses_an_image_model_and_unknown_prompt_characters(text_run, tmp_path, capsys):
    _, summary = text_run
    family = get_family("autoregressive")
    image_model = family.build(ARConfig(width=8, layers=1, heads=2, image_shape=(1, 4, 4)))
    path = save_checkpoint(tmp_path / "image.pt", image_model, family=family.name, train_config={}, epoch=0,
                           history={}, dataset={})
    assert cli_main(["generate", "--checkpoint", str(path), "--prompt", "hi"]) == 1
    err = capsys.readouterr().err
    assert "writes no text" in err and "genai-lab sample" in err and len(err.strip().splitlines()) == 1
    assert cli_main(["generate", "--checkpoint", summary["checkpoint"], "--prompt", "The cat"]) == 1
    captured = capsys.readouterr()
    assert "'T' (U+0054)" in captured.err and captured.out == ""  # refused before anything is written
    assert cli_main(["sample", "--checkpoint", summary["checkpoint"], "--out", str(tmp_path / "s.png")]) == 1
    assert "writes text, not images; use genai-lab generate" in capsys.readouterr().err


def test_an_image_family_refuses_a_text_corpus_on_the_command_line(text_run, tmp_path, capsys):
    corpus, _ = text_run
    command = ["train", "--family", "gan", "--dataset", str(corpus), "--out", str(tmp_path / "gan")]
    assert cli_main(command) == 1
    assert capsys.readouterr().err.strip() == ("genai-lab train: error: a text corpus trains only with "
                                               "--family autoregressive; corpus is text")
