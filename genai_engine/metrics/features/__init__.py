"""Feature networks for the metrics: ``inception`` (standard FID) and ``domain`` (a small CNN).

Both give an object with ``extract(uint8 images (N, H, W, C)) -> (features, logits | None)``,
``dim``, ``network_id`` and ``preprocessing`` (the statistics-cache key), ``label`` (for
people), ``preferred_batch_size`` and ``check_images(shape)``.
"""
