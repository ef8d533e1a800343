#!/usr/bin/env python3
"""Writes the ONNX import fixtures (Tests/ONNXTests/Fixtures/) from PyTorch, the way a PyTorch user exports a model:

    torch.onnx.export(model, x, path, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)

- ops/<op>.onnx and ops.safetensors: one tiny graph per supported operator, with an input, PyTorch's output in
  training mode and the gradients of sum(output * probe) with respect to the input and every parameter.
- residual-cnn.onnx, resnet18.onnx, mlp.onnx and <name>.safetensors: a residual CNN (skip connection, depthwise
  conv, concat), a torchvision-style ResNet-18 at width 2 (1 channel, 28 px) and an MLP (Reshape, MatMul, Add,
  BatchNorm1d), with eval-mode logits for a fixed batch, the training-mode loss of one SGD step (lr 0.1,
  cross-entropy) and the state after it.

Dropout layers are exported with p = 0 so that PyTorch's and Lethe's (different) random masks do not matter.
Needs torch and onnx (pip install torch onnx), never at test time: the outputs are committed.
"""
import json, os, struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ONNXTests", "Fixtures")


def save_safetensors(tensors, path):
    """safetensors format by hand (float32 only): 8-byte header length, JSON header, raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        data = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def export(model, x, path):
    torch.onnx.export(
        model, x, path, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False, dynamo=False,
        input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def export_restoring_state(model, x, path):
    """Exports `model`, then loads the state the .onnx file holds back into it (the exporter's own training-mode
    passes move BatchNorm's running statistics), so the recorded values start from the file's weights."""
    import onnx
    from onnx import numpy_helper

    export(model, x, path)
    state = model.state_dict()
    with torch.no_grad():
        for initializer in onnx.load(path).graph.initializer:
            if initializer.name in state:
                state[initializer.name].copy_(torch.from_numpy(numpy_helper.to_array(initializer).copy()))


class Lambda(nn.Module):
    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(x)


class TwoConsumers(nn.Module):
    """One value read by two nodes, joined by an Add: relu(x) + sigmoid(x) * 2."""

    def forward(self, x):
        return F.relu(x) + torch.sigmoid(x) * 2.0


class ConcatBranches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.b = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        return torch.cat([self.a(x), x, self.b(x)], 1)


class MatMulBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(6, 4) * 0.3)
        self.bias = nn.Parameter(torch.randn(4) * 0.3)

    def forward(self, x):
        return x @ self.weight + self.bias


class Normalize(nn.Module):
    """A model's own preprocessing as its first nodes: (x − mean) / std per channel, from registered buffers."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.49, 0.48, 0.45]).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.24, 0.26]).reshape(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class ConstantArithmetic(nn.Module):
    """Constants written inside forward (Constant nodes): per-channel scale and shift, and a scalar divisor."""

    def forward(self, x):
        return (x * torch.tensor([2.0, -1.0, 0.5]).reshape(3, 1, 1) + torch.tensor([0.1, 0.2, 0.3]).reshape(3, 1, 1)) / 4.0


# name: (module, input shape)
OPS = {
    "conv": (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), [2, 2, 7, 7]),
    "conv_nobias_k5": (lambda: nn.Conv2d(2, 4, 5, padding=2, bias=False), [2, 2, 6, 6]),
    "conv_depthwise": (lambda: nn.Conv2d(3, 3, 3, stride=2, padding=1, groups=3), [2, 3, 7, 7]),
    "batchnorm": (lambda: nn.BatchNorm2d(3), [4, 3, 3, 3]),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5), [6, 5]),
    "relu": (lambda: nn.ReLU(), [2, 3, 4, 4]),
    "leakyrelu": (lambda: nn.LeakyReLU(0.2), [2, 3, 4, 4]),
    "sigmoid": (lambda: nn.Sigmoid(), [2, 3, 4, 4]),
    "maxpool": (lambda: nn.MaxPool2d(3, stride=2, padding=1), [2, 2, 7, 7]),
    "avgpool": (lambda: nn.AvgPool2d(3, stride=2, padding=1), [2, 2, 7, 7]),
    "globalavgpool": (lambda: nn.AdaptiveAvgPool2d(1), [2, 3, 5, 5]),
    "gemm": (lambda: nn.Linear(6, 4), [3, 6]),
    "matmul_add": (MatMulBias, [3, 6]),
    "mul_constant": (lambda: Lambda(lambda x: x * 0.25), [2, 5]),
    "concat": (ConcatBranches, [2, 2, 4, 4]),
    "flatten": (lambda: nn.Flatten(), [2, 2, 3, 3]),
    "reshape": (lambda: Lambda(lambda x: x.reshape(-1, 3, 6)), [2, 2, 3, 3]),
    "identity": (lambda: nn.Identity(), [2, 5]),
    "dropout": (lambda: nn.Dropout(0.0), [2, 5]),
    "two_consumers": (TwoConsumers, [2, 3, 4]),
    "normalize": (Normalize, [2, 3, 4, 4]),
    "constant_arithmetic": (ConstantArithmetic, [2, 3, 4, 4]),
}


def op_fixtures():
    os.makedirs(os.path.join(OUT, "ops"), exist_ok=True)
    values = {}
    for index, (name, (make, shape)) in enumerate(OPS.items()):
        torch.manual_seed(index)
        module = make()
        module.train()
        x = torch.randn(*shape)
        export_restoring_state(module, x, os.path.join(OUT, "ops", f"{name}.onnx"))
        x.requires_grad_(True)
        y = module(x)
        probe = torch.randn_like(y)
        (y * probe).sum().backward()
        values[f"{name}.input"] = x
        values[f"{name}.output"] = y
        values[f"{name}.probe"] = probe
        values[f"{name}.grad.input"] = x.grad
        for pname, p in module.named_parameters():
            values[f"{name}.grad.{pname}"] = p.grad
        for bname, b in module.named_buffers():
            if b.dtype == torch.float32:
                values[f"{name}.after.{bname}"] = b
    save_safetensors(values, os.path.join(OUT, "ops.safetensors"))


class ResidualCNN(nn.Module):
    """A PyTorch user's residual CNN for 1×28×28 images: a stem, a residual block, a depthwise branch concatenated
    back, max and average pooling, dropout and a linear classifier."""

    def __init__(self, width=4, dropout=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.block_conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.block_bn1 = nn.BatchNorm2d(width)
        self.block_conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.block_bn2 = nn.BatchNorm2d(width)
        self.depthwise = nn.Conv2d(width, width, 3, padding=1, groups=width)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * width * 7 * 7, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, 2)
        y = F.relu(self.block_bn1(self.block_conv1(x)))
        x = F.relu(x + self.block_bn2(self.block_conv2(y)))
        x = torch.cat([x, F.leaky_relu(self.depthwise(x), 0.1)], 1)
        x = F.avg_pool2d(x, 2) * 0.5
        return self.fc(self.dropout(torch.flatten(x, 1)))


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class ResNet18(nn.Module):
    """torchvision's ResNet-18 names and blocks, with a CIFAR stem (3×3 stride-1 conv, no max-pool)."""

    def __init__(self, width=2, channels=1, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        planes, layers = width, []
        for index, (multiple, stride) in enumerate([(1, 1), (2, 2), (4, 2), (8, 2)]):
            out = width * multiple
            layers.append(nn.Sequential(BasicBlock(planes, out, stride), BasicBlock(out, out, 1)))
            planes = out
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(planes, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class MLP(nn.Module):
    """Reshape → Linear → BatchNorm1d → LeakyReLU → x @ W + b → Sigmoid → Dropout → Linear, on 1×8×8 inputs."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.bn = nn.BatchNorm1d(16)
        self.hidden_weight = nn.Parameter(torch.randn(16, 12) * 0.25)
        self.hidden_bias = nn.Parameter(torch.randn(12) * 0.1)
        self.dropout = nn.Dropout(0.0)
        self.fc2 = nn.Linear(12, 10)

    def forward(self, x):
        x = F.leaky_relu(self.bn(self.fc1(x.reshape(-1, 64))), 0.01)
        x = torch.sigmoid(x @ self.hidden_weight + self.hidden_bias)
        return self.fc2(self.dropout(x))


def model_fixture(name, model, shape, recorded=lambda key: True):
    """Writes <name>.onnx and <name>.safetensors; `recorded` picks the state entries kept after the step."""
    torch.manual_seed(7)
    x = torch.randn(*shape)
    labels = torch.randint(0, 10, (shape[0],))
    export_restoring_state(model, x, os.path.join(OUT, f"{name}.onnx"))
    values = {"input": x, "labels": labels.float()}
    model.eval()
    with torch.no_grad():
        values["logits.eval"] = model(x)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
    values["logits.train"] = logits
    values["loss"] = loss.reshape(1)
    for key, value in model.state_dict().items():
        if value.dtype == torch.float32 and recorded(key):
            values[f"after.{key}"] = value
    save_safetensors(values, os.path.join(OUT, f"{name}.safetensors"))


def hostile_fixtures():
    """Files Lethe must refuse with a clear error: an unsupported operator, weights in an external file, a node
    reading an undefined initializer, an absurdly large tensor, a cycle and an absurdly large input."""
    from onnx import TensorProto, helper, save

    directory = os.path.join(OUT, "refused")
    os.makedirs(directory, exist_ok=True)
    export(nn.Sequential(nn.Linear(4, 3), nn.Tanh()), torch.randn(2, 4), os.path.join(directory, "unsupported-op.onnx"))

    def model(nodes, initializers, output="y"):
        graph = helper.make_graph(
            nodes, "hostile", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", 3])], initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    gemm = helper.make_node("Gemm", ["x", "fc.weight"], ["y"], name="fc", transB=1)
    external = TensorProto(name="fc.weight", data_type=TensorProto.FLOAT, dims=[3, 4])
    external.data_location = TensorProto.EXTERNAL
    entry = external.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    save(model([gemm], [external]), os.path.join(directory, "external-data.onnx"))
    save(model([gemm], []), os.path.join(directory, "missing-initializer.onnx"))
    huge = TensorProto(name="fc.weight", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20])
    save(model([gemm], [huge]), os.path.join(directory, "huge-tensor.onnx"))
    cycle = [helper.make_node("Relu", ["x", "b"], ["a"], name="first"), helper.make_node("Relu", ["a"], ["b"], name="second"),
             helper.make_node("Identity", ["b"], ["y"], name="out")]
    save(model(cycle, []), os.path.join(directory, "cycle.onnx"))
    save(huge_input(), os.path.join(directory, "huge-input.onnx"))


def huge_input():
    """A graph whose input declares 2^84 elements per sample (each size in range; their product overflows)."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"], name="out")], "hostile",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1 << 28, 1 << 28, 1 << 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    torch.manual_seed(0)
    hostile_fixtures()
    op_fixtures()
    torch.manual_seed(0)
    model_fixture("residual-cnn", ResidualCNN(), [4, 1, 28, 28])
    torch.manual_seed(0)
    model_fixture("resnet18", ResNet18(), [4, 1, 28, 28], lambda key: key.startswith(("conv1", "bn1", "layer4.1", "fc")))
    torch.manual_seed(0)
    model_fixture("mlp", MLP(), [6, 1, 8, 8])


if __name__ == "__main__":
    main()
