"""The Inception FID network: weight recognition, preprocessing, and equality with references.

Tests that need the 87 MB weight file skip when it is absent (get it with
``genai-lab weights install``). They look in ``GENAI_LAB_INCEPTION_WEIGHTS``, the usual search
path, and the per-user folder that ``weights install`` writes to (the test suite points
``GENAI_LAB_HOME`` at a temporary folder, so that one is looked up by hand).

The pytorch-fid comparison (marked slow) needs pytorch-fid 0.3.0 and torchvision, which are
not project dependencies: PyPI's torchvision does not import beside this torch 2.13 CPU build
(its C++ operators fail to register), so ``import_pytorch_fid`` stubs only
``torchvision._meta_registrations`` (fake kernels for detection ops like ``nms``, unused by
Inception) and runs pytorch-fid's real model code (``fid_inception_v3`` built on torchvision's
``InceptionA/C/E``). ``GENAI_LAB_REFERENCE_PATH`` may name a folder where both wheels are
unpacked, e.g.::

    pip download --no-deps pytorch-fid==0.3.0 torchvision==0.28.0 -d /tmp/ref
    for w in /tmp/ref/*.whl; do unzip -q -o "$w" -d /tmp/ref/site; done
    GENAI_LAB_REFERENCE_PATH=/tmp/ref/site python -m pytest -m slow tests/engine/test_metrics_inception.py
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genai_engine.errors import WeightsError
from genai_engine.metrics.features import inception as inc

# --- helpers (also used by tests/benchmarks/bench_fid.py) ---------------------------------


def default_user_weights_dir() -> Path:
    """Where ``genai-lab weights install`` puts the file when GENAI_LAB_HOME is not set."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "GenAILab"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "GenAILab"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "genai-lab"
    return base / "weights"


def inception_weights_path() -> Path | None:
    try:
        return inc.find_inception_weights()[0]
    except WeightsError:
        pass
    for name in inc.KNOWN_NAMES:
        path = default_user_weights_dir() / name
        if path.is_file() and inc.identify_weights(path):
            return path
    return None


def weights_or_skip() -> Path:
    path = inception_weights_path()
    if path is None:
        pytest.skip("Inception FID weights not installed (run `genai-lab weights install`)")
    return path


def import_pytorch_fid():
    """pytorch_fid.inception with torchvision importable, or None when they are not available."""
    extra = os.environ.get("GENAI_LAB_REFERENCE_PATH")
    if extra and extra not in sys.path:
        sys.path.insert(0, extra)
    try:
        import torchvision  # noqa: F401
    except RuntimeError as error:  # "operator torchvision::nms does not exist"
        if "torchvision::" not in str(error):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        import torchvision  # noqa: F401
    except ImportError:
        return None
    try:
        import pytorch_fid.inception as pfi
    except ImportError:
        return None
    return pfi


def pytorch_fid_state_dict(weights: Path) -> dict[str, torch.Tensor]:
    """pytorch-fid's state dict (conv weights and raw batch-norm tensors) from either file."""
    kind = inc.identify_weights(weights)
    if kind == "pytorch-fid":
        return torch.load(weights, map_location="cpu", weights_only=True)
    state = torch.jit.load(str(weights), map_location="cpu").state_dict()
    out = {}
    for key, value in state.items():
        module, _, param = key[len("net.layers."):].rpartition(".")
        block, _, inner = module.partition(".")
        target = inc._TS_BLOCKS[block]
        name = target if isinstance(target, str) else f"{target[0]}.{target[1][inner]}"
        if param == "weight":
            out[f"{name}.conv.weight"] = value
        elif param == "beta":
            out[f"{name}.bn.bias"] = value
            out[f"{name}.bn.weight"] = torch.ones_like(value)  # TF's batch-norm has no scale
        elif param == "mean":
            out[f"{name}.bn.running_mean"] = value
        elif param == "var":
            out[f"{name}.bn.running_var"] = value
    return out


def pytorch_fid_model(pfi, weights: Path):
    """pytorch-fid's ``InceptionV3([3])`` (resize + normalise inside) with these weights.

    Its loader fetches a URL; here it is handed the state dict instead. The TorchScript file
    has no classifier (``fc``), which pool3 features do not use, so only ``fc.*`` may be missing.
    """
    state = pytorch_fid_state_dict(weights)
    original_loader = pfi.load_state_dict_from_url
    original_load = torch.nn.Module.load_state_dict

    def load_allowing_missing_fc(self, sd, strict=True, assign=False):
        result = original_load(self, sd, strict=False)
        missing = [k for k in result.missing_keys if not k.startswith("fc.")]
        assert not missing and not result.unexpected_keys, (missing, result.unexpected_keys)
        return result

    pfi.load_state_dict_from_url = lambda *a, **k: dict(state)
    torch.nn.Module.load_state_dict = load_allowing_missing_fc
    try:
        model = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    finally:
        torch.nn.Module.load_state_dict = original_load
        pfi.load_state_dict_from_url = original_loader
    return model.eval()


def pytorch_fid_features(model, images: np.ndarray) -> np.ndarray:
    """Features as pytorch-fid computes them: ToTensor ([0, 1], RGB), then the model."""
    x = torch.from_numpy(np.array(images)).permute(0, 3, 1, 2).float() / 255.0
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)  # PIL .convert("RGB")
    with torch.no_grad():
        return model(x)[0].squeeze(3).squeeze(2).numpy()


def fashion_images(n: int, split: str = "test", offset: int = 0) -> np.ndarray:
    from genai_engine.data import load_dataset

    images = load_dataset("fashion-mnist").split(split).images
    return np.ascontiguousarray(images[offset : offset + n])


# --- tests without weights -----------------------------------------------------------------


def test_missing_weights_say_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setenv("GENAI_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GENAI_LAB_RESOURCES", str(tmp_path / "resources"))
    monkeypatch.delenv(inc.ENV_VAR, raising=False)
    with pytest.raises(WeightsError) as info:
        inc.load_inception()
    message = str(info.value)
    assert "genai-lab weights install" in message and "--features domain" in message


def test_unrecognised_files_are_refused(tmp_path):
    bogus = tmp_path / "default_1.pt"
    bogus.write_bytes(b"\0" * 1000)
    assert inc.identify_weights(bogus) is None
    with pytest.raises(WeightsError, match="not a known Inception"):
        inc.find_inception_weights(bogus)
    with pytest.raises(WeightsError, match="no such file"):
        inc.find_inception_weights(tmp_path / "missing.pt")


@pytest.mark.parametrize("shape", [(3, 28, 28, 1), (2, 32, 40, 3), (2, 299, 299, 3)])
def test_preprocessing_is_pytorch_fids(shape):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, shape, dtype=np.uint8)
    ours = inc.preprocess(images, "cpu", channels_last=True)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    ref = (2 * x - 1).expand(-1, 3, -1, -1)
    assert ours.shape == (shape[0], 3, 299, 299)
    torch.testing.assert_close(ours, ref, atol=2e-6, rtol=0)


# --- tests with the weights ---------------------------------------------------------------


@pytest.fixture(scope="module")
def weights() -> Path:
    return weights_or_skip()


def test_installed_file_is_recognised(weights):
    assert inc.identify_weights(weights) in ("torchscript", "pytorch-fid")


def test_fused_network_equals_the_published_torchscript(weights):
    if inc.identify_weights(weights) != "torchscript":
        pytest.skip("needs the TorchScript file")
    images = fashion_images(3)
    fast = inc.load_inception(weights)
    plain = inc.load_inception(weights, merge=False, channels_last=False)
    ours, _ = fast.extract(images)
    unfused, _ = plain.extract(images)
    with torch.inference_mode():
        script = torch.jit.load(str(weights), map_location="cpu")
        published = script(inc.preprocess(images, "cpu", False)).numpy()
    assert ours.shape == (3, 2048) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, published, atol=1e-4, rtol=0)
    np.testing.assert_allclose(unfused, published, atol=1e-4, rtol=0)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_features_and_fid_equal_pytorch_fid(weights, tmp_path):
    pfi = import_pytorch_fid()
    if pfi is None:
        pytest.skip("pytorch-fid/torchvision not importable (see this module's docstring)")
    from PIL import Image
    from pytorch_fid import fid_score

    from genai_engine.metrics.evaluate import EvalResult, evaluate

    model = pytorch_fid_model(pfi, weights)
    images = fashion_images(8)
    ours, _ = inc.load_inception(weights).extract(images)
    theirs = pytorch_fid_features(model, images)
    print(f"features: max |ours - pytorch-fid| {np.abs(ours - theirs).max():.2e}")
    np.testing.assert_allclose(ours, theirs, atol=1e-3, rtol=0)

    folders = []
    for name, split in (("a", "train"), ("b", "test")):
        folder = tmp_path / name
        folder.mkdir()
        for i, image in enumerate(fashion_images(120, split)):
            Image.fromarray(image[:, :, 0]).save(folder / f"{i:04d}.png")
        folders.append(str(folder))
    pfi.load_state_dict_from_url = lambda *a, **k: pytorch_fid_state_dict(weights)
    original_load = torch.nn.Module.load_state_dict
    torch.nn.Module.load_state_dict = (
        lambda self, sd, strict=True, assign=False: original_load(self, sd, strict=False)
    )
    try:
        reference = float(fid_score.calculate_fid_given_paths(folders, 40, "cpu", 2048, num_workers=0))
    finally:
        torch.nn.Module.load_state_dict = original_load
    result = [
        r for r in evaluate(
            folders[0], folders[1], features="inception", inception_weights=weights, kid=False,
            precision_recall_k=None, inception_score_splits=None, bootstrap=0, use_cache=False,
            device="cpu",
        ) if isinstance(r, EvalResult)
    ][0]
    print(f"pytorch-fid FID {reference:.6f}  ours {result.fid:.6f}")
    assert result.fid == pytest.approx(reference, rel=1e-3)
