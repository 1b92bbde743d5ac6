"""The real-statistics cache: round trip, never a foreign entry, atomic files."""

import numpy as np

from genai_engine.metrics import cache
from genai_engine.metrics.statistics import FeatureStats


def make_entry(fingerprint="aaaa", split="test", network="domain-x", rows=20, dim=4, seed=0):
    rng = np.random.default_rng(seed)
    feats = rng.standard_normal((rows, dim)).astype(np.float32)
    key = cache.CacheKey(fingerprint, split, network, "prep", 1000)
    return cache.RealStatsEntry(key, FeatureStats(dim).update(feats), feats, {"name": "t"})


def test_round_trip(tmp_path):
    entry = make_entry()
    entry.radii[3] = np.arange(20, dtype=np.float32)
    path = cache.save_entry(entry, tmp_path)
    assert path.parent == tmp_path and path.name.startswith("real-")
    loaded = cache.load_entry(entry.key, tmp_path)
    assert loaded is not None and loaded.info == {"name": "t"}
    np.testing.assert_array_equal(loaded.stats.covariance, entry.stats.covariance)
    np.testing.assert_array_equal(loaded.features, entry.features)
    np.testing.assert_array_equal(loaded.radii[3], entry.radii[3])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_other_fingerprint_split_network_or_preprocessing_miss(tmp_path):
    entry = make_entry()
    cache.save_entry(entry, tmp_path)
    k = entry.key
    for other in (
        cache.CacheKey("bbbb", k.split, k.network_id, k.preprocessing, k.max_features),
        cache.CacheKey(k.fingerprint, "train", k.network_id, k.preprocessing, k.max_features),
        cache.CacheKey(k.fingerprint, k.split, "inception", k.preprocessing, k.max_features),
        cache.CacheKey(k.fingerprint, k.split, k.network_id, "other-prep", k.max_features),
        cache.CacheKey(k.fingerprint, k.split, k.network_id, k.preprocessing, 500),
    ):
        assert cache.load_entry(other, tmp_path) is None


def test_a_file_under_the_right_name_with_a_wrong_fingerprint_is_never_used(tmp_path):
    good = make_entry(fingerprint="good")
    impostor = make_entry(fingerprint="evil", seed=1)
    path = cache.save_entry(impostor, tmp_path)
    path.rename(tmp_path / good.key.file_name)  # e.g. copied by hand, or a hash collision
    assert cache.load_entry(good.key, tmp_path) is None
    cache.save_entry(good, tmp_path)  # recomputed entry replaces it
    assert cache.load_entry(good.key, tmp_path) is not None


def test_corrupt_entries_are_ignored(tmp_path):
    entry = make_entry()
    path = cache.save_entry(entry, tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    assert cache.load_entry(entry.key, tmp_path) is None
    path.write_text("not an npz")
    assert cache.load_entry(entry.key, tmp_path) is None
    assert cache.clear_cache(tmp_path) == 1


def test_default_folder_is_under_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GENAI_LAB_HOME", str(tmp_path))
    entry = make_entry()
    path = cache.save_entry(entry)
    assert path.parent == tmp_path / "stats_cache"
