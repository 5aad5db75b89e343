"""The emotion CNN's PyTorch twin, for training on a lent GPU machine that has PyTorch and no TensorFlow.

    python -m device.training.torch_twin pack --training-only FER2013.npz gpu-data/fer-train.npy.xz   # here
    python -m device.training.torch_twin train --data gpu-data/fer-train.npy.xz --out $OUT/w32 --width 32 \
        --epochs 150 --camera --save-every 30                                                       # there

Imports only the standard library, numpy, torch and device.training.weighting. It trains `build_model`'s
network layer for layer as `emotune train` does (augmentation, class weights, Adam, cosine schedule), in
bfloat16 on the GPU (on the CPU with `--bf16`). `pack` writes the faces small enough to carry, with their
file's sha256 for from_twin to check; `train` writes weights under the Keras layers' names, for from_twin.
"""

from __future__ import annotations

import argparse
import csv
import json
import lzma
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

NUM_CLASSES = 7
SIDE = 48


def pack(npz: Path, output: Path, with_public_test: bool = True) -> dict[str, int]:
    """Write Training (and PublicTest) faces and labels of a FER2013 npz (read as `emotune train` reads it:
    DataError for a file that is not one) as an LZMA stream of .npy arrays. Runs here, not on the GPU."""
    from device.listener.fer2013 import load_split
    from device.training.report import file_sha256

    output.parent.mkdir(parents=True, exist_ok=True)
    sizes = {}
    with lzma.open(output, "wb", preset=6) as stream:
        for name in ("Training", "PublicTest") if with_public_test else ("Training",):
            split = load_split(npz, name)
            np.save(stream, np.asarray(split.images, dtype=np.uint8))
            np.save(stream, np.asarray(split.labels, dtype=np.uint8))
            sizes[name] = len(split)
    # Beside the pack, so the run records which file its faces came from and from_twin can check it.
    source_record(output).write_text(json.dumps({"file": Path(npz).name, "sha256": file_sha256(Path(npz)),
                                                 "split_sizes": sizes}, indent=2) + "\n")
    return sizes


def source_record(pack_path: Path) -> Path:
    """Where `pack` writes what it packed from: `<pack>.json` ({"file", "sha256", "split_sizes"})."""
    return pack_path.with_name(pack_path.name + ".json")


def unpack(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"Training": (images, labels)[, "PublicTest": (...)]} from `pack`'s file."""
    out = {}
    with lzma.open(path, "rb") as stream:
        for name in ("Training", "PublicTest"):
            try:
                images = np.load(stream)
            except (EOFError, ValueError):
                break
            out[name] = (images, np.load(stream))
    return out


def class_weights(labels: np.ndarray, power: float = 0.5) -> np.ndarray:
    """(NUM_CLASSES,) `emotune train`'s class weights (device.training.weighting) as an array."""
    from device.training.weighting import class_weights as weights_by_class

    return np.array([w for _, w in sorted(weights_by_class(labels, power, NUM_CLASSES).items())])


def build(width: int, convs: tuple[int, ...], dropout: float) -> Any:
    """The twin of build_model(ModelSpec(width, convs, dropout)); module names are the Keras layer names
    with '_' for '/'."""
    import torch
    from torch import nn

    class Twin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleDict()
            self.plan: list[tuple[str, bool]] = []  # (block name, max-pool after it)
            channels = 1
            for stage, count in enumerate(convs):
                filters = width * 2**stage
                for i in range(count):
                    name = f"s{stage + 1}c{i + 1}"
                    conv = nn.Conv2d(channels, filters, 3, padding=1, bias=False)
                    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                    # Keras' BatchNormalization: epsilon 1e-3, moving average 0.99 (torch counts 1 - it)
                    self.blocks[name] = nn.Sequential(conv, nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01),
                                                      nn.ReLU())
                    self.plan.append((name, i == count - 1 and stage < len(convs) - 1))
                    channels = filters
            self.dropout = nn.Dropout(dropout)
            self.emotion = nn.Linear(channels, NUM_CLASSES)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 1, 48, 48) in [0, 1] -> logits
            for name, pool in self.plan:
                x = self.blocks[name](x)
                if pool:
                    x = nn.functional.max_pool2d(x, 2)
            return self.emotion(self.dropout(x.mean(dim=(2, 3))))

    return Twin()


def keras_weights(model: Any) -> dict[str, np.ndarray]:
    """The twin's weights under Keras layer names and layouts (conv kernels H×W×in×out, dense in×out)."""
    out = {}
    for name, block in model.blocks.items():
        conv, norm = block[0], block[1]
        out[f"{name}_conv/kernel"] = conv.weight.detach().cpu().float().numpy().transpose(2, 3, 1, 0)
        out[f"{name}_bn/gamma"] = norm.weight.detach().cpu().float().numpy()
        out[f"{name}_bn/beta"] = norm.bias.detach().cpu().float().numpy()
        out[f"{name}_bn/moving_mean"] = norm.running_mean.detach().cpu().float().numpy()
        out[f"{name}_bn/moving_variance"] = norm.running_var.detach().cpu().float().numpy()
    out["emotion/kernel"] = model.emotion.weight.detach().cpu().float().numpy().T
    out["emotion/bias"] = model.emotion.bias.detach().cpu().float().numpy()
    return out


def augment(x: Any, generator: Any, camera: bool) -> Any:
    """`augment_batch` (and `camera_degrade` when `camera`) in torch: x (N, 1, S, S) in [0, 1]."""
    import torch
    from torch.nn import functional

    n, dev = x.shape[0], x.device

    def uniform(shape: tuple[int, ...], lo: float, hi: float) -> torch.Tensor:
        return torch.rand(shape, generator=generator, device=dev) * (hi - lo) + lo

    angle = uniform((n,), -1, 1) * math.radians(10.0)
    scale = 1.0 / uniform((n,), 0.9, 1.1)
    mirror = torch.where(uniform((n,), 0, 1) < 0.5, -1.0, 1.0)
    shift = uniform((n, 2), -0.1, 0.1) * 2  # normalised coordinates span 2
    theta = torch.stack([
        torch.stack([torch.cos(angle) * scale * mirror, -torch.sin(angle) * scale, shift[:, 0]], 1),
        torch.stack([torch.sin(angle) * scale * mirror, torch.cos(angle) * scale, shift[:, 1]], 1),
    ], 1)
    grid = functional.affine_grid(theta, list(x.shape), align_corners=False)
    out = functional.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = ((out - mean) * uniform((n, 1, 1, 1), 0.8, 1.2) + mean + uniform((n, 1, 1, 1), -0.1, 0.1)).clamp(0, 1)
    if not camera:
        return out

    def chosen() -> torch.Tensor:
        return uniform((n, 1, 1, 1), 0, 1) < 0.4

    out = torch.where(chosen(), (out * uniform((n, 1, 1, 1), 0.5, 1.25)).clamp(0, 1), out)
    bound = math.log1p(0.5)
    out = torch.where(chosen(), out.clamp_min(0) ** torch.exp(uniform((n, 1, 1, 1), -bound, bound)), out)
    radius = math.ceil(3 * 1.8)
    taps = torch.arange(-radius, radius + 1, device=dev, dtype=out.dtype)
    sigma = uniform((n, 1), 0, 1.8).clamp_min(1e-3)
    kernel = torch.exp(-0.5 * (taps[None] / sigma) ** 2)
    kernel = kernel / kernel.sum(1, keepdim=True)  # (N, 2r + 1)
    stacked = functional.pad(out.transpose(0, 1), (radius, radius, radius, radius), mode="reflect")  # (1, N, H, W)
    stacked = functional.conv2d(stacked, kernel[:, None, None, :], groups=n)
    blurred = functional.conv2d(stacked, kernel[:, None, :, None], groups=n).transpose(0, 1)
    out = torch.where(chosen(), blurred, out)
    side = out.shape[-1]
    small = int(torch.randint(16, side + 1, (1,), generator=generator, device=dev))
    shrunk = functional.interpolate(out, size=(small, small), mode="area")
    enlarged = functional.interpolate(shrunk, size=(side, side), mode="bilinear", align_corners=False)
    out = torch.where(chosen(), enlarged, out)
    noisy = out + torch.randn(out.shape, generator=generator, device=dev) * uniform((n, 1, 1, 1), 0, 0.04)
    return torch.where(chosen(), noisy, out).clamp(0, 1)


def write_record(out: Path, log: list[dict[str, float]], summary: dict[str, Any]) -> None:
    """log.csv (one row per epoch, emotune train's columns) and run.json (how it was trained) in `out`."""
    with (out / "log.csv").open("w", newline="") as handle:
        fields = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"]
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(log)
    (out / "run.json").write_text(json.dumps(summary, indent=2) + "\n")


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from torch.nn import functional

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(args.seed)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    data = unpack(args.data)
    packed_from = source_record(args.data)
    source = json.loads(packed_from.read_text()) if packed_from.is_file() else None
    x_train, y_train = data["Training"]
    limit = args.limit or len(x_train)
    x = torch.tensor(x_train[:limit], dtype=torch.float32, device=device)[:, None] / 255.0
    y = torch.tensor(y_train[:limit], dtype=torch.long, device=device)
    weights = torch.tensor(class_weights(y_train[:limit]), dtype=torch.float32, device=device)
    val = None
    if "PublicTest" in data:
        vx, vy = data["PublicTest"]
        val = (torch.tensor(vx, dtype=torch.float32, device=device)[:, None] / 255.0,
               torch.tensor(vy, dtype=torch.long, device=device))
    convs = tuple(int(c) for c in args.convs.split(","))
    model = build(args.width, convs, args.dropout).to(device).to(memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.learning_rate, eps=1e-7)  # Keras' epsilon
    args.out.mkdir(parents=True, exist_ok=True)
    log, best, best_epoch, started = [], -math.inf, 0, time.perf_counter()
    summary: dict[str, Any] = {}
    # bf16 on the GPU always; on the CPU when asked, where it pays only with AVX512-BF16 (measured on this
    # project's 2-core EPYC: 153 against 288 ms per width-24 batch of 128, forward and backward).
    amp = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda" or args.bf16)
    for epoch in range(args.epochs):
        rate = args.learning_rate * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * epoch / max(1, args.epochs - 1))))
        for group in optimiser.param_groups:
            group["lr"] = rate
        model.train()
        order = torch.randperm(len(x), generator=generator, device=device)
        total: Any = 0.0
        correct: Any = 0
        seen = 0
        epoch_start = time.perf_counter()
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            images = augment(x[batch], generator, args.camera).contiguous(memory_format=torch.channels_last)
            with amp:
                logits = model(images)
            loss = (functional.cross_entropy(logits.float(), y[batch], reduction="none") * weights[y[batch]]).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            # Summed on the device: a float() per batch would wait for the GPU every step.
            total = total + loss.detach() * len(batch)
            correct = correct + (logits.argmax(1) == y[batch]).sum()
            seen += len(batch)
        row = {"epoch": epoch + 1, "loss": float(total) / seen, "accuracy": float(correct) / seen,
               "learning_rate": rate}
        if val is not None:
            model.eval()
            with torch.no_grad(), amp:
                logits = torch.cat([model(val[0][i:i + 1024]) for i in range(0, len(val[0]), 1024)]).float()
            row["val_loss"] = float(functional.cross_entropy(logits, val[1]))
            row["val_accuracy"] = float((logits.argmax(1) == val[1]).float().mean())
        row["seconds"] = time.perf_counter() - epoch_start
        log.append(row)
        score = row.get("val_accuracy", -row["loss"])
        if score > best:
            best, best_epoch = score, epoch + 1
            np.savez(args.out / "weights.npz", **keras_weights(model))
        if args.save_every and (epoch + 1) % args.save_every == 0:
            # Without PublicTest on the machine (the carry limit), the epoch is chosen here from these.
            np.savez(args.out / f"weights-e{epoch + 1}.npz", **keras_weights(model))
        # After every epoch, so a run stopped at the device tool's time limit still brings back its record.
        summary = {"command": " ".join(["python -m device.training.torch_twin", *args.argv]),
                   "width": args.width, "convs": list(convs), "dropout": args.dropout, "epochs": args.epochs,
                   "epochs_run": epoch + 1, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
                   "camera": args.camera, "seed": args.seed, "bf16": device == "cuda" or args.bf16,
                   "best_epoch": best_epoch,
                   "best_epoch_chosen_by": "PublicTest accuracy" if val is not None else "lowest training loss",
                   "best_public_test_accuracy": best if val is not None else None,
                   "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
                   "torch": torch.__version__, "seconds": time.perf_counter() - started,
                   "training_faces": len(x), "packed_from": source}
        write_record(args.out, log, summary)
        print(json.dumps(row), flush=True)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m device.training.torch_twin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    packing = sub.add_parser("pack", help="write the faces the twin trains on (here, from the FER2013 npz)")
    packing.add_argument("npz", type=Path)
    packing.add_argument("output", type=Path)
    packing.add_argument("--training-only", action="store_true", help="leave PublicTest out (a smaller file)")
    training = sub.add_parser("train", help="train (on the GPU machine)")
    training.add_argument("--data", type=Path, required=True)
    training.add_argument("--out", type=Path, required=True)
    training.add_argument("--width", type=int, default=24)
    training.add_argument("--convs", default="1,2,2,2")
    training.add_argument("--dropout", type=float, default=0.3)
    training.add_argument("--epochs", type=int, default=100)
    training.add_argument("--batch-size", type=int, default=64)
    training.add_argument("--learning-rate", type=float, default=1e-3)
    training.add_argument("--camera", action="store_true", help="camera-like augmentation (as --camera-augmentation)")
    training.add_argument("--limit", type=int, default=0, help="train on the first N faces (a rehearsal)")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--save-every", type=int, default=0, help="also keep weights-e<N>.npz every N epochs")
    training.add_argument("--bf16", action="store_true", help="compute in bfloat16 on the CPU too (as on the GPU)")
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])  # for run.json's provenance
    if args.command == "pack":
        from device.errors import EmotuneError

        try:
            sizes = pack(args.npz, args.output, with_public_test=not args.training_only)
        except EmotuneError as error:
            print(f"torch_twin: {error}", file=sys.stderr)
            return 1
        print(f"wrote {args.output} ({args.output.stat().st_size / 2**20:.1f} MiB): {sizes}")
        return 0
    print(json.dumps(train(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
