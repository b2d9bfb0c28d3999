"""Architecture checks read from saved models: inception and residual blocks, nested bases."""

from __future__ import annotations

import os

import pytest

from grader.notebooks.architecture import read_architecture

pytestmark = pytest.mark.tensorflow


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def saved(keras, model, tmp_path, name):
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return read_architecture(path)


def test_inception_block_is_found_and_a_plain_cnn_has_none(keras, tmp_path):
    layers = keras.layers
    inp = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same")(inp)
    branches = [
        layers.Conv2D(4, 1, padding="same")(x),
        layers.Conv2D(4, 3, padding="same")(x),
        layers.Conv2D(4, 5, padding="same")(x),
        layers.MaxPooling2D(3, 1, padding="same")(x),
    ]
    y = layers.Concatenate()(branches)
    out = layers.Dense(5)(layers.GlobalAveragePooling2D()(y))
    arch = saved(keras, keras.Model(inp, out), tmp_path, "inception")
    assert arch.inception_blocks() and not arch.residual_blocks()
    plain = keras.Sequential(
        [keras.Input((28, 28, 1)), layers.Conv2D(8, 3), layers.MaxPooling2D(), layers.Flatten(), layers.Dense(5)]
    )
    arch = saved(keras, plain, tmp_path, "plain")
    assert not arch.inception_blocks() and not arch.residual_blocks() and not arch.has("BatchNormalization")


def test_concatenating_two_inputs_without_convolutions_is_not_an_inception_block(keras, tmp_path):
    layers = keras.layers
    a, b = keras.Input((4,)), keras.Input((4,))
    out = layers.Dense(2)(layers.Concatenate()([a, b]))
    assert not saved(keras, keras.Model([a, b], out), tmp_path, "concat").inception_blocks()


def test_residual_block_is_found(keras, tmp_path):
    layers = keras.layers
    inp = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same")(inp)
    y = layers.Conv2D(8, 3, padding="same")(x)
    y = layers.BatchNormalization()(y)
    y = layers.Add()([x, y])
    out = layers.Dense(5)(layers.GlobalAveragePooling2D()(y))
    arch = saved(keras, keras.Model(inp, out), tmp_path, "residual")
    assert arch.residual_blocks() == ["add"] and arch.has("BatchNormalization")


def test_a_nested_frozen_base_is_seen(keras, tmp_path):
    layers = keras.layers
    base = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, name="base_conv")], name="digit_base")
    base.trainable = False
    model = keras.Sequential([keras.Input((28, 28, 1)), base, layers.Flatten(), layers.Dense(5)])
    arch = saved(keras, model, tmp_path, "nested")
    assert arch.nested_models == [{"name": "digit_base", "trainable": False}]
    assert arch.layers["base_conv"].inside == "digit_base"
