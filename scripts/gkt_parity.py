#!/usr/bin/env python3
"""PyTorch parity values for the layers and loss gated knowledge transfer (`gkt`) added to the engine, made the
way ../shared/fixtures/torch-parity was: float32 inputs, every expected output and gradient computed in float64
from them and stored as float32. Writes Tests/NNTests/Fixtures/gkt_layers.safetensors (committed; the build and
the tests never run Python). Needs torch and safetensors: `python3 scripts/gkt_parity.py`.

Tensors: upsample_x, upsample_y, upsample_dy, upsample_dx — nn.Upsample(scale_factor=2) (nearest);
leaky_x, leaky_y, leaky_dy, leaky_dx — nn.LeakyReLU(0.2);
bn1_x, bn1_weight, bn1_bias, bn1_y, bn1_dy, bn1_dx, bn1_dweight, bn1_dbias, bn1_running_mean, bn1_running_var —
nn.BatchNorm2d(1, affine=True) in training mode (eps 1e-5, momentum 0.1, running statistics after one pass);
at_student, at_teacher, at_loss, at_dstudent — attention transfer, the mean over rows and positions of
(a(s) − a(t))² with a(x) = normalize(mean over channels of x², per row), and its gradient for the student.
Every gradient is that of sum(y ⊙ dy) (of the loss itself for attention transfer).
"""
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests/NNTests/Fixtures/gkt_layers.safetensors"


def inputs(generator, *shape):
    return torch.randn(*shape, generator=generator, dtype=torch.float32)


def layer_values(prefix, layer, x32, dy32):
    x = x32.double().requires_grad_()
    y = layer(x)
    y.backward(dy32.double())
    values = {f"{prefix}_x": x32, f"{prefix}_y": y.detach(), f"{prefix}_dy": dy32, f"{prefix}_dx": x.grad}
    return values


def main():
    generator = torch.Generator().manual_seed(18)
    tensors = {}
    x = inputs(generator, 2, 3, 3, 4)
    tensors.update(layer_values("upsample", nn.Upsample(scale_factor=2), x, inputs(generator, 2, 3, 6, 8)))
    x = inputs(generator, 2, 3, 4, 4)
    tensors.update(layer_values("leaky", nn.LeakyReLU(0.2), x, inputs(generator, 2, 3, 4, 4)))

    bn = nn.BatchNorm2d(1, affine=True).double()
    weight, bias = inputs(generator, 1) + 1, inputs(generator, 1)
    with torch.no_grad():
        bn.weight.copy_(weight.double())
        bn.bias.copy_(bias.double())
    x, dy = inputs(generator, 4, 1, 5, 5) * 2 + 0.5, inputs(generator, 4, 1, 5, 5)
    tensors.update(layer_values("bn1", bn.train(), x, dy))
    tensors.update({
        "bn1_weight": weight, "bn1_bias": bias, "bn1_dweight": bn.weight.grad, "bn1_dbias": bn.bias.grad,
        "bn1_running_mean": bn.running_mean, "bn1_running_var": bn.running_var,
    })

    student32, teacher32 = inputs(generator, 3, 4, 5, 5), inputs(generator, 3, 4, 5, 5)
    student = student32.double().requires_grad_()

    def attention(features):
        return F.normalize(features.pow(2).mean(1).view(features.size(0), -1))

    loss = (attention(student) - attention(teacher32.double())).pow(2).mean()
    loss.backward()
    tensors.update({
        "at_student": student32, "at_teacher": teacher32, "at_loss": loss.detach().reshape(1),
        "at_dstudent": student.grad,
    })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: value.detach().float().contiguous() for name, value in tensors.items()}, str(OUT))
    print(f"wrote {OUT} ({len(tensors)} tensors, torch {torch.__version__})")


if __name__ == "__main__":
    main()
