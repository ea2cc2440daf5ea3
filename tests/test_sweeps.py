import numpy as np
import pandas as pd
import pytest

from siamese_lessons.pairs import sample_pairs
from siamese_lessons.sweeps import (
    PairHyperModel,
    grid_configs,
    one_at_a_time_configs,
    run_sweep,
    summarize_sweep,
)


def test_one_at_a_time_shares_the_base_run():
    configs = one_at_a_time_configs({"a": 1, "b": "x"}, {"a": [1, 2, 3], "b": ["x", "y"]})
    assert [(p, v) for p, v, _ in configs] == [("base", "-"), ("a", 2), ("a", 3), ("b", "y")]
    assert configs[2][2] == {"a": 3, "b": "x"}
    with pytest.raises(ValueError, match="c"):
        one_at_a_time_configs({"a": 1}, {"c": [1]})
    assert len(grid_configs({"a": 1, "b": 2}, {"a": [1, 2], "b": [3, 4, 5]})) == 6


def test_sweep_resumes_from_csv_and_reports_the_cap(tmp_path):
    calls = []

    def run(config, seed):
        calls.append((config["a"], seed))
        return {"score": config["a"] + 0.1 * seed}

    configs = one_at_a_time_configs({"a": 1}, {"a": [1, 2, 3]})
    csv = tmp_path / "sweep.csv"
    first = run_sweep(run, configs, seeds=[0, 1], csv_path=csv, progress=False)
    assert len(first) == 6 and len(calls) == 6
    again = run_sweep(run, configs, seeds=[0, 1], csv_path=csv, progress=False)
    assert len(calls) == 6  # nothing re-run
    pd.testing.assert_series_equal(first["score"], again["score"])
    capped = run_sweep(run, configs, seeds=[0, 1, 2], csv_path=None, max_seconds=-1, progress=False)
    assert len(capped) == 0 and len(capped.attrs["not_run"]) == 9


def test_summary_flags_only_differences_beyond_noise():
    rows = []
    for seed, noise in enumerate([-0.01, 0.01, 0.0]):
        rows += [{"param": "base", "value": "-", "seed": seed, "acc": 0.60 + noise},
                 {"param": "lr", "value": "big", "seed": seed, "acc": 0.70 + noise},
                 {"param": "lr", "value": "small", "seed": seed, "acc": 0.605 + noise}]
    table = summarize_sweep(pd.DataFrame(rows), "acc").set_index("value")
    assert table.loc["big", "mean"] == pytest.approx(0.70)
    assert table.loc["big", "std"] == pytest.approx(0.01)
    assert bool(table.loc["big", "differs"]) and not bool(table.loc["small", "differs"])
    with pytest.raises(KeyError):
        summarize_sweep(pd.DataFrame(rows), "auc")


def test_summary_floors_the_noise_at_the_evaluation_sets_binomial_spread():
    # Two seeds that agree exactly (std 0): without n_items a 0.06 gap "differs"; on 55 pairs an
    # accuracy near 0.6 has sd sqrt(0.6 * 0.4 / 55) = 0.066, so se = 0.066 / sqrt(2) per setting and the
    # noise is 2 * sqrt(2) * 0.047 = 0.13 > 0.06 (numbers by hand).
    rows = [{"param": p, "value": v, "seed": seed, "val": acc, "test": t}
            for seed in (0, 1) for p, v, acc, t in (("base", "-", 0.60, 0.58), ("lr", "big", 0.66, 0.55))]
    frame = pd.DataFrame(rows)
    assert bool(summarize_sweep(frame, "val").set_index("value").loc["big", "differs"])
    table = summarize_sweep(frame, "val", n_items=55, report=["test"]).set_index("value")
    assert not bool(table.loc["big", "differs"])
    assert table.loc["-", "noise_se"] == pytest.approx(np.sqrt(0.6 * 0.4 / 55) / np.sqrt(2))
    assert table.loc["big", "test mean"] == pytest.approx(0.55)  # shown beside, never ranked on
    with pytest.raises(KeyError, match="auc"):
        summarize_sweep(frame, "val", report=["auc"])


def test_keras_tuner_hypermodel_builds_from_a_space():
    import keras_tuner

    hm = PairHyperModel((16, 16, 1), {"filters": [4, 8], "dense_units": [8], "conv_blocks": [1, 2]})
    hp = keras_tuner.HyperParameters()
    model = hm.as_keras_tuner().build(hp)
    assert set(hp.values) == {"filters", "conv_blocks"}  # single-value entries are fixed, not searched
    assert model.output_shape == (None, 1)


def test_sample_pairs_is_balanced_distinct_and_spread():
    from siamese_lessons.data import IdentitySet

    labels = np.repeat(np.arange(50), [1] * 10 + [30] * 40)
    ds = IdentitySet(images=np.zeros((len(labels), 2, 2), np.uint8), labels=labels,
                     class_names=[f"p{i}" for i in range(50)])
    ps = sample_pairs(ds, 400, seed=0)
    ids = ps.pair_identities
    same = ps.labels == 1
    assert same.sum() == 200 and (ids[same, 0] == ids[same, 1]).all()
    assert (ids[~same, 0] != ids[~same, 1]).all()
    assert (ps.pairs[:, 0] != ps.pairs[:, 1]).all()
    keys = {tuple(sorted(p)) for p in ps.pairs.tolist()}
    assert len(keys) == 400
    assert len(set(ids[same, 0])) > 35  # positives spread over the 40 eligible identities
    np.testing.assert_array_equal(ps.pairs, sample_pairs(ds, 400, seed=0).pairs)
    with pytest.raises(ValueError, match="two or more images"):
        sample_pairs(ds.subset(np.arange(10)), 4)


def test_sweep_records_configurations_that_cannot_run():
    def run(config, seed):
        if config["a"] == 3:
            raise ValueError("3 does not fit")
        return {"score": float(config["a"])}

    configs = one_at_a_time_configs({"a": 1}, {"a": [2, 3]})
    with pytest.raises(ValueError, match="does not fit"):
        run_sweep(run, configs, seeds=[0], progress=False)
    rows = run_sweep(run, configs, seeds=[0], progress=False, errors="record")
    assert rows.loc[rows["value"] == "3", "error"].item() == "3 does not fit"
    assert summarize_sweep(rows, "score")["value"].tolist() == ["-", "2"]
