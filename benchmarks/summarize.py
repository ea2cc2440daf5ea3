"""Print a Markdown table of the latest figures in ``results/*.json``.

``benchmarks/README.md``'s table is this script's output, so the figures there are
copied by a program from the records, not by hand::

    python benchmarks/summarize.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _std(s: dict) -> float:
    return 0.0 if s["std"] != s["std"] else s["std"]  # NaN (one seed) shown as 0


def figures(name: str, r: dict) -> str:
    """The key figures of one record, as one Markdown cell."""
    if name == "data_memory":
        return (f"peak RSS: seed {r['seed_peak_rss_mb']:,.0f} MB (warm cache; "
                f"{r['seed_cold_peak_rss_mb']:,.0f} MB cold), package {r['package_peak_rss_mb']:,.0f} MB, "
                f"**ratio {r['ratio']:.3f}**; load {r['seed_seconds']:.1f} s (seed, warm) / "
                f"{r['seed_cold_seconds']:.1f} s (cold) vs {r['package_seconds']:.1f} s")
    if name in ("lfw_pairs", "lfw_seed_250"):
        parts = []
        for step, m in r["steps"].items():
            h = m["history"]["test_accuracy"]
            kept = h[m["best_epoch"] - 1]
            parts.append(f"{step} ({m['image_side']} px): test {m['test_accuracy']:.3f}, "
                         f"AUC {m['test_auc']:.3f}, test@0.5 kept/best epoch {kept:.3f}/{max(h):.3f}, "
                         f"{m['train_seconds']:.0f} s")
        sizes = f"{r['train_pairs']}/{r['validation_pairs']}/{r['test_pairs']}"
        return f"{r['epochs']} epochs, {sizes} pairs: " + "; ".join(parts)
    if name == "lfw_sweep":
        rows = [f"{s['param']}={s['value']}: {s['mean']:.3f} +- {_std(s):.3f}" for s in r["summary"]]
        errors = sum(1 for run in r["runs"] if isinstance(run.get("error"), str))
        note = f"; {errors} runs recorded as errors" if errors else ""
        return (f"{r['image_side']} px, {r['sampled_pairs']} pairs, {r['epochs']} epochs, "
                f"seeds {r['seeds']}; validation accuracy (ranks; {r['validation_pairs']} pairs) "
                "mean +- std: " + "; ".join(rows) + note)
    if name == "omniglot_one_shot":
        rows = [f"{k}: {_pct(v['one_shot_accuracy'])}" for k, v in r["methods"].items()]
        s, e = r["siamese"], r["embedding"]
        return (f"{r['training_set']}; Siamese {s['tower']} tower at {s['side']} px, {s['pairs']} pairs, "
                f"{s['epochs']} epochs; embedding {e['epochs']} epochs; "
                f"400-trial one-shot accuracy: " + "; ".join(rows))
    if name == "gpu_throughput":
        ok = [x for x in r["runs"] if "images_per_s" in x]
        rows = [f"{x['model']} {'x'.join(map(str, x['image_shape']))}, batch {x['batch']}, {x['precision']}: "
                f"{x['images_per_s']:,.0f} images/s" for x in ok]
        return f"training steps, Keras backend {r['keras_backend']}: " + "; ".join(rows)
    if name == "input_pipeline":
        size = "x".join(map(str, r["image_size"]))
        return (f"{r['source']}, {size}x{r['channels']}, {r['batch_images']} images a batch, "
                f"{r['cpu_count']} CPUs: tf.data from pair files **{r['images_per_s']:,.0f} images/s** "
                f"vs the seed's PIL loop {r['baseline_images_per_s']:,.0f} ({r['speedup']:.1f}x); P x K from "
                f"TFRecord shards {r['shards_images_per_s']:,.0f} images/s (shards written once in "
                f"{r['shard_write_seconds']:.0f} s, {r['shard_megabytes']:.0f} MB)")
    if name == "pairgen":
        b, t = r["baseline"], r["tenth"]
        return (f"{r['lines']:,}-line list, {r['identities']:,} identities: package {r['pairs']:,} pairs in "
                f"**{r['seconds']:.1f} s**, peak RSS {r['peak_rss_mb']:,.0f} MB "
                f"({t['peak_rss_mb']:,.0f} MB for "
                f"1/10 of the pairs; the list alone {r['list_only_peak_rss_mb']:,.0f} MB), positives from "
                f"{r['identities_used']:,} identities; seed (itertools) {b['seconds']:.1f} s, "
                f"{b['peak_rss_mb']:,.0f} MB, positives from {b['identities_used']:,} identities")
    if name.startswith("lfw_verification"):
        rows = [f"{k} ({'x'.join(map(str, m['image_shape']))}): DevTest {m['devtest_accuracy']:.3f}, "
                f"AUC {m['auc']:.3f}, {m['train_seconds']:.0f} s, peak RSS {m['peak_rss_mb']:,.0f} MB"
                for k, m in r["methods"].items()]
        margin = f"; best minus seed **{r['margin_over_seed']:+.3f}**" if "margin_over_seed" in r else ""
        return f"{r['budget_minutes']:g}-minute training budget each: " + "; ".join(rows) + margin
    if name == "tflite_export":
        e = r["embedder"]
        rows = [f"{k}: {v['size_kb']:,.0f} kB, {v['latency_ms']:.2f} ms/face, "
                f"DevTest {v['test_accuracy']:.3f} ({v['test_accuracy_minus_keras']:+.3f} vs Keras, "
                f"paired SE {v['paired_standard_error']:.3f})"
                for k, v in r["formats"].items() if v["size_kb"] is not None]
        return (f"chapter 8's {e['method']} embedder, {'x'.join(map(str, r['image_shape']))} grey, "
                f"{e['parameters']:,} parameters, Keras DevTest "
                f"{r['formats']['Keras (float32)']['test_accuracy']:.3f}; " + "; ".join(rows))
    if name.startswith("contrastive_augmentation"):
        run = r["run"]
        rows = [f"{k}: {sum(c['validation_auc']) / len(c['validation_auc']):.3f} "
                f"({', '.join(f'{a:.3f}' for a in c['validation_auc'])})" for k, c in r["candidates"].items()]
        return (f"chapter 4's run ({run['pairs']:,} pairs, {run['epochs']} epochs, "
                f"{'x'.join(map(str, r['image_shape']))} faces), seeds {r['seeds']}, "
                f"{r['validation_pairs']:,} validation-people pairs (DevTest not scored); validation AUC, "
                "mean (per seed): " + "; ".join(rows) + f"; best **{r['best']}**")
    if name == "lfw_view2":
        rows = [f"{k}: {m['accuracy_mean']:.3f} +- {m['accuracy_std']:.3f} (AUC {m['auc']:.3f}, "
                f"EER {m['eer']:.3f}, TAR@FAR=1e-3 {m['tar_at_far_1e-3']:.3f})"
                for k, m in r["models"].items()]
        side = "x".join(map(str, r["image_shape"]))
        return (f"View 2, 10 folds, {side} grey, Keras backend {r.get('keras_backend', 'tensorflow')}; "
                "accuracy mean +- std: " + "; ".join(rows))
    return json.dumps({k: v for k, v in r.items() if not isinstance(v, (dict, list))})[:300]


def profile_cell(r: dict) -> str:
    """The record's profile, with the sizes it overrode: ``reduced (epochs=10)``."""
    overrides = r.get("overrides") or {}
    extra = ", ".join(f"{k}={v}" for k, v in overrides.items())
    return f"{r.get('profile', '-')} ({extra})" if extra else r.get("profile", "-")


def main() -> str:
    lines = ["| record | figures | profile | hardware | command |", "| --- | --- | --- | --- | --- |"]
    for path in sorted((HERE / "results").glob("*.json")):
        r = json.loads(path.read_text())
        lines.append(f"| `results/{path.name}` | {figures(path.stem, r)} | {profile_cell(r)} | "
                     f"{r['hardware']} | `{r['command']}` |")
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
