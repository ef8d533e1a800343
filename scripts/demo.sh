#!/usr/bin/env bash
# The main job end to end on this machine: install, build, train the original fmnist-cnn on FashionMNIST, then
# start a real coordinator and two worker processes on loopback with CURVE keys, submit a SCRUB job that makes
# the model forget class 0 (T-shirt/top), watch it, print the report, and verify the job's signed certificate by
# replaying it locally to the same bits. Outputs go to ./out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product lethe
lethe=$(swift build -c release --show-bin-path)/lethe
workers_endpoint=${LETHE_WORKERS_ENDPOINT:-tcp://127.0.0.1:7700}
export LETHE_COORDINATOR=${LETHE_COORDINATOR:-tcp://127.0.0.1:7701}
export LETHE_KEYS=out/cluster/keys
mkdir -p out/cluster
"$lethe" --version
[ -f out/original.safetensors ] || "$lethe" train --model fmnist-cnn --data fashion-mnist --epochs 5 --batch-size 128 \
    --lr 0.01 --momentum 0.9 --weight-decay 5e-4 --seed 1 --out out/original.safetensors
# Keys from before signing keys existed lack signing.key: the demo's keys are its own, so make a complete set.
[ -f "$LETHE_KEYS/signing.key" ] || { rm -rf "$LETHE_KEYS" && "$lethe" keys init "$LETHE_KEYS"; }

daemons=()
trap 'kill "${daemons[@]}" 2>/dev/null || true' EXIT
"$lethe" coordinator --bind "$workers_endpoint" --control "$LETHE_COORDINATOR" --state-dir out/cluster/state \
    2>out/cluster/coordinator.log &
daemons+=($!)
for name in worker-1 worker-2; do
    "$lethe" worker --coordinator "$workers_endpoint" --name "$name" --threads 1 --cache-dir "out/cluster/$name" \
        2>"out/cluster/$name.log" &
    daemons+=($!)
done

job=$("$lethe" submit --method scrub --model fmnist-cnn --weights out/original.safetensors --data fashion-mnist \
    --forget-classes 0 --seed 1 --shards 2)
echo "submitted $job to the coordinator at $LETHE_COORDINATOR"
sleep 1 && "$lethe" workers
"$lethe" watch "$job"
"$lethe" result "$job" --out out/unlearned.safetensors --report out/report.json --html out/report.html \
    --certificate out/certificate.json
echo "wrote out/unlearned.safetensors, out/report.json, out/report.html and out/certificate.json (daemon logs in out/cluster/)"
# Anyone with the coordinator's public key can check the certificate, and replay the job here to the same bits.
"$lethe" certificate verify out/certificate.json --public-key "$LETHE_KEYS/signing.pub" \
    --weights out/unlearned.safetensors --replay --weights-in out/original.safetensors --data fashion-mnist
