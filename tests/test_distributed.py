"""Scale-out training: strategies, the equivalence of replicas and one device, two workers on
127.0.0.1 ending with identical weights, a SIGKILLed run resuming from its checkpoint, the
NaN guard, and the ``train`` command line."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from siamese_lessons import distributed as dist

from .conftest import write_image

REPO = Path(__file__).resolve().parents[1]


def _env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3", **extra}
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    """A clean list of 8 identities x 5 noise images (MS-Celeb format) next to its images."""
    root = tmp_path_factory.mktemp("clean")
    rng = np.random.default_rng(0)
    lines = []
    for label in range(8):
        for i in range(5):
            rel = f"m.{label:04d}/{i}.jpg"
            write_image(root / rel, rng.integers(0, 256, (20, 20, 3)))
            lines.append(f"{rel} {label}")
    (root / "clean_list.txt").write_text("\n".join(lines) + "\n")
    return root / "clean_list.txt"


TRAIN = ["--image-size", "16", "16", "--channels", "1", "--filters", "4", "8", "--embedding-dim", "8",
         "--batch-size", "8", "--k", "2", "--shards", "4", "--quiet", "--no-tensorboard"]


def _train_cmd(source, out, *args) -> list[str]:
    return [sys.executable, "-m", "siamese_lessons", "train", str(source), "--out-dir", str(out),
            *TRAIN, *args]


def test_strategy_names_and_tf_config_are_checked(monkeypatch):
    with pytest.raises(ValueError, match="unknown strategy"):
        dist.make_strategy("horovod")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs TF_CONFIG"):
        dist.make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        dist.make_strategy("auto")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {}}))
    with pytest.raises(ValueError, match="must name the cluster"):
        dist.make_strategy("auto")
    monkeypatch.delenv("TF_CONFIG")
    strategy = dist.make_strategy("auto")  # one CPU, no cluster: the default strategy
    assert strategy.num_replicas_in_sync == 1
    assert dist.worker_info(strategy) == dist.WorkerInfo(None, 0, True, 1)
    with pytest.raises(ValueError, match="precision"):
        dist.set_precision("float8")


_EQUIVALENCE = textwrap.dedent("""
    import sys, numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from siamese_lessons.distributed import train_steps
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5)).astype("float32"); y = rng.normal(size=(48, 1)).astype("float32")

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="tanh"),
                                  keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.01))])
        return model, keras.losses.MeanSquaredError(), keras.optimizers.SGD(0.1)

    def run(strategy):
        replicas = strategy.num_replicas_in_sync
        # per-replica batches in order: replica r of step s gets rows of global batch s
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(12 // replicas).repeat()
        res = train_steps(build, lambda ctx: data, strategy=strategy, steps=4, images_per_step=12,
                          progress=False)
        return [w.numpy() for w in res.model.weights], res.history["loss"].to_numpy()

    one, loss1 = run(tf.distribute.get_strategy())
    two, loss2 = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print("REPLICAS-OK" if len(tf.config.list_logical_devices("CPU")) == 2 else "no devices")
    print("MAXDIFF", max(float(np.abs(a - b).max()) for a, b in zip(one, two)))
    print("LOSSDIFF", float(np.abs(loss1 - loss2).max()))
""")


def test_two_replicas_make_the_update_of_one_device_on_the_global_batch():
    run = subprocess.run([sys.executable, "-c", _EQUIVALENCE], capture_output=True, text=True, env=_env(),
                         timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr[-3000:]
    out = dict(line.split() for line in run.stdout.splitlines() if line.startswith(("MAXDIFF", "LOSSDIFF")))
    assert "REPLICAS-OK" in run.stdout
    assert float(out["MAXDIFF"]) < 1e-6 and float(out["LOSSDIFF"]) < 1e-6


def test_nan_loss_stops_training_and_keeps_the_last_checkpoint(tmp_path):
    import keras
    import tensorflow as tf

    def build():
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        return model, keras.losses.MeanSquaredError(), keras.optimizers.SGD(0.01)

    # targets are finite for 6 batches, then NaN
    y = np.concatenate([np.zeros((48, 1)), np.full((8, 1), np.nan)]).astype(np.float32)
    data = tf.data.Dataset.from_tensor_slices((np.ones((56, 2), np.float32), y)).batch(8).repeat()
    with pytest.raises(FloatingPointError, match="step 7"):
        dist.train_steps(build, lambda ctx: data, strategy=tf.distribute.get_strategy(), steps=20,
                         images_per_step=8, checkpoint_dir=tmp_path, checkpoint_every=3, progress=False)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-6")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _weights(path: Path) -> dict:
    import h5py

    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def test_two_workers_on_localhost_finish_with_identical_weights(faces, tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = [subprocess.Popen(_train_cmd(faces, tmp_path / "run", "--strategy", "multiworker", "--steps", "4",
                                         "--checkpoint-every", "2"),
                              env=_env(TF_CONFIG=json.dumps({"cluster": cluster,
                                                             "task": {"type": "worker", "index": i}})),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
             for i in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    for p, out in zip(procs, outs, strict=True):
        assert p.returncode == 0, out[-3000:]
        assert "on 2 replica(s), global batch 16" in out
    chief = _weights(tmp_path / "run" / "model.weights.h5")
    other = _weights(tmp_path / "run" / "worker-1" / "model.weights.h5")
    assert chief.keys() == other.keys() and len(chief) > 10
    for name in chief:
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)  # incl. BN moving statistics
    assert json.loads((tmp_path / "run" / "run.json").read_text())["global_batch"] == 16
    assert not (tmp_path / "run" / "checkpoints" / "worker-1-scratch").exists()


def _logged_steps(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip()]


def test_sigkilled_run_resumes_from_its_last_checkpoint(faces, tmp_path):
    out, every = tmp_path / "run", 5
    args = ["--steps", "400", "--checkpoint-every", str(every), "--log-every", "1"]
    proc = subprocess.Popen(_train_cmd(faces, out, *args), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=REPO)
    deadline = time.time() + 240
    while time.time() < deadline and (not _logged_steps(out / "history.jsonl")
                                      or _logged_steps(out / "history.jsonl")[-1] < 3 * every + 2):
        assert proc.poll() is None, "training ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = _logged_steps(out / "history.jsonl")
    # The code finds checkpoints by their files (the state file may lag behind a kill), so does the test.
    newest = dist.checkpoint_numbers(out / "checkpoints")[0]
    assert newest >= 3 * every and newest % every == 0
    # at most one interval of work lost (the kill can land after step 5k is logged, before it is saved)
    assert before[-1] - newest <= every
    # restart the same command with fewer remaining steps; it must pick up at the newest checkpoint
    resumed = subprocess.run(_train_cmd(faces, out, "--steps", str(newest + 7), "--checkpoint-every",
                                        str(every), "--log-every", "1"),
                             env=_env(), capture_output=True, text=True, timeout=300, cwd=REPO)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    saved = int(re.search(r"resumed at step (\d+)", resumed.stdout).group(1))
    # the newest checkpoint, or (if the kill cut it short) the one before, with a warning naming it
    assert saved == newest or (saved == newest - every and "could not be restored" in resumed.stderr)
    # the steps after the checkpoint, logged before the kill, are trained again and logged once
    assert _logged_steps(out / "history.jsonl") == list(range(1, newest + 8))
    run = json.loads((out / "run.json").read_text())
    assert (run["start_step"], run["final_step"]) == (saved, newest + 7)


def test_pair_losses_train_end_to_end_with_mixed_precision_and_tflite(faces, tmp_path):
    from siamese_lessons.scale import ScaleConfig, train

    config = ScaleConfig(loss="binary", tower_kwargs={"filters": (4, 8)}, image_size=(16, 16), channels=1,
                         batch_size=4, steps=3, pairs_per_kind=20, precision="mixed_bfloat16", log_every=1)
    try:
        run = train(faces, tmp_path / "b", config, export_tflite=True, progress=False)
    finally:
        dist.set_precision("float32")
    assert run.result.final_step == 3 and len(run.result.history) == 3
    assert (tmp_path / "b" / "pairs" / "positive_pairs_path.txt").read_text().count("\n") == 20
    assert run.tflite_max_error is not None and run.tflite_max_error < 1e-5  # float32 copy exported
    assert Path(run.embedder_path).is_file() and (tmp_path / "b" / "logs").is_dir()


def _tiny_run(tmp_path, steps, **kwargs):
    """A one-layer model on constant data, checkpointed every 5 steps, every step logged."""
    import keras
    import tensorflow as tf

    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        return model, keras.losses.MeanSquaredError(), keras.optimizers.SGD(0.01)

    data = tf.data.Dataset.from_tensor_slices((np.ones((8, 2), np.float32),
                                               np.zeros((8, 1), np.float32))).batch(8).repeat()
    return dist.train_steps(build, lambda ctx: data, strategy=tf.distribute.get_strategy(), steps=steps,
                            images_per_step=8, checkpoint_dir=tmp_path / "ckpt", checkpoint_every=5,
                            history_path=tmp_path / "history.jsonl", log_every=1, progress=False, **kwargs)


def _history_steps(tmp_path):
    return [json.loads(line)["step"] for line in (tmp_path / "history.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("damage", ["remove index", "truncate data"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_older_one_and_keeps_it(tmp_path, damage):
    from siamese_lessons.errors import CheckpointFallbackWarning

    ckpt = tmp_path / "ckpt"
    _tiny_run(tmp_path, 20)
    assert dist.checkpoint_numbers(ckpt) == [20, 15]
    if damage == "remove index":
        (ckpt / "ckpt-20.index").unlink()
    else:
        data = next(ckpt.glob("ckpt-20.data-*"))
        data.write_bytes(data.read_bytes()[: len(data.read_bytes()) // 2])
    with pytest.warns(CheckpointFallbackWarning, match=r"ckpt-20.*resumed from ckpt-15"):
        res = _tiny_run(tmp_path, 22)
    # The old code restarted at step 0 and deleted ckpt-15 on its way.
    assert res.start_step == 15 and res.final_step == 22
    assert _history_steps(tmp_path) == list(range(1, 23))  # the replayed steps 16-20 are logged once
    # ckpt-15 went only after the new ckpt-20 and ckpt-22 were written and read back.
    assert dist.checkpoint_numbers(ckpt) == [22, 20]


def test_a_junk_checkpoint_state_file_is_not_trusted(tmp_path):
    _tiny_run(tmp_path, 10)
    (tmp_path / "ckpt" / "checkpoint").write_text("model_checkpoint_path: {{{ junk")
    assert _tiny_run(tmp_path, 12).start_step == 10  # the old code started over from 0


def test_no_restorable_checkpoint_is_an_error_naming_the_folder_and_restart_starts_over(tmp_path):
    from siamese_lessons.errors import CheckpointError

    ckpt = tmp_path / "ckpt"
    _tiny_run(tmp_path, 10)
    for index in ckpt.glob("*.index"):
        index.write_bytes(b"not an index")
    with pytest.raises(CheckpointError, match=re.escape(str(ckpt))) as info:
        _tiny_run(tmp_path, 12)
    assert len(info.value.problems) == 2 and "--restart" in str(info.value)
    assert dist.checkpoint_numbers(ckpt) == [10, 5]  # nothing deleted
    res = _tiny_run(tmp_path, 6, restart=True)
    assert res.start_step == 0 and dist.checkpoint_numbers(ckpt) == [6, 5]
    assert _history_steps(tmp_path) == list(range(1, 7))


@pytest.mark.parametrize("raw", ["[1, 2]", "null", '{"cluster": [], "task": {}}',
                                 '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
                                 '{"cluster": {"worker": [1]}, "task": {"type": "worker", "index": 0}}'])
def test_tf_config_of_the_wrong_shape_is_a_value_error(monkeypatch, raw):
    monkeypatch.setenv("TF_CONFIG", raw)
    with pytest.raises(ValueError, match="TF_CONFIG must name"):
        dist._tf_config()


@pytest.mark.parametrize("loss", ["triplet", "contrastive"])
def test_the_same_seed_trains_the_same_way(faces, tmp_path, loss):
    # Triplet runs used to differ from step 1: parallel reads reordered images inside P x K batches.
    from siamese_lessons.scale import ScaleConfig, train

    config = ScaleConfig(loss=loss, tower_kwargs={"filters": (4, 8)}, image_size=(16, 16), channels=1,
                         batch_size=8, k=2, steps=6, pairs_per_kind=30, num_shards=3, log_every=1)
    runs = [train(faces, tmp_path / f"run{i}", config, progress=False, tensorboard=False) for i in range(2)]
    first, second = (run.result.history["loss"].to_numpy() for run in runs)
    assert len(first) == 6
    np.testing.assert_array_equal(first, second)


def test_a_resumed_run_draws_a_new_stream_instead_of_replaying(tmp_path):
    import tensorflow as tf

    starts = []

    def make(context, start_step):
        starts.append(start_step)
        x = np.full((8, 2), float(start_step), np.float32)
        return tf.data.Dataset.from_tensor_slices((x, np.zeros((8, 1), np.float32))).batch(8).repeat()

    def build():
        import keras

        keras.utils.set_random_seed(0)
        return (keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), keras.losses.MeanSquaredError(),
                keras.optimizers.SGD(0.01))

    for steps in (5, 8):
        dist.train_steps(build, make, strategy=tf.distribute.get_strategy(), steps=steps, images_per_step=8,
                         checkpoint_dir=tmp_path, checkpoint_every=5, progress=False)
    assert starts == [0, 5]  # the resumed run's input is built for step 5


def test_scale_streams_differ_by_resume_step_and_repeat_for_one(faces, tmp_path):
    import tensorflow as tf

    from siamese_lessons.data import read_clean_list
    from siamese_lessons.scale import ScaleConfig, _dataset_fn, prepare_data

    config = ScaleConfig(loss="triplet", image_size=(16, 16), channels=1, batch_size=8, k=2, num_shards=2,
                         augment=False)
    data_dir = prepare_data(read_clean_list(faces), tmp_path, config, progress=False)
    make = _dataset_fn(config, data_dir, str(faces.parent), 8)
    context = tf.distribute.InputContext()

    def first_labels(start):
        return [next(iter(make(context, start)))[1].numpy().tolist() for _ in range(2)]

    fresh, again, resumed = first_labels(0), first_labels(0), first_labels(40)
    assert fresh[0] == fresh[1] == again[0]  # the same start gives the same stream
    assert resumed[0] == resumed[1] != fresh[0]  # a resume at step 40 does not replay step 1's batch


def _cluster(ports, index):
    return {"cluster": {"worker": [f"localhost:{p}" for p in ports]},
            "task": {"type": "worker", "index": index}}


def test_workers_that_start_at_different_times_find_each_other():
    import threading

    ports = _free_ports(2)
    errors = []

    def worker(index, delay):
        time.sleep(delay)
        try:
            dist.wait_for_peers(_cluster(ports, index), timeout=20, poll=0.05)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(0, 0.0)), threading.Thread(target=worker, args=(1, 0.5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and not any(t.is_alive() for t in threads)
    # Both listeners are closed again: TensorFlow's server can take the ports.
    for p in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("", p))


def test_a_peer_that_never_answers_is_named_after_the_timeout():
    from siamese_lessons.errors import PeerUnreachableError

    ports = _free_ports(3)
    start = time.monotonic()
    silent = sorted(f"localhost:{p}" for p in ports[1:])
    named = rf"{silent[0]}, {silent[1]} did not answer within 1 s"
    with pytest.raises(PeerUnreachableError, match=named) as info:
        dist.wait_for_peers(_cluster(ports, 0), timeout=1.0, poll=0.05)
    assert 1.0 <= time.monotonic() - start < 10
    assert isinstance(info.value, OSError) and info.value.peers == silent
    with pytest.raises(ValueError, match="positive"):
        dist.wait_for_peers(_cluster(ports, 0), timeout=0)
    dist.wait_for_peers(_cluster(ports[:1], 0), timeout=0.01)  # alone: nothing to wait for


def test_a_busy_own_port_is_named():
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=rf"cannot listen on its TF_CONFIG address localhost:{port}"):
            dist.wait_for_peers(_cluster([port, *_free_ports(1)], 0), timeout=1)


def test_cli_stops_with_one_line_when_a_peer_does_not_answer(tmp_path, monkeypatch, capsys):
    from siamese_lessons.__main__ import main

    ports = _free_ports(2)
    monkeypatch.setenv("TF_CONFIG", json.dumps(_cluster(ports, 0)))
    listing = tmp_path / "clean.txt"
    listing.write_text("a/1.jpg 0\n")
    start = time.monotonic()
    code = main(["train", str(listing), "--out-dir", str(tmp_path / "run"), "--steps", "3",
                 "--strategy", "multiworker", "--peer-timeout", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - start < 60
    assert err.count("\n") == 1 and f"localhost:{ports[1]} did not answer within 1 s" in err, err
