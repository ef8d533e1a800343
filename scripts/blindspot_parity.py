#!/usr/bin/env python3
"""PyTorch parity values for what the `blindspot` regression work added to the engine, made the way
../shared/fixtures/torch-parity was: float32 inputs, every expected output and gradient computed in float64 from
them and stored as float32. Writes Tests/NNTests/Fixtures/regression.safetensors (committed; the build and the
tests never run Python). Needs torch only (the safetensors file is written by `save_file` below):
`python3 scripts/blindspot_parity.py`.

Tensors: l1_pred, l1_target, l1_loss, l1_dpred — F.l1_loss (mean over all elements) and its gradient;
mse_pred, mse_target, mse_loss, mse_dpred — F.mse_loss;
maps_x, maps_y — the attention maps normalize(mean over channels of x², per row) of [N, C, H, W] features;
atm_student, atm_maps, atm_loss, atm_dstudent — attention difference against given maps,
(a(student) − maps).pow(2).mean(), and its gradient for the student features;
head_x, head_weight, head_bias, head_y, head_dy, head_dx, head_dweight — a regression head nn.Linear(6, 2):
outputs and the gradients of sum(y ⊙ dy).
"""
import json
import pathlib
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/NNTests/Fixtures/regression.safetensors"


def save_file(tensors, path):
    """A safetensors file of float32 tensors: an 8-byte little-endian header size, the JSON header, the data."""
    header, offset, blobs = {}, 0, []
    for name, tensor in tensors.items():
        data = tensor.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def inputs(generator, *shape):
    return torch.randn(*shape, generator=generator, dtype=torch.float32)


def attention(features):
    return F.normalize(features.pow(2).mean(1).view(features.size(0), -1))


def main():
    generator = torch.Generator().manual_seed(18)
    tensors = {}
    for name, loss_function in (("l1", F.l1_loss), ("mse", F.mse_loss)):
        pred32, target32 = inputs(generator, 5, 3), inputs(generator, 5, 3)
        pred = pred32.double().requires_grad_()
        loss = loss_function(pred, target32.double())
        loss.backward()
        tensors.update({
            f"{name}_pred": pred32, f"{name}_target": target32, f"{name}_loss": loss.detach().reshape(1),
            f"{name}_dpred": pred.grad,
        })

    x32 = inputs(generator, 3, 4, 5, 6)
    tensors.update({"maps_x": x32, "maps_y": attention(x32.double())})

    student32, teacher32 = inputs(generator, 3, 4, 5, 5), inputs(generator, 3, 4, 5, 5)
    maps32 = attention(teacher32.double()).float()
    student = student32.double().requires_grad_()
    loss = (attention(student) - maps32.double()).pow(2).mean()
    loss.backward()
    tensors.update({
        "atm_student": student32, "atm_maps": maps32, "atm_loss": loss.detach().reshape(1),
        "atm_dstudent": student.grad,
    })

    head = nn.Linear(6, 2).double()
    weight32, bias32 = inputs(generator, 2, 6), inputs(generator, 2)
    with torch.no_grad():
        head.weight.copy_(weight32.double())
        head.bias.copy_(bias32.double())
    x32, dy32 = inputs(generator, 4, 6), inputs(generator, 4, 2)
    x = x32.double().requires_grad_()
    y = head(x)
    y.backward(dy32.double())
    tensors.update({
        "head_x": x32, "head_weight": weight32, "head_bias": bias32, "head_y": y.detach(), "head_dy": dy32,
        "head_dx": x.grad, "head_dweight": head.weight.grad,
    })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: value.detach().float().contiguous() for name, value in tensors.items()}, str(OUT))
    print(f"wrote {OUT} ({len(tensors)} tensors, torch {torch.__version__})")


if __name__ == "__main__":
    main()
