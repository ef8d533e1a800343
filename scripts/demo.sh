#!/usr/bin/env bash
# The main job end to end on this machine: install, build, train the original fmnist-cnn on FashionMNIST,
# make it forget class 0 (T-shirt/top) with SCRUB, and report the metrics before and after. Outputs go to ./out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product lethe
lethe=$(swift build -c release --show-bin-path)/lethe
mkdir -p out
"$lethe" --version
[ -f out/original.safetensors ] || "$lethe" train --model fmnist-cnn --data fashion-mnist --epochs 5 --batch-size 128 \
    --lr 0.01 --momentum 0.9 --weight-decay 5e-4 --seed 1 --out out/original.safetensors
"$lethe" unlearn --method scrub --model fmnist-cnn --weights out/original.safetensors --data fashion-mnist \
    --forget-classes 0 --seed 1 --out out/unlearned.safetensors --report out/report.json --html out/report.html
echo "wrote out/original.safetensors, out/unlearned.safetensors, out/report.json and out/report.html"
