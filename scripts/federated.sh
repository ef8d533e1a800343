#!/usr/bin/env bash
# Federated forgetting end to end on this machine: a coordinator and 10 client processes on loopback with CURVE
# keys, each holding a Dirichlet(0.5) partition of FashionMNIST (client-10's poisoned with a backdoor); FedAvg
# trains fmnist-cnn, then client-10 is forgotten with ConDa (no client data) and, for comparison, by federated
# retraining without it. Reports go to out/federated/ (out/federated-seedS/ for SEED=S other than 1).
# Settings: ROUNDS, LOCAL_EPOCHS, CLIENTS, SEED (of the split, the backdoor and the job), CONDA_PARAMS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product lethe
lethe=$(swift build -c release --show-bin-path)/lethe
rounds=${ROUNDS:-20}
local_epochs=${LOCAL_EPOCHS:-1}
clients=${CLIENTS:-10}
backdoor=target:0,patch:3
seed=${SEED:-1}
out=out/federated$([ "$seed" = 1 ] || echo "-seed$seed")
workers_endpoint=${LETHE_WORKERS_ENDPOINT:-tcp://127.0.0.1:7710}
export LETHE_COORDINATOR=${LETHE_COORDINATOR:-tcp://127.0.0.1:7711}
export LETHE_KEYS=$out/keys
mkdir -p "$out"
rm -rf "$out/state"
[ -f "$LETHE_KEYS/coordinator.secret" ] || "$lethe" keys init "$LETHE_KEYS" >/dev/null
for k in $(seq 1 "$clients"); do
    [ -f "$LETHE_KEYS/clients/client-$k.secret" ] || "$lethe" keys add-client --keys "$LETHE_KEYS" "client-$k" >/dev/null
done

daemons=()
trap 'kill "${daemons[@]}" 2>/dev/null || true' EXIT
"$lethe" coordinator --bind "$workers_endpoint" --control "$LETHE_COORDINATOR" --state-dir "$out/state" \
    2>"$out/coordinator.log" &
daemons+=($!)
for k in $(seq 1 "$clients"); do
    poison=()
    [ "$k" = "$clients" ] && poison=(--backdoor "fraction:0.1,$backdoor")
    "$lethe" client --coordinator "$workers_endpoint" --name "client-$k" --partition "$k/$clients" \
        --split dirichlet:0.5 --seed "$seed" --threads 1 "${poison[@]}" 2>"$out/client-$k.log" &
    daemons+=($!)
done

job=$("$lethe" submit --federated --model fmnist-cnn --data fashion-mnist --rounds "$rounds" \
    --local-epochs "$local_epochs" --clients "$clients" --param "backdoor=$backdoor" --seed "$seed")
echo "federated training $job: $rounds rounds with $clients clients"
"$lethe" watch "$job" >/dev/null
"$lethe" result "$job" --out "$out/global.safetensors" --report "$out/training.json" --html "$out/training.html"
"$lethe" workers
"$lethe" forget-client "$job" --client "client-$clients" --method conda ${CONDA_PARAMS:+--param "$CONDA_PARAMS"} \
    --param "backdoor=$backdoor" --out "$out/conda.safetensors" --report "$out/conda.json" --html "$out/conda.html"
"$lethe" forget-client "$job" --client "client-$clients" --method retrain --param "backdoor=$backdoor" \
    --out "$out/retrain.safetensors" --report "$out/retrain.json" --html "$out/retrain.html"
echo "reports in $out/ (training, conda, retrain: .json and .html); daemon logs there too"
