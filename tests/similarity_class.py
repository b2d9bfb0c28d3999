"""A synthetic class for the similarity tests and benchmark (benchmarks/similarity.py): honest
MNIST notebooks written differently (each assembled from its own choices of how to load,
prepare, build, train, evaluate and plot), several written from the public Keras MNIST
convnet tutorial with the student's own changes, and planted copies of honest notebooks
disguised by renamed variables, reformatting, added and removed comments, split, merged and
reordered cells and changed numbers. Answer sheets: the hand-written answers of
tests/data/written_answers.yaml, one student per answer, and near-copies with a few words
changed. Nothing here is run: the notebooks only have to be read."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ANSWERS = Path(__file__).resolve().parent / "data" / "written_answers.yaml"

# The Keras example "Simple MNIST convnet" (keras.io/examples/vision/mnist_convnet), as cells.
TUTORIAL = [
    "import numpy as np\nimport keras\nfrom keras import layers",
    "# Model / data parameters\nnum_classes = 10\ninput_shape = (28, 28, 1)\n\n"
    "# Load the data and split it between train and test sets\n"
    "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n\n"
    "# Scale images to the [0, 1] range\n"
    'x_train = x_train.astype("float32") / 255\nx_test = x_test.astype("float32") / 255\n'
    "# Make sure images have shape (28, 28, 1)\n"
    "x_train = np.expand_dims(x_train, -1)\nx_test = np.expand_dims(x_test, -1)\n"
    'print("x_train shape:", x_train.shape)\nprint(x_train.shape[0], "train samples")\n'
    'print(x_test.shape[0], "test samples")\n\n'
    "# convert class vectors to binary class matrices\n"
    "y_train = keras.utils.to_categorical(y_train, num_classes)\n"
    "y_test = keras.utils.to_categorical(y_test, num_classes)",
    "model = keras.Sequential(\n    [\n        keras.Input(shape=input_shape),\n"
    '        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),\n'
    "        layers.MaxPooling2D(pool_size=(2, 2)),\n"
    '        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),\n'
    "        layers.MaxPooling2D(pool_size=(2, 2)),\n        layers.Flatten(),\n        layers.Dropout(0.5),\n"
    '        layers.Dense(num_classes, activation="softmax"),\n    ]\n)\n\nmodel.summary()',
    "batch_size = 128\nepochs = 15\n\n"
    'model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])\n\n'
    "model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1)",
    'score = model.evaluate(x_test, y_test, verbose=0)\nprint("Test loss:", score[0])\nprint("Test accuracy:", score[1])',
]

STARTER = [  # the course's starter notebook: every student's notebook begins with it
    "# MNIST: train a CNN\n# Run every cell in order; do not change the seed.\n"
    "import numpy as np\nimport tensorflow as tf\nfrom tensorflow import keras\n\nkeras.utils.set_random_seed(42)",
    "(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()\n"
    'print("train:", x_train.shape, "test:", x_test.shape)',
]


def _pick(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


def _call(rng: random.Random, name: str, args: list[str], required: dict[str, str], optional: dict[str, str]) -> str:
    """A call as one student writes it: some of the optional keywords, in an order of their own."""
    keywords = [*required.items(), *((k, v) for k, v in optional.items() if rng.random() < 0.5)]
    rng.shuffle(keywords)
    return f"{name}({', '.join([*args, *(f'{k}={v}' for k, v in keywords)])})"


def _check(rng: random.Random, names: list[str]) -> str:
    """A line of the student's own: a print or an assert of their own shape."""
    items = [
        rng.choice(
            (
                f"{rng.choice(names)}.shape",
                f"len({rng.choice(names)})",
                f"{rng.choice(names)}[0]",
                f"{rng.choice(names)}.dtype",
                f"'{rng.choice(('check', 'ok', 'sizes', 'here'))}'",
                f"{rng.choice(names)}.min(), {rng.choice(names)}.max()",
                f"type({rng.choice(names)})",
            )
        )
        for _ in range(rng.randint(1, 3))
    ]
    if rng.random() < 0.3:
        return f"assert {rng.choice(names)}.shape[0] {rng.choice(('>', '==', '>='))} {rng.randint(1, 9)}"
    return f"print({', '.join(items)})"


def _personal(rng: random.Random, cell: str, names: list[str]) -> str:
    """A cell with a few lines of the student's own added at its top level."""
    lines = cell.splitlines()
    for _ in range(rng.choice((0, 1, 1, 2))):
        top = [i for i, line in enumerate(lines) if line and not line[0].isspace() and not line.startswith((")", "]"))]
        lines.insert(rng.choice(top) if top else 0, _check(rng, names))
    return "\n".join(lines)


def _prepare(rng: random.Random) -> str:
    scale = _pick(
        rng,
        'x_train = x_train.astype("float32") / 255.0\nx_test = x_test.astype("float32") / 255.0',
        "x_train, x_test = x_train / 255.0, x_test / 255.0",
        "mean, std = x_train.mean(), x_train.std()\nx_train = (x_train - mean) / std\nx_test = (x_test - mean) / std",
        "def normalise(images):\n    images = images.astype(np.float32)\n    return images / images.max()\n\n"
        "x_train = normalise(x_train)\nx_test = normalise(x_test)",
        "x_train = tf.cast(x_train, tf.float32) / 255.\nx_test = tf.cast(x_test, tf.float32) / 255.",
    )
    shape = _pick(
        rng,
        "x_train = x_train.reshape(-1, 28, 28, 1)\nx_test = x_test.reshape(-1, 28, 28, 1)",
        "x_train = x_train[..., np.newaxis]\nx_test = x_test[..., np.newaxis]",
        "x_train = np.expand_dims(x_train, axis=-1)\nx_test = np.expand_dims(x_test, axis=-1)",
        "x_train, x_test = [x.reshape(x.shape[0], 28, 28, 1) for x in (x_train, x_test)]",
    )
    split = _pick(
        rng,
        "",
        "x_val, y_val = x_train[-6000:], y_train[-6000:]\nx_train, y_train = x_train[:-6000], y_train[:-6000]",
        "indices = np.random.permutation(len(x_train))\nvalid_idx, train_idx = indices[:5000], indices[5000:]\n"
        "x_val, y_val = x_train[valid_idx], y_train[valid_idx]\nx_train, y_train = x_train[train_idx], y_train[train_idx]",
    )
    return "\n".join(part for part in (scale, shape, split) if part)


def _explore(rng: random.Random) -> str:
    return _pick(
        rng,
        "import matplotlib.pyplot as plt\nfig, axes = plt.subplots(2, 5, figsize=(10, 4))\n"
        "for i, ax in enumerate(axes.flat):\n    ax.imshow(x_train[i], cmap='gray')\n"
        "    ax.set_title(f'label {y_train[i]}')\n    ax.axis('off')\nplt.show()",
        'counts = np.bincount(y_train)\nfor digit, count in enumerate(counts):\n    print(f"{digit}: {count} images")',
        "import matplotlib.pyplot as plt\nplt.figure(figsize=(6, 6))\nfor k in range(16):\n"
        "    plt.subplot(4, 4, k + 1)\n    plt.imshow(x_train[k].squeeze(), cmap=plt.cm.binary)\n"
        "    plt.xticks([])\n    plt.yticks([])\n    plt.xlabel(y_train[k])\nplt.tight_layout()",
        "labels, counts = np.unique(y_train, return_counts=True)\nprint(dict(zip(labels, counts)))\n"
        "print('pixel range:', x_train.min(), x_train.max())",
        "",
    )


def _conv(rng: random.Random, prefix: str, filters: int) -> str:
    return _call(
        rng,
        f"{prefix}Conv2D",
        [str(filters), rng.choice(("(3, 3)", "3", "5"))],
        {},
        {"activation": "'relu'", "padding": "'same'", "strides": "1", "kernel_initializer": "'he_normal'"},
    )


def _block(rng: random.Random, prefix: str, filters: int) -> list[str]:
    """One convolutional block as layer expressions."""
    layers = [_conv(rng, prefix, filters) for _ in range(rng.choice((1, 2)))]
    if rng.random() < 0.4:
        layers.append(_call(rng, f"{prefix}BatchNormalization", [], {}, {"momentum": "0.9"}))
    pooling = rng.choice(("MaxPooling2D", "MaxPool2D", "AveragePooling2D"))
    layers.append(_call(rng, f"{prefix}{pooling}", [], {}, {"pool_size": "(2, 2)", "strides": "2"}))
    if rng.random() < 0.5:
        layers.append(f"{prefix}Dropout({rng.choice((0.2, 0.25, 0.3))})")
    return layers


def _layers(rng: random.Random, prefix: str) -> list[str]:
    body = [layer for n in range(rng.choice((1, 2, 3))) for layer in _block(rng, prefix, 32 * 2**n)]
    body.append(_pick(rng, f"{prefix}Flatten()", f"{prefix}GlobalAveragePooling2D()"))
    body += [
        _call(rng, f"{prefix}Dense", [str(rng.choice((64, 128, 256)))], {"activation": "'relu'"}, {"use_bias": "True"})
        for _ in range(rng.choice((0, 1, 2)))
    ]
    return [*body, _call(rng, f"{prefix}Dense", ["10"], {"activation": "'softmax'"}, {"name": "'digits'"})]


def _model(rng: random.Random) -> tuple[str, str]:
    """(imports, model code): a Sequential list, add() calls, the functional API or a builder function."""
    style = rng.choice(("keras", "layers", "bare"))
    imports = {
        "keras": "",
        "layers": "from tensorflow.keras import layers, models",
        "bare": "from tensorflow.keras.models import Sequential, Model\nfrom tensorflow.keras.layers import "
        "Input, Conv2D, MaxPooling2D, MaxPool2D, AveragePooling2D, BatchNormalization, Dropout, Flatten, Dense",
    }[style]
    prefix = {"keras": "keras.layers.", "layers": "layers.", "bare": ""}[style]
    body = _layers(rng, prefix)
    sequential = {"keras": "keras.Sequential", "layers": "models.Sequential", "bare": "Sequential"}[style]
    input_layer = {"keras": "keras.Input", "layers": "layers.Input", "bare": "Input"}[style]
    form = rng.choice(("list", "add", "functional", "builder"))
    if form == "list":
        code = f"model = {sequential}([\n    {input_layer}(shape=(28, 28, 1)),\n" + "".join(
            f"    {layer},\n" for layer in body
        )
        code += "])"
    elif form == "add":
        code = f"model = {sequential}()\nmodel.add({input_layer}(shape=(28, 28, 1)))\n" + "".join(
            f"model.add({layer})\n" for layer in body
        )
    elif form == "functional":
        model_class = {"keras": "keras.Model", "layers": "models.Model", "bare": "Model"}[style]
        code = f"inputs = {input_layer}(shape=(28, 28, 1))\nx = inputs\n" + "".join(
            f"x = {layer}(x)\n" for layer in body
        )
        code = code.replace("x = " + body[-1] + "(x)", "outputs = " + body[-1] + "(x)")
        code += f"model = {model_class}(inputs, outputs)"
    else:
        code = (
            f"def build_model():\n    net = {sequential}()\n    net.add({input_layer}(shape=(28, 28, 1)))\n"
            + "".join(f"    net.add({layer})\n" for layer in body)
            + "    return net\n\nmodel = build_model()"
        )
    return imports, code + _pick(rng, "\nmodel.summary()", "\nprint(model.summary())", "")


def _train(rng: random.Random, validation: bool, loss: str = "sparse_categorical_crossentropy") -> str:
    optimizer = _pick(
        rng,
        "'adam'",
        "keras.optimizers.Adam(learning_rate=1e-3)",
        "tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)",
        "keras.optimizers.RMSprop()",
    )
    compile_call = _call(
        rng, "model.compile", [], {"optimizer": optimizer, "loss": f"'{loss}'"}, {"metrics": "['accuracy']"}
    )
    callbacks = _pick(
        rng,
        "",
        "stop = keras.callbacks.EarlyStopping(monitor='val_loss', patience=2, restore_best_weights=True)\n",
        "callbacks = [\n    keras.callbacks.EarlyStopping(patience=3),\n"
        "    keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1),\n]\n",
    )
    optional = {"batch_size": str(rng.choice((32, 64, 128))), "verbose": "2", "shuffle": "True"}
    if callbacks:
        optional["callbacks"] = "[stop]" if "stop =" in callbacks else "callbacks"
    data = {"validation_data": "(x_val, y_val)"} if validation else {"validation_split": "0.1"}
    fit = _call(rng, "model.fit", ["x_train", "y_train"], {"epochs": str(rng.randint(3, 12)), **data}, optional)
    return f"{compile_call}\n\n{callbacks}history = {fit}"


def _evaluate(rng: random.Random) -> str:
    return _pick(
        rng,
        "test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)\nprint(f'Test accuracy: {test_acc:.4f}')",
        "results = model.evaluate(x_test, y_test)\nprint('loss %.3f accuracy %.3f' % tuple(results))",
        "predictions = model.predict(x_test).argmax(axis=1)\naccuracy = (predictions == y_test).mean()\n"
        'print("accuracy on the test set:", accuracy)',
        "loss, acc = model.evaluate(x_test, y_test, batch_size=256)\n"
        "print('Test loss: {:.3f}, test accuracy: {:.2%}'.format(loss, acc))",
    )


def _afterwards(rng: random.Random, least: int = 0) -> list[str]:
    options = [
        "import matplotlib.pyplot as plt\nplt.plot(history.history['accuracy'], label='train')\n"
        "plt.plot(history.history['val_accuracy'], label='validation')\nplt.xlabel('epoch')\nplt.legend()\nplt.show()",
        "import pandas as pd\npd.DataFrame(history.history).plot(figsize=(8, 5), grid=True)",
        "from sklearn.metrics import confusion_matrix, ConfusionMatrixDisplay\n"
        "y_pred = np.argmax(model.predict(x_test), axis=1)\ncm = confusion_matrix(y_test, y_pred)\n"
        "ConfusionMatrixDisplay(cm).plot(cmap='Blues')",
        "matrix = np.zeros((10, 10), dtype=int)\npred = model.predict(x_test).argmax(-1)\n"
        "for t, p in zip(y_test, pred):\n    matrix[t, p] += 1\nprint(matrix)",
        "wrong = np.where(model.predict(x_test).argmax(1) != y_test)[0]\nprint(len(wrong), 'mistakes')\n"
        "for i in wrong[:8]:\n    print(i, y_test[i])",
        "for layer in model.layers:\n    print(layer.name, layer.output.shape, layer.count_params())",
        "model.save('mnist_cnn.keras')\nreloaded = keras.models.load_model('mnist_cnn.keras')\n"
        "print(reloaded.evaluate(x_test, y_test, verbose=0))",
    ]
    return rng.sample(options, rng.randint(least, 3))


NAMES = ["x_train", "y_train", "x_test", "y_test", "model"]


def honest_notebook(seed: int) -> list[str]:
    """One student's own notebook: the starter, then their choices, as code cells."""
    rng = random.Random(seed)
    imports, model = _model(rng)
    prepare = _prepare(rng)
    cells = [_explore(rng), model, _train(rng, "x_val" in prepare), _evaluate(rng), *_afterwards(rng)]
    own = [_personal(rng, cell, NAMES) for cell in (prepare, *cells) if cell]
    return [STARTER[0] + ("\n" + imports if imports else ""), STARTER[1], *own]


def tutorial_notebook(seed: int) -> list[str]:
    """The public tutorial with one student's own changes: other numbers, a layer added or
    removed, their own lines here and there, their own training, evaluation and plots."""
    rng = random.Random(seed)
    cells = [re.sub(r"\b32\b", str(rng.choice((16, 24, 48))), cell) for cell in TUTORIAL]
    lines = cells[2].splitlines()
    layer_lines = [i for i, line in enumerate(lines) if line.strip().startswith("layers.")]
    if rng.random() < 0.5:
        del lines[rng.choice(layer_lines)]
    else:
        lines.insert(rng.choice(layer_lines), "        " + _conv(rng, "layers.", 128) + ",")
    cells[2] = "\n".join(lines)
    cells[0:2] = [_personal(rng, cell, NAMES) for cell in cells[0:2]]
    cells[3] = _train(rng, False, "categorical_crossentropy") if rng.random() < 0.7 else cells[3]
    cells[4] = _personal(rng, cells[4], ["score", "model", "x_test"])
    return [*STARTER, *cells, *_afterwards(rng, least=1)]


# --- disguises -----------------------------------------------------------------------------

RENAMES = {
    "x_train": "train_imgs",
    "y_train": "train_lbls",
    "x_test": "test_imgs",
    "y_test": "test_lbls",
    "x_val": "val_imgs",
    "y_val": "val_lbls",
    "model": "net",
    "history": "log",
    "hist": "training_log",
    "inputs": "inp",
    "outputs": "out",
}


def renamed(cells: list[str]) -> list[str]:
    pattern = re.compile(r"(?<![.\w])(" + "|".join(RENAMES) + r")\b")
    return [pattern.sub(lambda m: RENAMES[m.group(1)], cell) for cell in cells]


def reformatted(cells: list[str]) -> list[str]:
    """Other quotes and spacing, calls broken over lines and joined again, blank lines added."""
    out = []
    for cell in cells:
        cell = cell.replace("'", '"').replace(", ", ",").replace(" = ", "=")
        cell = re.sub(r"\(\n\s+", "(", cell)
        cell = re.sub(r",\n\s+", ", ", cell)
        cell = re.sub(r"(\w)\(([^()\n]{30,})\)", lambda m: f"{m.group(1)}(\n    {m.group(2)}\n)", cell)
        out.append(cell.replace("\n", "\n\n", 2))
    return out


def recommented(cells: list[str]) -> list[str]:
    """The copy's comments dropped and others added."""
    out = []
    for index, cell in enumerate(cells):
        lines = [line for line in cell.splitlines() if not line.lstrip().startswith("#")]
        lines.insert(0, f"# step {index + 1}: my own work")
        out.append("\n".join(line + ("  # see above" if i == 2 else "") for i, line in enumerate(lines)))
    return out


def renumbered(cells: list[str]) -> list[str]:
    """Every number changed (0.5 to 0.6, 32 to 33, ...)."""
    return [re.sub(r"(?<![\w.])(\d+)(?![\w])", lambda m: str(int(m.group(1)) + 1), cell) for cell in cells]


def resplit(cells: list[str]) -> list[str]:
    """Long cells split in two at a blank line or halfway, short neighbours merged."""
    split = []
    for cell in cells:
        lines = cell.splitlines()
        if len(lines) >= 6:
            cut = len(lines) // 2
            while cut < len(lines) - 1 and lines[cut].startswith((" ", ")", "]")):
                cut += 1
            split += ["\n".join(lines[:cut]), "\n".join(lines[cut:])]
        else:
            split.append(cell)
    merged = []
    for cell in split:
        if merged and len(merged[-1].splitlines()) + len(cell.splitlines()) <= 4:
            merged[-1] += "\n" + cell
        else:
            merged.append(cell)
    return merged


def reordered(cells: list[str], seed: int) -> list[str]:
    """The cells after the model shuffled (plots before evaluation, and so on)."""
    head, tail = cells[:3], cells[3:]
    random.Random(seed).shuffle(tail)
    return head + tail


DISGUISES = {
    "renamed and reformatted": lambda cells, seed: reformatted(renamed(cells)),
    "comments changed and numbers changed": lambda cells, seed: renumbered(recommented(cells)),
    "cells split, merged and reordered": lambda cells, seed: reordered(resplit(cells), seed),
    "all of them": lambda cells, seed: (
        reordered(resplit(renumbered(recommented(reformatted(renamed(cells))))), seed) + ["print('done: my notebook')"]
    ),
}


# --- the class on disk ---------------------------------------------------------------------


def write_notebook(path: Path, cells: list[str]) -> None:
    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": cell}
            for cell in cells
        ]
        + [{"cell_type": "markdown", "metadata": {}, "source": "My MNIST notebook."}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


@dataclass(frozen=True)
class PlantedClass:
    folder: Path
    copies: dict[tuple[str, str], str]  # (source, copy) -> the disguise
    tutorial: tuple[str, ...]  # students who wrote from the public tutorial

    def is_copy(self, a: str, b: str) -> bool:
        return (a, b) in self.copies or (b, a) in self.copies


def notebook_class(folder: Path, honest: int = 20, tutorial: int = 5, seed: int = 0) -> PlantedClass:
    """``honest`` own notebooks and ``tutorial`` from the tutorial, each student a folder, and
    one copy per disguise (of an own notebook, and one of a tutorial student's too)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for number in range(honest):
        written[f"s{number:03d}"] = honest_notebook(seed * 10_000 + number)
    tutorial_students = tuple(f"t{number:03d}" for number in range(tutorial))
    for number, student in enumerate(tutorial_students):
        written[student] = tutorial_notebook(seed * 10_000 + 5_000 + number)
    copies = {}
    sources = [f"s{n:03d}" for n in range(1, honest, max(1, honest // 4))][: len(DISGUISES)]
    if tutorial_students:
        sources[-1] = tutorial_students[0]
    for number, ((name, disguise), source) in enumerate(zip(DISGUISES.items(), sources)):
        copy = f"c{number:03d}"
        written[copy] = disguise(written[source], seed + number)
        copies[(source, copy)] = name
    for student, cells in written.items():
        (folder / student).mkdir(exist_ok=True)
        write_notebook(folder / student / "mnist.ipynb", cells)
    return PlantedClass(folder, copies, tutorial_students)


def write_starter(path: Path) -> Path:
    write_notebook(path, STARTER)
    return path


# --- written answers -----------------------------------------------------------------------

NEAR_COPIES = {  # (student whose answer is copied, question) -> the words changed (None: three, and one added)
    ("w0", "cnn-exercises/q1"): [
        ("Conv layers", "Convolutional layers"),
        ("far fewer", "a lot fewer"),
        ("picture", "image"),
    ],
    ("w3", "conv-arithmetic/q13"): None,
    ("w5", "conv-arithmetic/q9b"): None,
    ("w2", "cnn-exercises/q7"): [("is", "would be"), ("the", "a")],
}


def _changed(text: str, changes: list[tuple[str, str]] | None) -> str:
    if changes:
        for old, new in changes:
            text = text.replace(old, new, 1)
        return text
    words = text.split()
    for index in (3, len(words) // 2, len(words) - 2):  # three words changed, one inserted
        words[index] = {"the": "a", "a": "the"}.get(words[index], words[index] + "s")
    words.insert(len(words) // 3, "basically")
    return " ".join(words)


@dataclass(frozen=True)
class PlantedSheets:
    folder: Path
    copies: dict[tuple[str, str], str]  # (source, copy) -> the question copied

    def is_copy(self, a: str, b: str) -> bool:
        return (a, b) in self.copies or (b, a) in self.copies


def sheet_class(folder: Path) -> PlantedSheets:
    """One honest student per hand-written answer (w0 answers each question with its first
    answer, w1 with its second, ...), and a near-copy of one answer of w0, w1 and w2 each, the
    copier's only answer."""
    labelled = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))
    most = max(len(answers) for answers in labelled.values())
    sheets: dict[str, dict[str, str]] = {f"w{n}": {} for n in range(most)}
    for qid, answers in labelled.items():
        for number, answer in enumerate(answers):
            sheets[f"w{number}"][qid] = answer["text"].strip()
    copies = {}
    for number, ((source, qid), changes) in enumerate(NEAR_COPIES.items()):
        copier = f"k{number}"
        sheets[copier] = {qid: _changed(sheets[source][qid], changes)}
        copies[(source, copier)] = qid
    folder.mkdir(parents=True, exist_ok=True)
    for student, answers in sheets.items():
        (folder / f"{student}.yaml").write_text(yaml.safe_dump(answers, allow_unicode=True, width=100), "utf-8")
    return PlantedSheets(folder, copies)
