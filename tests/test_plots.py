import matplotlib.pyplot as plt
import numpy as np
import pytest

from siamese_lessons import plots
from siamese_lessons.data import OneShotTrials, PairSet


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _pairs():
    return PairSet(images=np.zeros((3, 4, 4), np.uint8), pairs=[[0, 1], [0, 2]], labels=[1, 0],
                   identities=["Ann_A", "Ann_A", "Bob_B"], paths=["1", "2", "3"])


def test_show_pairs_captions_names_labels_and_scores():
    fig = plots.show_pairs(_pairs(), [0, 1], scores=[0.9, 0.2], title="Two pairs")
    assert fig._suptitle.get_text() == "Two pairs"
    captions = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert captions == ["same: Ann A\nscore 0.90", "different:\nAnn A / Bob B\nscore 0.20"]
    with pytest.raises(ValueError, match="2 scores for 1 pairs"):
        plots.show_pairs(_pairs(), [0], scores=[1, 2], title="x")


def test_show_images_and_trial():
    fig = plots.show_images(np.zeros((5, 3, 3), np.uint8), list("abcde"), title="Grid", ncols=2)
    assert fig._suptitle.get_text() == "Grid" and len(fig.axes) == 6
    trials = OneShotTrials(images=np.zeros((4, 3, 3), np.uint8), queries=[0],
                           candidates=[[1, 2, 3]], answers=[1], runs=[0])
    fig = plots.show_one_shot_trial(trials, 0, scores=[0.1, 0.8, 0.3], title="Trial")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["query", "1: 0.10", "2: 0.80 <", "3: 0.30"]
    assert fig.axes[2].spines["left"].get_linewidth() == 3  # the answer is framed
    with pytest.raises(IndexError):
        plots.show_one_shot_trial(trials, 1, title="x")


def test_charts_have_titles_and_labelled_axes():
    fig = plots.plot_label_balance({"train": _pairs()}, title="Balance")
    ax = fig.axes[0]
    assert ax.get_title() == "Balance" and ax.get_xlabel() and ax.get_ylabel()
    assert [int(p.get_height()) for p in ax.patches] == [1, 1]
    fig = plots.plot_pixel_histogram({"a": np.array([0, 0, 255], np.uint8)}, title="Pixels", bins=2)
    ax = fig.axes[0]
    assert ax.get_title() == "Pixels" and ax.get_xlabel() and ax.get_ylabel()


def test_distance_histograms_and_embedding_map():
    fig = plots.plot_distance_histograms({"before": (np.array([0.1, 0.9, 0.2, 0.8]), np.array([1, 0, 1, 0]))},
                                         title="Distances")
    ax = fig.axes[0]
    assert fig._suptitle.get_text() == "Distances" and ax.get_xlabel() and ax.get_ylabel()
    assert sum(p.get_height() for p in ax.patches) == 4  # every pair counted once
    fig = plots.plot_embedding_map(np.zeros((4, 2)), np.array([0, 0, 1, 1]), ["Ann_A", "Bob_B"], title="Map",
                                   xlabel="PC 1", ylabel="PC 2")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["Ann A", "Bob B"]
