"""A small VGG-style CNN for 48×48 grey faces → 7 emotion probabilities, built to quantize well.

Conv (no bias) → BatchNorm → ReLU blocks, max-pooling between stages, global average pooling and one
dense softmax layer: every op has an int8 kernel in TFLite, BatchNorm folds into the convolutions,
and ReLU keeps activation ranges tame for per-tensor int8 activations.

Size knobs (`ModelSpec`): `width` = filters of the first stage (doubling each stage), `convs` = conv
layers per stage. The default (width 16, convs (1, 2, 2, 2)) has ~0.29 M parameters (0.31 MB int8);
width 32 has ~1.2 M (~1.2 MB int8, ~3× the compute), the room to grow within the 2 MB ceiling; width 8
is a toy for tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
from keras import layers

from device import EMOTION_LABELS
from device.preprocess import INPUT_SIZE


@dataclass(frozen=True)
class ModelSpec:
    width: int = 16  # filters of the first stage; stage k has width * 2**k
    convs: tuple[int, ...] = (1, 2, 2, 2)  # conv layers per stage; a 2×2 max-pool follows each but the last
    dropout: float = 0.3  # before the classifier
    input_size: int = INPUT_SIZE
    num_classes: int = len(EMOTION_LABELS)

    def to_dict(self) -> dict[str, object]:
        values = asdict(self)
        values["convs"] = list(self.convs)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> ModelSpec:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        if "convs" in known:
            known["convs"] = tuple(known["convs"])  # type: ignore[arg-type]
        return cls(**known)  # type: ignore[arg-type]


def _conv_bn_relu(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal", name=f"{name}_conv")(
        x
    )
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_model(spec: ModelSpec | None = None) -> keras.Model:
    """Input (S, S, 1) float in [0, 1] (device.preprocess.preprocess_face) → softmax over the labels."""
    spec = spec or ModelSpec()
    inputs = keras.Input((spec.input_size, spec.input_size, 1), name="face")
    x = inputs
    for stage, count in enumerate(spec.convs):
        filters = spec.width * 2**stage
        for i in range(count):
            x = _conv_bn_relu(x, filters, f"s{stage + 1}c{i + 1}")
        if stage < len(spec.convs) - 1:
            x = layers.MaxPooling2D(2, name=f"s{stage + 1}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if spec.dropout:
        x = layers.Dropout(spec.dropout, name="dropout")(x)
    outputs = layers.Dense(spec.num_classes, activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name=f"emotune_cnn_w{spec.width}")


def spec_of(model: keras.Model) -> ModelSpec:
    """The ModelSpec a model built by build_model was made from, read back from its layer names."""
    convs: dict[int, int] = {}
    for layer in model.layers:
        name = layer.name
        if name.startswith("s") and name.endswith("_conv") and "c" in name:
            stage = int(name[1 : name.index("c")])
            convs[stage] = convs.get(stage, 0) + 1
    if not convs:
        raise ValueError(f"{model.name} was not built by build_model (no s<k>c<i>_conv layers)")
    dropout = next((float(layer.rate) for layer in model.layers if layer.name == "dropout"), 0.0)
    spec = ModelSpec(
        width=int(model.get_layer("s1c1_conv").filters),
        convs=tuple(convs[k] for k in sorted(convs)),
        dropout=dropout,
        input_size=int(model.input_shape[1]),
        num_classes=int(model.output_shape[-1]),
    )
    if build_model(spec).count_params() != model.count_params():
        raise ValueError(f"{model.name} does not match the architecture its layer names suggest ({spec})")
    return spec
