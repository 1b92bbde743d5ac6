"""The family contract: the registry, format-1 checkpoints, and a family added as one folder."""

import json
import textwrap

import numpy as np
import pytest
import torch

from genai_engine import families
from genai_engine.checkpoints import load_checkpoint
from genai_engine.cli import main as cli_main
from genai_engine.errors import GenAIError
from genai_engine.families.base import (
    DensityModel,
    Encoder,
    GenerativeModel,
    Invertible,
    LatentDecoder,
    capabilities,
)
from genai_engine.families.vae.nets import ModelConfig, build_model
from genai_engine.resources import demo_checkpoint_path
from genai_engine.tasks import drain
from genai_engine.training import TrainConfig, train

# A complete family in one file: a "mean image" model whose samples are its learned mean plus
# seeded noise. It has no latent, no encoder and no likelihood.
TOY_FAMILY = textwrap.dedent('''
    from dataclasses import asdict, dataclass, field

    import numpy as np
    import torch
    from torch import nn

    from genai_engine.families.base import EpochMeasure, Family, Snapshot, TrainingStep, adam
    from genai_engine.tensors import to_uint8_images


    @dataclass
    class MeanConfig:
        noise: float = field(default=0.1, metadata={"label": "Noise", "help": "sample noise"})
        image_shape: tuple = field(default=(1, 12, 12), metadata={"hidden": True})
        num_classes: int = field(default=0, metadata={"hidden": True})

        def to_dict(self):
            return asdict(self)

        @classmethod
        def from_dict(cls, data):
            return cls(**data)


    class MeanNet(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.mean = nn.Parameter(torch.zeros(config.image_shape))

        def timeline_state(self):
            return {"mean": self.mean}


    class MeanStep(TrainingStep):
        def __init__(self, model, train_config, device):
            self.model = model
            self.optimizers = [adam(model.parameters(), train_config.lr, device)]

        def __call__(self, batch):
            loss = ((batch.x - self.model.mean) ** 2).flatten(1).sum(1).sum()
            self.optimizers[0].zero_grad()
            (loss / len(batch.x)).backward()
            self.optimizers[0].step()
            return {"loss": loss.detach()}


    class MeanSnapshot(Snapshot):
        family = "meanimage"

        @torch.inference_mode()
        def sample(self, n, seed=0, labels=None, batch_size=1000):
            g = torch.Generator().manual_seed(seed)
            noise = torch.randn((n, *self.config.image_shape), generator=g) * self.config.noise
            return to_uint8_images(self.model.mean.cpu() + noise)


    class MeanFamily(Family):
        name = "meanimage"
        title = "Mean image"
        config_type = MeanConfig
        snapshot_type = MeanSnapshot
        train_defaults = {"lr": 0.05, "epochs": 2}

        def build(self, config):
            return MeanNet(config)

        def training_step(self, model, train_config, device, dist):
            return MeanStep(model, train_config, device)

        def measure(self, model, test_x, test_y, dist):
            with torch.no_grad():
                err = ((test_x.float() / 255 - model.mean) ** 2).flatten(1).sum(1).mean()
            return EpochMeasure({"loss": float(err)}, {})


    FAMILY = MeanFamily()
''')


@pytest.fixture
def extra_family(tmp_path, monkeypatch):
    """Drop a family folder on the registry's search path, as a new family would be added."""
    folder = tmp_path / "families_extra" / "meanimage"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(TOY_FAMILY)
    monkeypatch.setattr(families, "__path__", [*families.__path__, str(folder.parent)])
    families._registry.cache_clear()
    yield "meanimage"
    families._registry.cache_clear()


def test_registry_lists_the_families_and_refuses_an_unknown_one():
    assert families.family_names()[0] == "vae"
    assert families.get_family("vae").title == "Variational autoencoder"
    with pytest.raises(GenAIError, match="unknown model family 'nope'"):
        families.get_family("nope")


@pytest.fixture(scope="module")
def fashion_small():
    from genai_engine.data import Dataset, ImageSet, load_dataset

    full = load_dataset("fashion-mnist")
    return Dataset("fashion-small", ImageSet(full.train.images[:512], full.train.labels[:512]),
                   ImageSet(full.test.images[:200], full.test.labels[:200]), full.class_names)


def test_a_family_added_as_one_folder_trains_saves_samples_and_is_measured(extra_family, fashion_small,
                                                                           tmp_path):
    assert extra_family in families.family_names()
    done = drain(train(fashion_small, None, TrainConfig(epochs=2, lr=0.05, device="cpu"),
                       family=extra_family, out_dir=tmp_path / "run"))
    assert done.family == extra_family and done.epochs == 2
    assert done.history["test_loss"][1] < done.history["test_loss"][0]
    checkpoint = load_checkpoint(done.checkpoint)
    assert checkpoint.family == extra_family and len(checkpoint.timeline) == 2
    snapshot = checkpoint.snapshot()
    assert isinstance(snapshot, GenerativeModel)
    assert capabilities(snapshot) == {"latent": False, "encoder": False, "likelihood": False,
                                      "inversion": False, "text": False, "conditional": False}
    samples = snapshot.sample(5, seed=1)
    assert samples.shape == (5, 28, 28, 1) and samples.dtype == np.uint8
    assert np.array_equal(samples, checkpoint.snapshot().sample(5, seed=1))
    # FID goes through the contract too (chunked, seeded sampling for a model without a latent).
    from genai_engine.metrics.evaluate import evaluate

    result = drain(evaluate(fashion_small.test.images, checkpoint, n=40, features="domain",
                            kid=False, inception_score_splits=None, precision_recall_k=None,
                            device="cpu", use_cache=False))
    assert np.isfinite(result.fid)


def test_the_cli_trains_an_added_family_and_reports_its_metrics(extra_family, toy_dataset, tmp_path,
                                                                capsys):
    data = tmp_path / "toy.npz"
    np.savez(data, images=toy_dataset.train.images, labels=toy_dataset.train.labels,
             test_images=toy_dataset.test.images, test_labels=toy_dataset.test.labels)
    assert cli_main(["train", "--family", extra_family, "--dataset", str(data), "--epochs", "1",
                     "--out", str(tmp_path / "run"), "--device", "cpu", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["family"] == extra_family and summary["epochs"] == 1
    assert summary["test_loss"] == summary["test_loss"] and "train_loss" in summary


def test_format_1_checkpoints_open_as_vaes_and_resume(toy_dataset, tmp_path):
    demo = load_checkpoint(demo_checkpoint_path())
    assert demo.raw["format"] == "genai-lab-vae" and demo.family == "vae"
    assert demo.diagnostics["latent_importance"].shape == (demo.model_config.latent_dim,)
    snapshot = demo.snapshot()
    assert isinstance(snapshot, LatentDecoder) and isinstance(snapshot, Encoder)
    assert isinstance(snapshot, DensityModel) and not isinstance(snapshot, Invertible)

    # A format-1 run (optimizer state under its old key) resumes under the generic trainer.
    config = ModelConfig(hidden=(16,), latent_dim=3, image_shape=toy_dataset.image_shape)
    run = tmp_path / "new"
    drain(train(toy_dataset, config, TrainConfig(epochs=1, batch_size=32, device="cpu"), out_dir=run))
    raw = torch.load(run / "checkpoint.pt", weights_only=True)
    old = {k: v for k, v in raw.items() if k not in ("family", "trainer_state", "diagnostics")}
    old.update(format="genai-lab-vae", format_version=1,
               optimizer_state=raw["trainer_state"]["optimizers"][0],
               kl_per_dim=raw["diagnostics"]["latent_importance"])
    torch.save(old, tmp_path / "old.pt")
    legacy = load_checkpoint(tmp_path / "old.pt")
    assert legacy.trainer_state["optimizers"][0]["state"]
    done = drain(train(toy_dataset, None, TrainConfig(epochs=2, batch_size=32, device="cpu"),
                       resume=legacy))
    assert done.family == "vae" and done.epochs == 2 and len(done.history["test_loss"]) == 2


def test_vae_snapshot_nll_is_the_elbo_at_the_posterior_mean(toy_dataset):
    model = build_model(ModelConfig(hidden=(16,), latent_dim=3, image_shape=toy_dataset.image_shape))
    snapshot = families.get_family("vae").snapshot(model)
    images = toy_dataset.test.images[:6]
    nll = snapshot.nll(images)
    recon = snapshot.reconstruction_error(images)
    assert nll.shape == (6,) and np.all(nll >= recon)  # the KL term is never negative


def test_every_family_ships_a_demo_trained_on_the_embedded_data():
    from genai_engine.data import load_dataset
    from genai_engine.resources import demo_checkpoints

    fingerprint = load_dataset("fashion-mnist").fingerprint
    demos = demo_checkpoints()
    assert list(demos) == list(families.family_names())
    for family, path in demos.items():
        checkpoint = load_checkpoint(path)
        assert checkpoint.family == family and checkpoint.epoch >= 1 and checkpoint.timeline
        assert checkpoint.dataset["fingerprint"] == fingerprint
        samples = checkpoint.snapshot().sample(2, seed=0)
        assert samples.shape == (2, 28, 28, 1) and samples.std() > 0
