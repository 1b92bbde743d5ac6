"""Inception Score (Salimans et al. 2016) from classifier logits.

``IS = exp(E_x KL(p(y|x) || p(y)))``, computed on ``splits`` consecutive parts of the samples
and reported as mean and standard deviation over the parts. GenAI Lab computes it from the
domain network's logits (the shipped Inception file has no classifier head), so it is a
domain IS: its maximum is the number of classes, not 1000.
"""

from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def inception_score_from_log_probs(log_p: np.ndarray) -> float:
    """IS of one group of samples given log p(y|x), shape (n, classes)."""
    p = np.exp(log_p)
    log_marginal = np.log(np.clip(p.mean(axis=0), 1e-300, None))
    kl = (p * (log_p - log_marginal)).sum(axis=1)
    return float(np.exp(kl.mean()))


def inception_score(logits: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Inception Score of logits (n, classes): ``(mean, std)`` over ``splits`` parts."""
    logits = np.asarray(logits)
    if logits.ndim != 2 or len(logits) == 0:
        raise ValueError(f"expected logits of shape (n, classes), got {logits.shape}")
    splits = max(1, min(int(splits), len(logits)))
    log_p = log_softmax(logits)
    scores = [inception_score_from_log_probs(part) for part in np.array_split(log_p, splits)]
    return float(np.mean(scores)), float(np.std(scores))
