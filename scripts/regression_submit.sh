#!/usr/bin/env bash
# blindspot through `lethe submit` on a real coordinator and two worker processes (loopback, CURVE keys), then the
# same job locally: both must give the same sha256. Needs the seed-1 original of scripts/regression_results.sh.
#   scripts/regression_submit.sh [OUT_DIR]     (default: out/regression; LETHE=path to a built lethe)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/regression}
lethe=${LETHE:-.build/release/lethe}
cluster=$out/cluster
workers_endpoint=${LETHE_WORKERS_ENDPOINT:-tcp://127.0.0.1:7710}
export LETHE_COORDINATOR=${LETHE_COORDINATOR:-tcp://127.0.0.1:7711}
export LETHE_KEYS=$cluster/keys
mkdir -p "$cluster"
[ -f "$LETHE_KEYS/signing.key" ] || "$lethe" keys init "$LETHE_KEYS"
job_args=(--method blindspot --model fmnist-cnn:regression=1 --data fashion-mnist-rotation
    --weights "$out/original-1.safetensors" --forget-targets 0.5...1 --seed 1 --shards 2 --keep-failed)

daemons=()
trap 'kill "${daemons[@]}" 2>/dev/null || true' EXIT
"$lethe" coordinator --bind "$workers_endpoint" --control "$LETHE_COORDINATOR" --state-dir "$cluster/state" \
    2>"$cluster/coordinator.log" &
daemons+=($!)
for name in worker-1 worker-2; do
    "$lethe" worker --coordinator "$workers_endpoint" --name "$name" --threads 1 --cache-dir "$cluster/$name" \
        2>"$cluster/$name.log" &
    daemons+=($!)
done
job=$("$lethe" submit "${job_args[@]}")
echo "submitted $job"
# Without a --reference retrain the verdict can only miss (retain/test budget); keep-failed keeps the weights.
"$lethe" watch "$job" || true
"$lethe" result "$job" --out "$out/blindspot-submitted.safetensors" --report "$out/blindspot-submitted.json" || true
"$lethe" unlearn "${job_args[@]}" --out "$out/blindspot-local.safetensors" --report "$out/blindspot-local.json" || true
sha256sum "$out/blindspot-submitted.safetensors" "$out/blindspot-local.safetensors"
