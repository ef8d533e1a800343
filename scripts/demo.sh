#!/usr/bin/env bash
# The main job end to end on this machine: install, build, train the original fmnist-cnn on FashionMNIST
# and evaluate it. Outputs go to ./out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product lethe
lethe=$(swift build -c release --show-bin-path)/lethe
mkdir -p out
"$lethe" --version
"$lethe" train --model fmnist-cnn --data fashion-mnist --epochs 5 --batch-size 128 --lr 0.01 --momentum 0.9 \
    --weight-decay 5e-4 --seed 1 --out out/original.safetensors
"$lethe" eval --model fmnist-cnn --weights out/original.safetensors --data fashion-mnist --split test
"$lethe" eval --model fmnist-cnn --weights out/original.safetensors --data fashion-mnist --split test --format json \
    > out/original-eval.json
echo "wrote out/original.safetensors and out/original-eval.json"
