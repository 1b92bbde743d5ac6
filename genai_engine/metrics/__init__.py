"""Evaluation of generative models: FID, KID, Inception Score, precision/recall.

Pure functions over feature arrays (numpy, float64 where it matters):

- ``frechet_distance(mu1, sigma1, mu2, sigma2)``: symmetric-eigh Fréchet distance;
- ``FeatureStats``: streaming, mergeable mean/covariance (saved as ``.npz``);
- ``kernel_inception_distance``, ``inception_score``, ``precision_recall``, ``fid_bootstrap``.

Feature networks live in ``features/`` (``inception.py``: the standard TF Inception pool3;
``domain.py``: a small Fashion-MNIST classifier). ``evaluate.evaluate(...)`` is the generator
the CLI (``genai-lab fid``) and the desktop Evaluate tab run:
``from genai_engine.metrics.evaluate import evaluate, EvalProgress, EvalResult`` (it and the
networks import torch; this package itself needs only numpy).
"""

from genai_engine.metrics.bootstrap import fid_bootstrap
from genai_engine.metrics.frechet import frechet_distance, frechet_distance_stats
from genai_engine.metrics.inception_score import inception_score
from genai_engine.metrics.kid import kernel_inception_distance
from genai_engine.metrics.precision_recall import knn_radii, precision_recall
from genai_engine.metrics.reservoir import FeatureReservoir
from genai_engine.metrics.statistics import FeatureStats

__all__ = [
    "FeatureReservoir",
    "FeatureStats",
    "fid_bootstrap",
    "frechet_distance",
    "frechet_distance_stats",
    "inception_score",
    "kernel_inception_distance",
    "knn_radii",
    "precision_recall",
]
