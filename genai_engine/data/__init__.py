"""Image datasets held in memory as uint8: the embedded Fashion-MNIST and users' own files."""

from genai_engine.data.dataset import Dataset, ImageSet

__all__ = ["Dataset", "ImageSet"]
