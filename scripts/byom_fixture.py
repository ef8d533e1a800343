#!/usr/bin/env python3
"""Writes the "bring your own model" fixture (Tests/Fixtures/bring-your-model/) the way a PyTorch user would.

A small BatchNorm CNN is trained in PyTorch on FashionMNIST with torchvision's ToTensor() preprocessing (pixels in
[0, 1], no normalisation), saved with safetensors.torch.save_file(model.state_dict(), path), and described for Lethe
by a JSON spec. What PyTorch measured is written beside it, so the tests can check that `lethe eval --normalize
none` agrees, with no Python at test time. Needs torch, safetensors and numpy (not used by Lethe):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch safetensors numpy
    /tmp/venv/bin/python scripts/byom_fixture.py
"""
import gzip, json, os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "bring-your-model")


class SmallBatchNormCNN(nn.Module):
    """conv1 → bn1 → ReLU → max-pool → conv2 → ReLU → max-pool → flatten → fc (9,274 parameters)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


SPEC = {
    "name": "small-bn-cnn",
    "input": [1, 28, 28],
    "layers": [
        {"type": "conv2d", "name": "conv1", "in": 1, "out": 8, "kernel": 3, "padding": 1},
        {"type": "batchnorm2d", "name": "bn1", "channels": 8},
        {"type": "relu"},
        {"type": "maxpool2d", "kernel": 2},
        {"type": "conv2d", "name": "conv2", "in": 8, "out": 16, "kernel": 3, "padding": 1},
        {"type": "relu"},
        {"type": "maxpool2d", "kernel": 2},
        {"type": "flatten"},
        {"type": "linear", "name": "fc", "in": 784, "out": 10},
    ],
}


def read_idx(prefix):
    with gzip.open(f"{DATA}/{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    # ToTensor(): uint8 pixels to float32 in [0, 1].
    return torch.from_numpy(images.astype(np.float32)) / 255, torch.from_numpy(labels.astype(np.int64))


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    torch.manual_seed(0)
    x_train, y_train = read_idx("train")
    x_test, y_test = read_idx("t10k")
    model = SmallBatchNormCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        model.train()
        for batch in torch.randperm(len(x_train)).split(128):
            optimizer.zero_grad()
            F.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
    model.eval()
    os.makedirs(OUT, exist_ok=True)
    save_file(model.state_dict(), os.path.join(OUT, "small-bn-cnn.safetensors"))
    with open(os.path.join(OUT, "small-bn-cnn.json"), "w") as f:
        json.dump(SPEC, f, indent=1)
        f.write("\n")
    # A real torch.save file (PyTorch's zip format), for the error that tells how to export instead.
    torch.save({"fc.bias": model.fc.bias.detach()}, os.path.join(OUT, "torch-save.pt"))
    with torch.no_grad():
        # Eight test images as ToTensor() gives them and PyTorch's eval-mode logits, for a check without the dataset.
        save_file(
            {"input": x_test[:8].contiguous(), "logits": model(x_test[:8]).contiguous()},
            os.path.join(OUT, "parity.safetensors"))
    expected = {
        "pytorch_version": torch.__version__,
        "preprocessing": "ToTensor() (pixels in [0, 1], no normalisation)",
        "test_accuracy": accuracy(model, x_test, y_test),
        # The same model fed FashionMNIST-normalised inputs, as Lethe assumes for a checkpoint that records nothing.
        "test_accuracy_normalised": accuracy(model, (x_test - 0.2860) / 0.3530, y_test),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(json.dumps(expected))


if __name__ == "__main__":
    main()
