"""What a saved Keras model is made of, read from its ``config.json``: no TensorFlow needed.

A ``.keras`` file is a zip whose ``config.json`` describes every layer and, for functional
models, which layer feeds which. From that graph this module answers the architecture
questions assignments ask: is there an inception block (parallel convolution branches
concatenated), a residual block (a skip connection added to a block's output), batch
normalisation, a nested (pretrained) base and is it frozen.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONV_CLASSES = {"Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv1D", "Conv3D"}
MODEL_CLASSES = {"Functional", "Sequential", "Model"}


@dataclass
class LayerNode:
    name: str
    cls: str
    trainable: bool
    inputs: list[str] = field(default_factory=list)
    inside: str | None = None  # the nested model this layer belongs to


@dataclass
class Architecture:
    layers: dict[str, LayerNode]
    nested_models: list[dict[str, Any]]

    def classes(self) -> list[str]:
        return [node.cls for node in self.layers.values()]

    def ancestors(self, name: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.layers[name].inputs) if name in self.layers else []
        while stack:
            current = stack.pop()
            if current not in seen and current in self.layers:
                seen.add(current)
                stack.extend(self.layers[current].inputs)
        return seen

    def _branch_has_conv(self, start: str, stop: set[str]) -> bool:
        """Whether the path from ``start`` back to the shared ancestors holds a convolution."""
        branch = ({start} | self.ancestors(start)) - stop
        return any(self.layers[n].cls in CONV_CLASSES for n in branch if n in self.layers)

    def _merges(self, cls: str):
        """Layers of class ``cls`` joining two or more inputs that share an ancestor, with it."""
        for node in self.layers.values():
            if node.cls == cls and len(node.inputs) >= 2:
                shared = set.intersection(*({i} | self.ancestors(i) for i in node.inputs))
                if shared:
                    yield node, shared

    def inception_blocks(self) -> list[str]:
        """Concatenations of two or more parallel branches, two of them with convolutions."""
        return [
            node.name
            for node, shared in self._merges("Concatenate")
            if sum(self._branch_has_conv(i, shared) for i in node.inputs) >= 2
        ]

    def residual_blocks(self) -> list[str]:
        """Additions whose inputs share an ancestor: a block's output plus its skip connection."""
        return [
            node.name
            for node, shared in self._merges("Add")
            if any(self._branch_has_conv(i, shared) for i in node.inputs)
        ]

    def has(self, cls: str) -> bool:
        return cls in self.classes()


def _tensor_sources(value: Any) -> list[str]:
    """Layer names in a (nested) ``inbound_nodes`` argument structure."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"][0]]
        return [n for v in value.values() for n in _tensor_sources(v)]
    if isinstance(value, list):
        return [n for v in value for n in _tensor_sources(v)]
    return []


def _walk(config: dict[str, Any], arch: Architecture, inside: str | None, previous: str | None) -> str | None:
    """Add a model's layers to ``arch``; returns the name of its last layer (for Sequential chaining)."""
    cls = config.get("class_name")
    body = config.get("config", {})
    layers = body.get("layers", [])
    last = previous
    for layer in layers:
        name = layer.get("config", {}).get("name") or layer.get("name")
        if layer.get("class_name") in MODEL_CLASSES:
            arch.nested_models.append({"name": name, "trainable": layer.get("config", {}).get("trainable", True)})
            inner_last = _walk(layer, arch, name, last if cls == "Sequential" else None)
            node = LayerNode(name, layer["class_name"], layer.get("config", {}).get("trainable", True), inside=inside)
            node.inputs = [inner_last] if inner_last else []
            if cls != "Sequential":
                node.inputs += _tensor_sources(layer.get("inbound_nodes", []))
            arch.layers[name] = node
            last = name
            continue
        node = LayerNode(
            name, layer.get("class_name", "?"), layer.get("config", {}).get("trainable", True), inside=inside
        )
        if cls == "Sequential":
            node.inputs = [last] if last else []
        else:
            node.inputs = _tensor_sources(layer.get("inbound_nodes", []))
        arch.layers[name] = node
        last = name
    return last


def from_config(config: dict[str, Any]) -> Architecture:
    """The layer graph of a serialised model (``config.json`` of a ``.keras`` file)."""
    arch = Architecture({}, [])
    _walk(config, arch, None, None)
    return arch


def read_architecture(model_path: str | Path) -> Architecture:
    """The layer graph of a saved ``.keras`` model."""
    with zipfile.ZipFile(model_path) as archive:
        return from_config(json.loads(archive.read("config.json")))
