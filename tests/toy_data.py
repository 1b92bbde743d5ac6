"""Small synthetic datasets for fast engine tests."""

import numpy as np

from genai_engine.data import Dataset, ImageSet


def make_toy_dataset(n_train: int = 512, n_test: int = 128, size: int = 12, seed: int = 0) -> Dataset:
    """Bright squares of three sizes on a dark background: learnable in a few steps."""
    rng = np.random.default_rng(seed)

    def split(n):
        labels = rng.integers(0, 3, n)
        images = np.zeros((n, size, size, 1), np.uint8)
        for i, label in enumerate(labels):
            side = 3 + 2 * int(label)
            y, x = rng.integers(0, size - side + 1, 2)
            images[i, y:y + side, x:x + side, 0] = 255
        return ImageSet(images, labels.astype(np.int64))

    return Dataset("toy", split(n_train), split(n_test), class_names=["small", "medium", "large"])




def make_toy_text(sentences: int = 150, seed: int = 0) -> str:
    """Short sentences from a dozen words, one per line (~3,000 characters): a corpus a tiny
    character model learns in a few steps."""
    rng = np.random.default_rng(seed)
    words = [["the cat", "a dog", "my bird"], ["sat", "ran", "slept"], ["mat", "park", "tree"]]
    lines = ["{} {} on the {}.".format(*(rng.choice(choices) for choices in words)) for _ in range(sentences)]
    return "\n".join(lines) + "\n"
