#!/usr/bin/env python3
"""PyTorch reference measurements for Lethe (needs torch; not used by Lethe at run time).

  bench  — training throughput of fmnist-cnn (batch 128, SGD) on synthetic data, like `lethe bench engine`.
  train  — trains fmnist-cnn on FashionMNIST (the issue's recipe), prints its test accuracy and writes a
           safetensors checkpoint with PyTorch parameter names, for `lethe eval` to read back.
  eval   — loads a safetensors checkpoint (e.g. one `lethe train` wrote) into PyTorch's fmnist-cnn with
           `load_state_dict(strict=True)` and prints its test accuracy.
"""
import argparse, gzip, json, struct, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


class FmnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(3136, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def read_idx(split):
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(f"{DATA}/{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (torch.from_numpy(images.astype(np.float32)) / 255 - 0.2860) / 0.3530
    return x, torch.from_numpy(labels.astype(np.int64))


def save_safetensors(state, path):
    header, chunks, offset = {}, [], 0
    for name, tensor in state.items():
        if tensor.dtype == torch.int64:
            data, dtype = tensor.numpy().astype("<i8").tobytes(), "I64"
        else:
            data, dtype = tensor.detach().float().numpy().astype("<f4").tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks))


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    header.pop("__metadata__", None)
    body, dtypes = data[8 + length:], {"F32": np.float32, "I64": np.int64}
    return {name: torch.from_numpy(np.frombuffer(body[e["data_offsets"][0]:e["data_offsets"][1]],
                                                 dtypes[e["dtype"]]).reshape(e["shape"]).copy())
            for name, e in header.items()}


def evaluate(args):
    model = FmnistCNN()
    model.load_state_dict(load_safetensors(args.weights), strict=True)
    model.eval()
    test_x, test_y = read_idx("test")
    with torch.no_grad():
        predictions = torch.cat([model(test_x[i:i + 1000]).argmax(1) for i in range(0, len(test_y), 1000)])
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "weights": args.weights,
                      "test_accuracy": (predictions == test_y).float().mean().item()}))


def bench(args):
    torch.set_num_threads(args.threads)
    model = FmnistCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(args.batch_size, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch_size,))

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    for _ in range(3):
        step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds or steps < 5:
        step()
        steps += 1
    rate = steps * args.batch_size / (time.perf_counter() - start)
    # Inference as `lethe bench engine` measures it: eval mode, no gradients, batches of 250, the argmax taken.
    model.eval()
    images = torch.randn(250, 1, 28, 28)
    with torch.no_grad():
        for _ in range(2):
            model(images)
        batches, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds or batches < 5:
            model(images).argmax(1)
            batches += 1
    inference = batches * 250 / (time.perf_counter() - start)
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "threads": args.threads,
                      "batch_size": args.batch_size, "train_samples_per_second": rate,
                      "train_gflops": rate * 25.446912e-3, "inference_samples_per_second": inference}))


def train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    x, y = read_idx("train")
    test_x, test_y = read_idx("test")
    model = FmnistCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(y))
        for start in range(0, len(y), 128):
            batch = order[start:start + 128]
            optimizer.zero_grad()
            F.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
        print(f"epoch {epoch + 1} done", file=sys.stderr)
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(test_x[i:i + 1000]).argmax(1) for i in range(0, len(test_y), 1000)])
    accuracy = (predictions == test_y).float().mean().item()
    save_safetensors(model.state_dict(), args.out)
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "test_accuracy": accuracy, "out": args.out}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--batch-size", type=int, default=128)
    b.add_argument("--seconds", type=float, default=5)
    t = sub.add_parser("train")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--out", default="out/pytorch-fmnist-cnn.safetensors")
    e = sub.add_parser("eval")
    e.add_argument("--weights", required=True)
    args = parser.parse_args()
    {"bench": bench, "train": train, "eval": evaluate}[args.command](args)
