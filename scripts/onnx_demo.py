#!/usr/bin/env python3
"""The ONNX "bring your model" demo (docs/BRING-YOUR-MODEL.md): a PyTorch user's residual CNN, trained on
FashionMNIST with ToTensor() inputs (no normalisation), exported the way the guide says:

    torch.onnx.export(model, x, "residual-cnn.onnx", training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, dynamo=False, dynamic_axes={"input": {0: "batch"}})
    safetensors.torch.save_file(model.state_dict(), "residual-cnn.safetensors")

and PyTorch's test accuracy written beside them (pytorch.json), for `lethe eval` to be compared with. For
`lethe train`, the untrained network is exported too (residual-cnn-initial.onnx) and trained in PyTorch with
Lethe's recipe (SGD, momentum 0.9, weight decay 5e-4, lr 0.05, batch 128), whose test accuracy is in pytorch.json
as sgd_test_accuracy. Needs torch, onnx and safetensors (pip install torch onnx safetensors).
Usage: scripts/onnx_demo.py OUT_DIR [EPOCHS]
"""
import gzip, json, os, sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_fixture import ResidualCNN  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(prefix):
    with gzip.open(f"{DATA}/{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32)) / 255, torch.from_numpy(labels.astype(np.int64))


def export(model, x, path):
    """torch.onnx.export as the guide says, keeping the module's state (the exporter runs it in training mode)."""
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.onnx.export(
        model, x, path, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False, dynamo=False,
        input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    model.load_state_dict(state)


def train(model, optimizer, epochs, x_train, y_train, x_test, y_test):
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(x_train)).split(128):
            optimizer.zero_grad()
            F.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return (model(x_test).argmax(1) == y_test).float().mean().item()


def main():
    out = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    x_train, y_train = read_idx("train")
    x_test, y_test = read_idx("t10k")
    model = ResidualCNN(width=8, dropout=0.2)
    export(model, x_test[:2], os.path.join(out, "residual-cnn-initial.onnx"))
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    accuracy = train(model, torch.optim.Adam(model.parameters(), lr=2e-3), epochs, x_train, y_train, x_test, y_test)
    export(model, x_test[:2], os.path.join(out, "residual-cnn.onnx"))
    save_file(model.state_dict(), os.path.join(out, "residual-cnn.safetensors"))
    model.load_state_dict(initial)
    sgd = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    sgd_accuracy = train(model, sgd, epochs, x_train, y_train, x_test, y_test)
    result = {"test_accuracy": accuracy, "sgd_test_accuracy": sgd_accuracy, "epochs": epochs}
    with open(os.path.join(out, "pytorch.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
