"""Code that runs *inside* the student's kernel, before and after the notebook's cells.

Its source is sent to the kernel as a hidden cell (never added to the notebook). It
serves ``keras.datasets.mnist.load_data()`` from the grader's file, and records what the
notebook really did: each ``fit`` (epochs, time, data shapes, parameters, optimizer steps)
and the inputs given to ``evaluate``/``predict`` (their shape and value range, so the
grader can apply the student's own preprocessing to its held-out images). Arrays are read
directly; a ``tf.data`` pipeline or a Keras ``PyDataset`` is read once more after the
call, batch by batch, so that pipelines are checked like arrays. At the end it saves the
chosen model to a file.

Each record is sent as it happens, one JSON line on a pipe whose other end only the grader
holds (``CONFIG["record_fd"]``): what was sent cannot be changed afterwards, whatever the
notebook does to this module, its lists or its files. Long hash lists are sent once and
then referred to by their digest. The grader still checks the record against the saved
model (parameters, layers, optimizer steps) and credits nothing from a record that
contradicts it.

This module must only use the standard library and what the notebook itself imports.
"""

import json
import math
import threading
import time
import weakref

CONFIG = {}
FITS = []  # what was sent, kept for reading in the kernel itself; the grader reads the pipe only
INPUTS = []
MODELS = []  # every model that was trained, in order (strong references)
LOADED = []  # models and weights loaded from files: candidates for a pretrained base
IN_FIT = []  # non-empty while a fit call runs
# What all training so far used, against the assignment's budget (examples and multiply-adds,
# the same on every machine; seconds only for the safety time limit). "stopped" says why training
# is refused from now on.
TRAINING = {"seconds": 0.0, "examples": 0, "multiply_adds": 0.0, "stopped": None}
OTHER_TRAINING = {}  # id(model) -> training outside fit (train_on_batch, custom steps), sent at the end
LAST_TRAINING_CALL = {}  # the model last called eagerly with training=True, and its batch size
IN_TRAINING_CALL = []  # non-empty while fit or train_on_batch runs (their optimizer steps are counted there)
DEFAULT_BATCH = 32  # examples per step when a step's batch size cannot be read (Keras's default batch size)
HASH_KEYS = ("train_hashes", "validation_hashes", "image_prints", "hashes")
SENT_HASHES = set()  # digests of hash lists already sent
OPTIMIZERS = weakref.WeakKeyDictionary()  # optimizer -> serial number (ids of freed objects are reused)
_SEND_LOCK = threading.Lock()


def _send(kind, doc):
    """Write one record to the grader's pipe (nothing when there is none, as in tests)."""
    import hashlib
    import os

    fd = CONFIG.get("record_fd")
    if fd is None:
        return
    lines = []
    doc = dict(doc)
    for key in HASH_KEYS:
        values = doc.get(key)
        if isinstance(values, list) and len(values) > 64:
            digest = hashlib.sha1("\n".join(map(str, values)).encode()).hexdigest()
            if digest not in SENT_HASHES:
                lines.append({"record": "hashes", "id": digest, "values": values})
                SENT_HASHES.add(digest)
            doc[key] = {"same_as": digest}
    lines.append({"record": kind, **doc})
    data = "".join(json.dumps(line, default=str) + "\n" for line in lines).encode()
    with _SEND_LOCK:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError:  # the grader stopped reading: nothing more can be recorded
            CONFIG["record_fd"] = None


def _record(kind, doc, kept=None):
    """Send a record, and keep it in ``kept`` for code in the kernel that reads it."""
    if kept is not None:
        kept.append(doc)
    _send(kind, doc)


def _optimizer_serial(model):
    """A number for the model's optimizer object, the same for as long as it lives."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        if optimizer not in OPTIMIZERS:
            OPTIMIZERS[optimizer] = CONFIG.setdefault("_optimizers", 0) + 1
            CONFIG["_optimizers"] += 1
        return OPTIMIZERS[optimizer]
    except TypeError:  # not weakly referable
        return None


def _iterations(model):
    """How many training steps the model's optimizer has taken (saved with the model)."""
    try:
        steps = model.optimizer.iterations
        return int(steps.numpy() if hasattr(steps, "numpy") else steps)
    except Exception:
        return None


SAMPLE_LIMIT = 200_000  # more samples than this are not hashed
SCANNED = {}  # id(pipeline) -> (pipeline, what was seen), so each pipeline is read once


def _summary(x):
    """Shape, range and the first sample of an array-like, JSON-ready; None if not an array."""
    try:
        import numpy as np

        if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
            x = x[0]
        arr = np.asarray(x)
        if arr.dtype == object or arr.ndim == 0 or arr.size == 0:
            return None
        first = arr[0].astype("float64").ravel()
        return {
            "shape": list(arr.shape),
            "dtype": str(arr.dtype),
            "min": float(arr.min()),
            "max": float(arr.max()),
            "first": [round(float(v), 7) for v in first[:4096]],
        }
    except Exception:  # a generator or something else that is not an array
        return None


def _hashes_of(arr):
    """Short content hashes of each sample of an array (float32 bytes, whatever the dtype)."""
    import hashlib

    import numpy as np

    arr = np.ascontiguousarray(np.asarray(arr, dtype="float32"))
    return [hashlib.sha1(sample.tobytes()).hexdigest()[:12] for sample in arr]


PRINT_GRID = 20  # cells per side of the resampled digit
PRINT_BITS = 256  # bits per image print


PLANES = []  # the projections, made once


def _print_planes():
    """The fixed +-1 projections of an image print, drawn from SHA-256 so that they are the
    same in the kernel and in the grader whatever NumPy's version."""
    import hashlib

    import numpy as np

    if PLANES:
        return PLANES[0]
    cells = PRINT_GRID * PRINT_GRID
    raw = b"".join(hashlib.sha256(b"image-print-%d" % i).digest() for i in range(cells * PRINT_BITS // 256 + 1))
    bits = np.unpackbits(np.frombuffer(raw, np.uint8))[: cells * PRINT_BITS]
    PLANES.append(bits.reshape(cells, PRINT_BITS).astype("float32") * 2 - 1)
    return PLANES[0]


def _grey_images(arr):
    """(n, height, width) grey images from what a notebook trains on: a channel axis (first
    or last, one to four channels) is averaged, flat rows of a square image are reshaped;
    None for anything that is not a batch of images."""
    import numpy as np

    arr = np.asarray(arr, dtype="float32")
    if arr.ndim == 4 and arr.shape[-1] in (1, 3, 4):
        arr = arr[..., :3].mean(axis=-1)
    elif arr.ndim == 4 and arr.shape[1] in (1, 3):
        arr = arr.mean(axis=1)
    elif arr.ndim == 2:
        side = int(round(arr.shape[1] ** 0.5))
        arr = arr.reshape(len(arr), side, side) if side * side == arr.shape[1] and side > 1 else arr
    return arr if arr.ndim == 3 and arr.shape[1] > 1 and arr.shape[2] > 1 else None


def _digit_boxes(norm):
    """Each image's square box around its bright pixels: centre row, centre column, side."""
    import numpy as np

    _, height, width = norm.shape
    mask = norm > 0.3
    rows, cols = mask.any(axis=2), mask.any(axis=1)
    top, bottom = rows.argmax(axis=1), height - 1 - rows[:, ::-1].argmax(axis=1)
    left, right = cols.argmax(axis=1), width - 1 - cols[:, ::-1].argmax(axis=1)
    side = np.maximum(bottom - top, right - left).astype("float32") + 1
    return (top + bottom) / 2.0, (left + right) / 2.0, side


def _resampled(norm):
    """Each image's box resampled to PRINT_GRID x PRINT_GRID cells (bilinear), so that a shift,
    a border or a zoom gives the same cells."""
    import numpy as np

    n, height, width = norm.shape
    centre_y, centre_x, side = _digit_boxes(norm)
    offsets = (np.arange(PRINT_GRID, dtype="float32") + 0.5) / PRINT_GRID - 0.5
    ys = centre_y[:, None] + offsets[None, :] * side[:, None]
    xs = centre_x[:, None] + offsets[None, :] * side[:, None]
    y0, x0 = np.floor(ys).astype("int64"), np.floor(xs).astype("int64")
    fy, fx = (ys - y0)[:, :, None], (xs - x0)[:, None, :]
    padded = np.pad(norm, ((0, 0), (1, 1), (1, 1)))  # outside the image is background
    which = np.arange(n)[:, None, None]

    def at(y, x):
        y, x = np.clip(y + 1, 0, height + 1), np.clip(x + 1, 0, width + 1)
        return padded[which, y[:, :, None], x[:, None, :]]

    return (
        at(y0, x0) * (1 - fy) * (1 - fx)
        + at(y0, x0 + 1) * (1 - fy) * fx
        + at(y0 + 1, x0) * fy * (1 - fx)
        + at(y0 + 1, x0 + 1) * fy * fx
    )


def image_prints(arr, chunk=8192):
    """A 256-bit print of each image (64 hex digits) that stays within a few bits whatever a
    notebook did to a digit: any scaling or standardising of the pixels, a channel axis, noise
    of a few thousandths, a shift of a pixel or two, a border or a zoom. Each image is scaled
    to 0..1, cut to the square box around its strokes, resampled to a fixed grid and projected
    on fixed random directions (SimHash). The grader computes the same for its held-out digits
    and counts those with a print within a few bits of one the notebook trained on. None for
    anything that is not a batch of images."""
    import numpy as np

    grey = _grey_images(arr)
    if grey is None:
        return None
    planes, out = _print_planes(), []
    for start in range(0, len(grey), chunk):
        part = grey[start : start + chunk]
        flat = part.reshape(len(part), -1)
        low, high = flat.min(axis=1), flat.max(axis=1)
        norm = (part - low[:, None, None]) / np.where(high > low, high - low, 1)[:, None, None]
        cells = _resampled(norm).reshape(len(part), -1)
        bits = ((cells - cells.mean(axis=1, keepdims=True)) @ planes) > 0
        out.extend(row.tobytes().hex() for row in np.packbits(bits, axis=1))
    return out


def _sample_hashes(x, limit=SAMPLE_LIMIT):
    """Short content hashes of each sample (after the student's preprocessing), so that the
    grader can tell whether training, validation and test sets share images."""
    try:
        import numpy as np

        arr = np.asarray(x, dtype="float32")
        if arr.ndim < 2 or len(arr) > limit:
            return None
        return _hashes_of(arr)
    except Exception:
        return None


def _label_counts(y):
    """Images per class, from integer labels or one-hot rows."""
    try:
        import numpy as np

        arr = np.asarray(y)
        if arr.ndim == 2 and arr.shape[1] > 1:
            arr = arr.argmax(axis=1)
        if arr.ndim != 1 or arr.dtype.kind not in "iuf":
            return None
        values, counts = np.unique(arr.astype("int64"), return_counts=True)
        return {str(int(v)): int(c) for v, c in zip(values, counts)}
    except Exception:
        return None


def _pipeline_batches(data):
    """The (images, labels) batches of a tf.data pipeline or a Keras PyDataset as NumPy
    arrays (labels None when there are none); None for anything else, or a pipeline that
    repeats forever."""
    import sys

    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(data, tf.data.Dataset):
        if int(data.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
            return None
        batches = data.as_numpy_iterator()
    else:
        keras = sys.modules.get("keras")
        py_dataset = getattr(getattr(keras, "utils", None), "PyDataset", None)
        if py_dataset is None or not isinstance(data, py_dataset):
            return None
        batches = (data[i] for i in range(len(data)))
    return (
        (batch[0], batch[1] if len(batch) > 1 else None) if isinstance(batch, tuple) else (batch, None)
        for batch in batches
    )


def _scan_pipeline(data):
    """Read a pipeline once, batch by batch: the same summary, hashes and label counts as
    an array would give, without holding all its images in memory."""
    key = id(data)
    if key in SCANNED and SCANNED[key][0] is data:
        return SCANNED[key][1]
    seen = None
    try:
        batches = _pipeline_batches(data)
        if batches is not None:
            seen = {"samples": 0, "input": None, "hashes": [], "image_prints": [], "label_counts": {}}
            for images, labels in batches:
                images = images[0] if isinstance(images, (list, tuple)) else images
                summary = _summary(images)
                if summary is None:
                    seen = None
                    break
                if seen["input"] is None:
                    seen["input"] = summary
                else:
                    seen["input"]["min"] = min(seen["input"]["min"], summary["min"])
                    seen["input"]["max"] = max(seen["input"]["max"], summary["max"])
                seen["samples"] += len(images)
                if seen["samples"] > SAMPLE_LIMIT:
                    seen["hashes"] = seen["image_prints"] = None
                elif seen["hashes"] is not None:
                    seen["hashes"].extend(_hashes_of(images))
                    seen["image_prints"].extend(_prints_or_none(images) or [])
                counts = _label_counts(labels) if labels is not None else None
                if counts is None:
                    seen["label_counts"] = None
                elif seen["label_counts"] is not None:
                    for label, n in counts.items():
                        seen["label_counts"][label] = seen["label_counts"].get(label, 0) + n
            if seen is not None and seen["input"] is not None:
                seen["input"]["shape"][0] = seen["samples"]
            else:
                seen = None
    except Exception:
        seen = None
    SCANNED[key] = (data, seen)
    return seen


def _observe(x, y=None):
    """What fit, evaluate or predict received: summary, hashes, label counts and size."""
    seen = _scan_pipeline(x)
    if seen is not None:
        return dict(seen)
    hashes = _sample_hashes(x)
    return {
        "samples": _data_size(x),
        "input": _summary(x),
        "hashes": hashes,
        "image_prints": _prints_or_none(x) if hashes is not None else None,
        "label_counts": _label_counts(y) if y is not None else None,
    }


def _prints_or_none(x):
    try:
        import numpy as np

        arr = np.asarray(x)
        return image_prints(arr) if arr.dtype.kind in "fiub" else None
    except Exception:
        return None


def _history(history):
    """Per-epoch metrics Keras reported (loss, accuracy, val_...), for training curves."""
    out = {}
    for name, values in (getattr(history, "history", None) or {}).items():
        try:
            out[str(name)] = [round(float(v), 6) for v in list(values)[:10_000]]
        except (TypeError, ValueError):
            continue
    return out


def _frozen_params(model):
    """Learnable weights that are frozen: a BatchNormalization layer's moving statistics are
    never learnable, so they do not count; a layer set ``trainable = False`` does."""
    statistics = ("moving_mean", "moving_variance")
    return sum(
        int(w.numpy().size)
        for w in model.non_trainable_weights
        if not str(getattr(w, "path", w.name)).endswith(statistics)
    )


def _data_size(x):
    try:
        return int(len(x))
    except Exception:
        return None


def _quick_slice(args, kwargs):
    """--quick: one short epoch on the first samples (or batches of a pipeline), to find
    errors fast."""
    import sys

    limit = CONFIG.get("quick_samples", 256)
    tf = sys.modules.get("tensorflow")

    def first(value):
        if hasattr(value, "__getitem__") and hasattr(value, "shape"):
            return value[:limit]
        if tf is not None and isinstance(value, tf.data.Dataset):
            return value.take(max(1, limit // 32))
        return value

    args = [first(v) if i < 2 else v for i, v in enumerate(args)]
    for key in ("x", "y"):
        if key in kwargs:
            kwargs[key] = first(kwargs[key])
    vd = kwargs.get("validation_data")
    if vd is not None:
        kwargs["validation_data"] = tuple(first(v) for v in vd) if isinstance(vd, (tuple, list)) else first(vd)
    kwargs["epochs"] = 1
    return args, kwargs


def _exhausted(seconds_now=0.0):
    """Why training must stop now ("examples", "compute" or "time_limit"), or None. Once
    reached, the budget stays used for every later training call."""
    if TRAINING["stopped"] is None:
        examples, adds, limit = (CONFIG.get(k) for k in ("budget_examples", "budget_multiply_adds", "time_limit"))
        if examples and TRAINING["examples"] >= examples:
            TRAINING["stopped"] = "examples"
        elif adds and TRAINING["multiply_adds"] >= adds:
            TRAINING["stopped"] = "compute"
        elif limit and TRAINING["seconds"] + seconds_now >= limit:
            TRAINING["stopped"] = "time_limit"
    return TRAINING["stopped"]


def _spend(examples, per_example):
    TRAINING["examples"] += examples
    TRAINING["multiply_adds"] += examples * per_example


def _leaf_layers(layer):
    inner = getattr(layer, "layers", None)
    if isinstance(inner, list) and inner:
        for child in inner:
            yield from _leaf_layers(child)
    else:
        yield layer


MULTIPLY_ADDS = {}  # id(model) -> (number of weights, multiply-adds), computed once per model as built


def multiply_adds(model):
    """The model's multiply-adds per example in a forward pass, from its layers: each kernel
    (dense, convolution, depthwise, pointwise) times the positions it is applied at (the
    layer's output grid). An approximation that is the same on every machine; a layer whose
    output grid cannot be read counts its kernel once."""
    weights = len(model.weights)
    if MULTIPLY_ADDS.get(id(model), (None,))[0] == weights:
        return MULTIPLY_ADDS[id(model)][1]
    total = 0
    for layer in _leaf_layers(model):
        positions = 1
        try:
            for size in list(layer.output.shape)[1:-1]:
                positions *= int(size or 1)
        except Exception:
            positions = 1
        for weight in layer.weights:
            if str(getattr(weight, "path", weight.name)).rsplit("/", 1)[-1].endswith("kernel"):
                total += math.prod(int(d) for d in weight.shape) * positions
    MULTIPLY_ADDS[id(model)] = (weights, total)
    return total


def _leaf(value):
    """The first array of a nested input (a list or dict of inputs, or (x, y) from a pipeline)."""
    while isinstance(value, (list, tuple, dict)) and value:
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
    return value


def _length(value):
    try:
        return int(_leaf(value).shape[0])
    except Exception:
        return None


def _peek_batch(data):
    """Examples per batch of a pipeline: its static batch size, else its first batch's."""
    import sys

    tf = sys.modules.get("tensorflow")
    try:
        if tf is not None and isinstance(data, tf.data.Dataset):
            size = _leaf(data.element_spec).shape[0]
            if size is None:
                size = next(iter(data.take(1).as_numpy_iterator()), None)
                size = _length(size)
            return int(size) if size else None
        if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not hasattr(data, "shape"):
            return _length(data[0])  # a Keras PyDataset: data[0] is the first batch
    except Exception:
        return None
    return None


def _batch_examples(x, args, kwargs, split):
    """A function giving the examples in batch k of an epoch (k from 0): exact for arrays (the
    last batch of an epoch is smaller), a pipeline's batch size otherwise, and Keras's default
    batch size when nothing can be read (a Python generator), so the count is the same on
    every machine."""
    n = _length(x) if hasattr(_leaf(x), "shape") and not hasattr(x, "element_spec") else None
    if n is not None:
        if split:
            n = int(math.floor(n * (1.0 - split)))
        size = kwargs.get("batch_size") or (args[2] if len(args) > 2 and args[2] else None) or DEFAULT_BATCH
        per_epoch = max(1, -(-n // size))
        return lambda k: max(1, min(size, n - (k % per_epoch) * size))
    size = _peek_batch(x) or DEFAULT_BATCH
    return lambda k: size


def _budget_callback(keras, fit_record, batch_examples):
    """A callback that counts the examples each batch trains on and ends training gracefully
    when the assignment's budget is used: at the end of the batch where the examples or the
    compute budget is reached (the same batch on every machine), at the end of an epoch once
    this call ran ``budget_epochs``, or at the safety time limit. The notebook goes on and its
    model is measured as it is, instead of a cell timing out with nothing to grade."""
    epochs = CONFIG.get("budget_epochs")

    class TrainingBudget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.monotonic()
            self.steps = (self.params or {}).get("steps") or None
            self.epoch, self.batches = 0, 0
            self.per_example = multiply_adds(self.model)
            fit_record["multiply_adds_per_example"] = self.per_example
            fit_record["examples"] = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch, self.batches = epoch, 0

        def _stop(self, why):
            fit_record["stopped_by_budget"] = why
            fit_record["epochs_done"] = round(self.epoch + (self.batches / self.steps if self.steps else 1.0), 2)
            self.model.stop_training = True

        def on_train_batch_end(self, batch, logs=None):
            examples = batch_examples(self.batches)
            self.batches += 1
            fit_record["examples"] += examples
            _spend(examples, self.per_example)
            if CONFIG.get("quick"):
                return
            why = _exhausted(time.monotonic() - self.start)
            if why:
                self._stop(why)

        def on_epoch_end(self, epoch, logs=None):
            requested = (self.params or {}).get("epochs") or 0
            if epochs and epochs <= epoch + 1 < requested and not fit_record.get("stopped_by_budget"):
                self.batches = self.steps or 0
                self._stop("epochs")

    return TrainingBudget()


def _with_budget(keras, args, kwargs, fit_record, split):
    """The fit arguments with the budget callback added to the student's own callbacks."""
    callback = _budget_callback(
        keras, fit_record, _batch_examples(args[0] if args else kwargs.get("x"), args, kwargs, split)
    )
    args = list(args)
    if len(args) > 5:  # fit(x, y, batch_size, epochs, verbose, callbacks, ...)
        args[5] = list(args[5] or []) + [callback]
    else:
        kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [callback]
    return args, kwargs


def _fit_deterministically(original_fit, model, args, kwargs):
    """fit, and once more without TensorFlow's op determinism if an op the notebook uses has
    no deterministic kernel: the notebook runs on (a message says so), it never crashes for it."""
    try:
        return original_fit(model, *args, **kwargs)
    except Exception as exc:
        if not CONFIG.get("op_determinism") or "determinis" not in str(exc).lower():
            raise
        from tensorflow.python.framework import config as tf_config

        tf_config.disable_op_determinism()
        CONFIG["op_determinism"] = False
        _send("determinism", {"off": str(exc).split("\n", 1)[0][:300]})
        return original_fit(model, *args, **kwargs)


def _other_training(model, how):
    """The running total of a model's training outside fit, sent at the end of the notebook."""
    entry = OTHER_TRAINING.setdefault(
        id(model),
        {"model": id(model), "how": how, "steps": 0, "examples": 0, "skipped_steps": 0, "seconds": 0.0},
    )
    if not any(m is model for m in MODELS):
        MODELS.append(model)
    return entry


PRINTS_OUTSIDE_FIT = {}  # id(model) -> image prints of the images its training outside fit used


def _keep_image_prints(model, images):
    """Remember the image prints of a batch trained on outside fit, so that training on the
    grader's held-out digits is caught there too (sent with the model's other training)."""
    seen = PRINTS_OUTSIDE_FIT.setdefault(id(model), set())
    if images is None or len(seen) > SAMPLE_LIMIT:
        return
    seen.update(_prints_or_none(_leaf(images)) or ())


def _train_outside_fit(model, how, examples, step, images=None):
    """One training step outside fit (``train_on_batch``, an eager custom step): counted
    against the budget like a batch of fit; once the budget is used it is skipped, so the
    notebook's loop runs on without training. Returns (trained, step's result)."""
    if not _count_step(model, how, examples):
        return False, None
    start = time.monotonic()
    result = step()
    seconds = time.monotonic() - start
    TRAINING["seconds"] += seconds
    _other_training(model, how)["seconds"] += seconds
    _keep_image_prints(model, images)
    return True, result


def _count_step(model, how, examples):
    """Count one training step outside fit against the budget; False (and the step is to be
    skipped) once the budget is used."""
    entry = _other_training(model, how)
    if not CONFIG.get("quick") and _exhausted():
        entry["skipped_steps"] += 1
        entry["stopped_by_budget"] = TRAINING["stopped"]
        return False
    entry["steps"] += 1
    entry["examples"] += examples
    _spend(examples, multiply_adds(model))
    return True


def _gated_apply(tf, original_apply, optimizer, args, kwargs, model, examples):
    """An optimizer step traced inside the notebook's own ``tf.function``: a Python gate,
    called at every step, counts it against the budget, and the step is applied only while
    the budget lasts (``tf.cond``), so a compiled custom loop is bounded too."""
    grads = list(kwargs.pop("grads", args[0] if args else []))
    variables = kwargs.pop("trainable_variables", args[1] if len(args) > 1 else None)
    variables = list(variables) if variables is not None else None
    if not optimizer.built:
        optimizer.build(variables)
    go = tf.py_function(lambda: _count_step(model, "custom_loop", examples), [], tf.bool)
    go.set_shape([])

    def step():
        original_apply(optimizer, grads, variables, **kwargs)
        return tf.constant(True)

    return tf.cond(go, step, lambda: tf.constant(False))


def _eager():
    import sys

    tf = sys.modules.get("tensorflow")
    return tf is None or tf.executing_eagerly()


def _install_training_hooks(keras):
    """Count training outside fit: ``train_on_batch`` and optimizer steps that a notebook's own
    loop applies (``optimizer.apply_gradients`` after a ``tf.GradientTape``), eager or inside
    its own ``tf.function``. A step's examples are the batch the model was last called on with
    ``training=True`` (Keras's default batch size when unknown)."""
    original_train_on_batch = keras.Model.train_on_batch
    original_apply = keras.optimizers.Optimizer.apply
    original_call = keras.Model.__call__

    def train_on_batch(self, x, y=None, *args, **kwargs):
        IN_TRAINING_CALL.append(True)
        try:
            trained, result = _train_outside_fit(
                self,
                "train_on_batch",
                _length(x) or DEFAULT_BATCH,
                lambda: original_train_on_batch(self, x, y, *args, **kwargs),
                images=x,
            )
        finally:
            IN_TRAINING_CALL.pop()
        if trained:
            return result
        keep = {k: v for k, v in kwargs.items() if k in ("sample_weight", "return_dict")}
        return self.test_on_batch(x, y, **keep)  # the budget is used: the loss, without training

    def call(self, *args, **kwargs):
        if kwargs.get("training") and not IN_TRAINING_CALL and not LAST_TRAINING_CALL.get("inside"):
            inputs = args[0] if args else kwargs.get("inputs")
            size = _length(inputs)
            if size is not None:
                eager = _eager()
                LAST_TRAINING_CALL.update(model=weakref.ref(self), examples=size, images=inputs if eager else None)
        LAST_TRAINING_CALL["inside"] = LAST_TRAINING_CALL.get("inside", 0) + 1
        try:
            return original_call(self, *args, **kwargs)
        finally:
            LAST_TRAINING_CALL["inside"] -= 1

    def apply(self, *args, **kwargs):
        import sys

        model = (LAST_TRAINING_CALL.get("model") or (lambda: None))()
        if IN_TRAINING_CALL or model is None:
            return original_apply(self, *args, **kwargs)
        examples = LAST_TRAINING_CALL.get("examples") or DEFAULT_BATCH
        if not _eager():
            return _gated_apply(sys.modules["tensorflow"], original_apply, self, args, kwargs, model, examples)
        _trained, result = _train_outside_fit(
            model,
            "custom_loop",
            examples,
            lambda: original_apply(self, *args, **kwargs),
            images=LAST_TRAINING_CALL.get("images"),
        )
        return result

    keras.Model.train_on_batch = train_on_batch
    keras.Model.__call__ = call
    keras.optimizers.Optimizer.apply = apply


def _install_keras_hooks():
    """Record what the notebook does with Keras: each fit, the inputs of evaluate and predict,
    training outside fit, and the models and weights it loads."""
    import keras

    _install_fit_hook(keras)
    _install_evaluation_hooks(keras)
    _install_training_hooks(keras)
    _install_loading_hooks(keras)


def _install_fit_hook(keras):
    """``Model.fit`` within the training budget, deterministic, and recorded (``_fit_document``)."""
    original_fit = keras.Model.fit

    def fit(self, *args, **kwargs):
        if CONFIG.get("quick"):
            args, kwargs = _quick_slice(args, kwargs)
        x = args[0] if args else kwargs.get("x")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        validation = kwargs.get("validation_data")
        split = float(kwargs.get("validation_split") or 0.0)
        budget = {}
        args, kwargs = _with_budget(keras, args, kwargs, budget, split)
        start = time.monotonic()
        before = {
            "trainable": sum(int(w.numpy().size) for w in self.trainable_weights),
            "frozen": _frozen_params(self),
            "steps": _iterations(self),
        }
        IN_FIT.append(True)  # Keras's fit calls evaluate for validation: not a test evaluation
        IN_TRAINING_CALL.append(True)
        try:
            history = _fit_deterministically(original_fit, self, args, kwargs)
        finally:
            IN_FIT.pop()
            IN_TRAINING_CALL.pop()
            TRAINING["seconds"] += time.monotonic() - start
        seconds = time.monotonic() - start
        data = _fit_data(x, y, validation, split)
        _record("fit", _fit_document(self, args, kwargs, history, budget, before, seconds, data), FITS)
        if not any(m is self for m in MODELS):
            MODELS.append(self)
        return history

    keras.Model.fit = fit


def _fit_data(x, y, validation, split):
    """What fit trained and validated on: read after training, so that a pipeline's shuffling
    is the student's own during fit."""
    train = _observe(x, y)
    hashes, labels, prints = train["hashes"], train["label_counts"], train["image_prints"]
    val_hashes = val_prints = None
    if split and hashes is not None:  # Keras takes the validation split from the end
        cut = int(len(hashes) * (1 - split))
        val_hashes, hashes = hashes[cut:], hashes[:cut]
        if y is not None:
            labels = _label_counts(y[:cut])
    elif validation is not None:
        val = _observe(validation[0] if isinstance(validation, (tuple, list)) and validation else validation)
        val_hashes, val_prints = val["hashes"], val["image_prints"]
    return {
        "train": train,
        "hashes": hashes,
        "labels": labels,
        "prints": prints,
        "val_hashes": val_hashes,
        "val_prints": val_prints,
        "data_kind": type(x).__name__,
        "split": split,
    }


def _fit_document(model, args, kwargs, history, budget, before, seconds, data):
    """The record of one fit: its data (``_fit_data``), budget, history, layers and optimizer steps."""
    steps_before, steps_after = before["steps"], _iterations(model)
    train = data["train"]
    return {
        "model": id(model),
        "model_name": model.name,
        "epochs_requested": kwargs.get("epochs", args[3] if len(args) > 3 else 1),
        "epochs_run": len(getattr(history, "epoch", []) or []),
        "seconds": round(seconds, 3),
        "samples": train["samples"],
        "input": train["input"],
        "trainable_params": before["trainable"],
        "frozen_params": before["frozen"],
        "total_params": int(model.count_params()),
        "label_counts": data["labels"],
        "train_hashes": data["hashes"],
        "validation_hashes": data["val_hashes"],
        # every image fit saw, training and validation alike, against the grader's held-out digits
        "image_prints": (data["prints"] or []) + (data["val_prints"] or []),
        "validation_split": data["split"],
        "data_kind": data["data_kind"],
        "stopped_by_budget": budget.get("stopped_by_budget"),
        "epochs_done": budget.get("epochs_done"),
        "examples": budget.get("examples"),
        "multiply_adds_per_example": budget.get("multiply_adds_per_example"),
        "history": _history(history),
        "layers": [[layer.name, type(layer).__name__, bool(layer.trainable)] for layer in model.layers],
        "optimizer": _optimizer_serial(model),
        "iterations": steps_after,
        "steps": steps_after - steps_before if None not in (steps_before, steps_after) else None,
    }


def _install_evaluation_hooks(keras):
    """Record the inputs of ``evaluate`` (not the validation fit runs) and ``predict``."""
    original_evaluate = keras.Model.evaluate
    original_predict = keras.Model.predict

    def evaluate(self, *args, **kwargs):
        if IN_FIT:
            return original_evaluate(self, *args, **kwargs)
        x = args[0] if args else kwargs.get("x")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        try:
            return original_evaluate(self, *args, **kwargs)
        finally:
            seen = _observe(x, y)
            _record(
                "call",
                {
                    "call": "evaluate",
                    "model": id(self),
                    "input": seen["input"],
                    "hashes": seen["hashes"],
                    "label_counts": seen["label_counts"],
                },
                INPUTS,
            )

    def predict(self, *args, **kwargs):
        try:
            return original_predict(self, *args, **kwargs)
        finally:
            seen = _scan_pipeline(args[0] if args else kwargs.get("x"))
            _record(
                "call",
                {
                    "call": "predict",
                    "model": id(self),
                    "input": seen["input"] if seen else _summary(args[0] if args else kwargs.get("x")),
                },
                INPUTS,
            )

    keras.Model.evaluate, keras.Model.predict = evaluate, predict


def _install_loading_hooks(keras):
    """Record the models and weights loaded from files: candidates for a pretrained base."""
    original_load_model = keras.saving.load_model
    original_load_weights = keras.Model.load_weights

    def load_model(*args, **kwargs):
        model = original_load_model(*args, **kwargs)
        _record(
            "loaded",
            {
                "how": "load_model",
                "name": getattr(model, "name", None),
                "layers": [layer.name for layer in getattr(model, "layers", [])],
            },
            LOADED,
        )
        return model

    def load_weights(self, *args, **kwargs):
        result = original_load_weights(self, *args, **kwargs)
        _record(
            "loaded",
            {"how": "load_weights", "name": self.name, "layers": [layer.name for layer in self.layers]},
            LOADED,
        )
        return result

    import keras.src.saving.saving_api as saving_api

    # The public modules and any imported later (tf.keras) take the function from here.
    saving_api.load_model = keras.saving.load_model = keras.models.load_model = load_model
    keras.Model.load_weights = load_weights


def _serve_mnist():
    """Make every ``mnist.load_data()`` read the grader's file instead of downloading.

    ``load_data`` looks ``get_file`` up in its own module when called, so replacing it
    there serves every import style (``keras.datasets``, ``tensorflow.keras.datasets``,
    ``from ... import load_data``), whenever the notebook imports it.
    """
    import keras.src.datasets.mnist as mnist_module

    def get_file(*args, **kwargs):
        return CONFIG["served_data"]

    mnist_module.get_file = get_file


def _start_deterministic(seed):
    """Seed Python's ``random``, NumPy and Keras/TensorFlow (``set_random_seed`` seeds all
    three), and turn on TensorFlow's op determinism, so that the same notebook trains the same
    model on every run (the thread counts are fixed by the kernel's environment). A notebook
    that seeds itself later keeps its own seeds."""
    import keras

    keras.utils.set_random_seed(seed)
    try:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        CONFIG["op_determinism"] = True
    except Exception:  # another backend, or a TensorFlow without it
        CONFIG["op_determinism"] = False


SELF_CHECK_SKIPPED = "grader.student: this notebook is being graded, so the self-check does nothing here."


def _stand_in_for_self_check():
    """Under the grader, ``import grader.student`` gives a stand-in whose ``start()`` and
    ``check()`` print one line and do nothing else, so that a notebook graded with the
    self-check's two lines gets what it gets without them (and the grader's package need not be
    importable in the sandbox)."""
    import importlib.util
    import sys
    import types

    module = types.ModuleType("grader.student")
    module.start = module.check = lambda *args, **kwargs: print(SELF_CHECK_SKIPPED)
    try:
        importable = importlib.util.find_spec("grader") is not None
    except (ImportError, ValueError):
        importable = False
    if not importable:
        package = types.ModuleType("grader")
        package.__path__ = []
        package.student = module
        sys.modules["grader"] = package
    sys.modules["grader.student"] = module


def install(config):
    """Called by the hidden first cell (under the grader), or by ``grader.student.start``."""
    CONFIG.update(config)
    if CONFIG.get("record_fd") is not None:
        _stand_in_for_self_check()
    if CONFIG.get("seed") is not None:
        _start_deterministic(CONFIG["seed"])
    if CONFIG.get("served_data"):
        _serve_mnist()
    _install_keras_hooks()


def _layers(model):
    rows = []
    for layer in model.layers:
        try:
            shape = list(layer.output.shape)[1:]
        except Exception:
            shape = None
        rows.append(
            {
                "name": layer.name,
                "class": type(layer).__name__,
                "output_shape": shape,
                "params": int(layer.count_params()),
                "trainable": bool(layer.trainable),
            }
        )
    return rows


def choose_model(namespace, variable=None):
    """(the model to grade, why it was chosen): the assignment's variable, else the model the
    notebook trained last, else the last model it defined; (None, why not) when there is none."""
    import keras

    if variable:
        candidate = namespace.get(variable)
        if isinstance(candidate, keras.Model):
            return candidate, f"the variable '{variable}'"
        return None, f"no Keras model in the variable '{variable}'"
    if MODELS:
        return MODELS[-1], "the model the notebook trained last"
    models = [v for k, v in namespace.items() if isinstance(v, keras.Model) and not k.startswith("_")]
    if models:
        return models[-1], "a model the notebook defined (it was never trained)"
    return None, ""


def model_document(chosen):
    """The chosen model as the kernel sees it: name, class, parameters, layers, optimizer."""
    model = {
        "name": chosen.name,
        "class": type(chosen).__name__,
        "id": id(chosen),
        "trained": any(f["model"] == id(chosen) for f in FITS) or id(chosen) in OTHER_TRAINING,
        "params": int(chosen.count_params()),
        "layers": _layers(chosen),
        "optimizer": _optimizer_serial(chosen),
    }
    try:
        model["input_shape"] = list(chosen.input_shape)[1:]
    except Exception:
        model["input_shape"] = None
    return model


def model_config(model):
    """A model's layer graph as plain JSON values (``serialize_keras_object``)."""
    import keras

    return json.loads(json.dumps(keras.saving.serialize_keras_object(model), default=str))


def trained_configs():
    """Every trained model's layer graph, for architecture checks."""
    configs = []
    for trained in MODELS:
        try:
            configs.append(model_config(trained))
        except Exception:
            pass
    return configs


def other_training_records():
    """Each model's training outside fit, with the prints of the images it used."""
    return [{**entry, "image_prints": sorted(PRINTS_OUTSIDE_FIT.get(key, ()))} for key, entry in OTHER_TRAINING.items()]


def finish(namespace, out_dir, variable=None):
    """Called by the hidden last cell: save the model to grade and send the last records
    (the model as the kernel saw it, the saved file's SHA-256, every trained model's graph)."""
    import hashlib

    chosen, why = choose_model(namespace, variable)
    _send("model", {"model": model_document(chosen) if chosen is not None else None, "model_found": why})
    if chosen is not None:
        path = f"{out_dir}/model.keras"
        chosen.save(path)
        with open(path, "rb") as handle:
            _send("saved", {"sha256": hashlib.sha256(handle.read()).hexdigest()})
    _send("trained", {"configs": trained_configs()})
    for record in other_training_records():
        _send("other_training", record)
    _send("end", {})
