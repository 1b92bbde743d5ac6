"""``ARConfig``: the pixel transformer's shape, with the metadata the desktop builds its form from.

Every field carries ``metadata``: ``label`` and ``help`` (one or two sentences for a student),
``min``/``max`` where they apply, and ``hidden`` for fields the data decides.

Why K = 8 levels by default: the model predicts one of K values per pixel, and the fewer the
values, the less it has to learn. Eight grey levels keep Fashion-MNIST's shapes and textures
(uniform guessing costs log2 8 = 3 bits/dim), train to good samples in a few CPU minutes, and
match the gated-PixelCNN reference the issue measures against. 256 is lossless 8-bit.

Why so small a transformer (width 32, 2 layers, 2 heads): attention over 784 pixel tokens is
costly on a CPU. In 150 s of training on this 2-core machine (one thread), 32 wide x 2 layers
reached 0.95 test bits/dim at ~80 images/s; 32 x 4 reached 1.07 (42 images/s) and 64 x 4 only
1.18 (14 images/s): more steps beat more capacity at this budget. A GPU affords the larger ones.

Why Adam at 6e-3 with the late-decay schedule (``ARFamily.train_defaults``): test bits/dim after
150 s of training (one thread, about 15,000 images, one seed each), constant rate / late-decay:
3e-3 0.855 / 0.867, 6e-3 0.834 / 0.814, 1e-2 0.822 / 0.800. At this budget the model is far
from done, so a larger rate keeps paying, and the rate held until 80 % of the run and then
lowered wins over a constant one by 0.02 at 6e-3 and up; a cosine from the start lost (1.11
against 1.05 constant after 90 s). 6e-3 rather than 1e-2 leaves room for other images (a larger
rate is where a transformer diverges first). Averaging the weights (an EMA, decay 0.99 to
0.998) made every one of these runs worse: the model moves too fast for an average to lag it.

Text (a character model; ``TEXT_SHAPE``, ``TEXT_TRAINING``, and the corpus's window
``data.text.DEFAULT_CONTEXT``): context 64, width 96, 3 layers, 4 heads (0.36 M parameters),
Adam 3e-3, batch 16, 4 epochs of 20,000 windows (5,000 steps, 5 M characters): 215 s at ~390
windows/s on one thread of this 2-core machine, to 1.82 test bits/char on python-docs, with
real words and the corpus's indented lines ("The keywords are the namespace remain cause (the
first\nformat execution is that the function of the "__name__" methods"). Why, test bits/char
at the end of one cosine run on python-docs: more steps win, as for images. With the same
settings otherwise, 2,000 steps reached 2.07; batch 32 (1,000 steps of 4,000 windows per
epoch) 2.56 where batch 16 reached 2.33; context 128 at batch 8 (the same characters per step)
2.19 where context 64 reached 2.07; lr 5e-3 2.64 (3e-3: 2.07); 128 wide x 4 layers, in the same
235 s as the defaults, 2.29 (1.82); and 128 x 4 at context 128, batch 32, only 3.22 (256 steps:
hardly a word).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from genai_engine.errors import GenAIError
from genai_engine.families.base import FamilyConfig

LEVELS_RANGE = (2, 256)
WIDTH_RANGE = (8, 1024)
LAYERS_RANGE = (1, 24)
HEADS_RANGE = (1, 16)
# A token per pixel and channel: 4,096 is 64x64 grey or 36x36 colour. Attention grows with its
# square, so larger images train too slowly on a CPU to be worth offering.
MAX_TOKENS = 4096
# A character model's shape and training (a text corpus): see the module docstring for why.
TEXT_SHAPE = {"width": 96, "layers": 3, "heads": 4}
TEXT_TRAINING = {"lr": 3e-3, "batch_size": 16, "epochs": 4, "epoch_images": 20000, "schedule": "cosine"}


@dataclass
class ARConfig(FamilyConfig):
    levels: int = field(default=8, metadata={
        "label": "Pixel levels (K)", "min": LEVELS_RANGE[0], "max": LEVELS_RANGE[1],
        "help": "Each pixel value is rounded to one of K evenly spaced levels, and the model picks "
                "one of K values per pixel, like a language model picks a word. The default 8 keeps "
                "the pictures' shapes and learns fast; 256 keeps every 8-bit value."})
    width: int = field(default=32, metadata={
        "label": "Width", "min": WIDTH_RANGE[0], "max": WIDTH_RANGE[1],
        "help": "Length of the vector the transformer keeps for each pixel. Wider learns more but "
                "trains and samples slower."})
    layers: int = field(default=2, metadata={
        "label": "Layers", "min": LAYERS_RANGE[0], "max": LAYERS_RANGE[1],
        "help": "Transformer blocks (attention to the pixels before, then a small MLP). More layers "
                "combine more context, at a proportional cost."})
    heads: int = field(default=2, metadata={
        "label": "Attention heads", "min": HEADS_RANGE[0], "max": HEADS_RANGE[1],
        "help": "Attention patterns per layer, each looking at the earlier pixels in its own way. "
                "Must divide the width."})
    image_shape: tuple[int, int, int] = field(default=(1, 28, 28), metadata={"hidden": True})  # (C, H, W)
    num_classes: int = field(default=0, metadata={"hidden": True})  # > 0: a class token starts the image
    # A character model (a text corpus, ``data/text.py``): the characters in id order; the
    # "image" (1, 1, L) is a window of L character ids and ``levels`` is their number.
    vocabulary: str = field(default="", metadata={"hidden": True})

    def __post_init__(self) -> None:
        self.image_shape = tuple(int(s) for s in self.image_shape)
        if self.vocabulary:
            if len(set(self.vocabulary)) != len(self.vocabulary):
                raise GenAIError("the vocabulary of a character model must not repeat a character")
            self.levels = len(self.vocabulary)
        for name, (low, high) in (("levels", LEVELS_RANGE), ("width", WIDTH_RANGE),
                                  ("layers", LAYERS_RANGE), ("heads", HEADS_RANGE)):
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or not low <= int(value) <= high:
                raise GenAIError(f"{name} must be a whole number from {low} to {high}, got {value}")
            setattr(self, name, int(value))
        if self.width % self.heads:
            raise GenAIError(f"the width ({self.width}) must be a multiple of the number of heads "
                             f"({self.heads})")
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise GenAIError(f"image shape must be (channels, height, width), got {self.image_shape}")
        if self.tokens > MAX_TOKENS and self.vocabulary:
            raise GenAIError(f"a context of {self.tokens} characters is more than the {MAX_TOKENS} a "
                             "transformer takes here; use a smaller --context")
        if self.tokens > MAX_TOKENS:
            c, h, w = self.image_shape
            raise GenAIError(f"{h}x{w} images with {c} channel(s) make {self.tokens} pixel tokens, more "
                             f"than the {MAX_TOKENS} a pixel transformer takes; use smaller images "
                             "(--image-size)")
        if int(self.num_classes) < 0:
            raise GenAIError(f"the number of classes must be 0 or more, got {self.num_classes}")
        self.num_classes = int(self.num_classes)

    @property
    def tokens(self) -> int:
        """Tokens per sequence: one per pixel and channel, or per character of a text window."""
        return math.prod(self.image_shape)

    @property
    def is_text(self) -> bool:
        return bool(self.vocabulary)

