"""Image datasets held in memory as uint8: the embedded Fashion-MNIST and users' own files.

``load_dataset(spec, image_size=None)`` reads a built-in name, an IDX folder or images file, a
folder of PNG/JPEG images or an ``.npz``; ``read_image_set(spec)`` reads one set of images (e.g.
generated samples for FID). See ``loading.py`` for the rules.
"""

from genai_engine.data.builtin import BUILTIN_DATASETS, BuiltinDataset, builtin_dataset_names
from genai_engine.data.dataset import Dataset, DataWarning, ImageSet
from genai_engine.data.loading import clear_cache, load_dataset, read_image_set

__all__ = [
    "BUILTIN_DATASETS",
    "BuiltinDataset",
    "DataWarning",
    "Dataset",
    "ImageSet",
    "builtin_dataset_names",
    "clear_cache",
    "load_dataset",
    "read_image_set",
]
