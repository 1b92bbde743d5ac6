"""``genai-lab info``: versions, devices, datasets and weight files found."""

from __future__ import annotations

import json
import platform


def register(subparsers) -> None:
    p = subparsers.add_parser("info", help="show versions, devices, datasets and weights")
    p.add_argument("--json", action="store_true", help="print the facts as one JSON object")
    p.set_defaults(func=run)


def collect() -> dict:
    import numpy
    import torch

    from genai_engine import __version__
    from genai_engine.data import builtin_dataset_names
    from genai_engine.devices import available_devices, describe_device, resolve_device
    from genai_engine.errors import WeightsError
    from genai_engine.metrics.features.domain import default_weights_path
    from genai_engine.metrics.features.inception import find_inception_weights
    from genai_engine.resources import demo_checkpoint_path, resources_dir, user_data_dir

    try:
        inception = str(find_inception_weights()[0])
    except WeightsError:
        inception = None  # `genai-lab weights install` gets them
    domain = default_weights_path()
    weights = {"inception": inception, "domain": str(domain) if domain.is_file() else None}
    demo = demo_checkpoint_path()
    return {
        "genai_lab": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "devices": available_devices(),
        "auto_device": describe_device(resolve_device("auto")),
        "datasets": list(builtin_dataset_names()),
        "resources": str(resources_dir()),
        "user_data": str(user_data_dir()),
        "demo_checkpoint": str(demo) if demo.exists() else None,
        "weights": weights,
    }


def run(args) -> int:
    info = collect()
    if args.json:
        print(json.dumps(info))
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for name, item in value.items():
                print(f"  {name}: {item or 'not found'}")
        else:
            print(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    return 0
