#!/usr/bin/env bash
# A small multi-host test bed on one machine: a coordinator and N workers, each in its own Linux network
# namespace with a private address (10.77.0.0/24 on a bridge that exists only inside the test bed), CURVE keys,
# real TCP between "hosts". Submits a SCRUB job from the coordinator's host, watches it and checks that the
# result has the same sha256 as `lethe unlearn` in one process. Needs root and iproute2.
#   cluster/netns-testbed.sh [WORKERS]        (default 2; LETHE=path/to/lethe, WORK=scratch dir)
# Link rates: RATES="unlimited 1gbit 200mbit" shapes every host's link (tc tbf on each namespace's eth0, both
# directions through the bridge) to each rate in turn, runs the job at each and prints a JSON line with the time
# per step against the same request in one process. MODEL, WEIGHTS (default: 1 epoch of MODEL), METHOD
# (default scrub; e.g. MODEL=fmnist-cnn METHOD=neggrad+) and PARAMS (method parameters, e.g.
# PARAMS="pseudo-batches=2 checkpoint-every=1" with METHOD=gkt) choose the job; PART_SIZE is the coordinator's
# --part-size (0: weights and gradients travel whole, as before session 19).
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-2}
lethe=${LETHE:-$(swift build -c release --show-bin-path)/lethe}
[ -x "$lethe" ] || swift build -c release --product lethe
work=${WORK:-$(mktemp -d /tmp/lethe-testbed.XXXXXX)}
prefix=lethe-tb-$$
namespaces=("$prefix-bridge" "$prefix-coord")
for index in $(seq 1 "$workers"); do namespaces+=("$prefix-w$index"); done
pids=()

cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    for namespace in "${namespaces[@]}"; do ip netns delete "$namespace" 2>/dev/null || true; done
}
trap cleanup EXIT

# The bridge lives in its own namespace, so nothing of the test bed touches the host's network.
ip netns add "${namespaces[0]}"
ip -n "${namespaces[0]}" link add br0 type bridge
ip -n "${namespaces[0]}" link set br0 up
address=1
for namespace in "${namespaces[@]:1}"; do
    ip netns add "$namespace"
    ip link add veth-$address type veth peer name eth0 netns "$namespace"
    ip link set veth-$address netns "${namespaces[0]}"
    ip -n "${namespaces[0]}" link set veth-$address master br0 up
    ip -n "$namespace" addr add 10.77.0.$address/24 dev eth0
    ip -n "$namespace" link set eth0 up
    ip -n "$namespace" link set lo up
    address=$((address + 1))
done
echo "test bed: coordinator 10.77.0.1, workers 10.77.0.2-10.77.0.$((workers + 1)) (scratch $work)"

in_ns() { local namespace=$1; shift; ip netns exec "$namespace" "$@"; }
[ -f "$work/keys/coordinator.secret" ] || "$lethe" keys init "$work/keys" >/dev/null
export LETHE_KEYS=$work/keys LETHE_COORDINATOR=tcp://127.0.0.1:7701
model=${MODEL:-fmnist-mlp}
method=${METHOD:-scrub}
weights=${WEIGHTS:-$work/original.safetensors}
if [ ! -f "$weights" ]; then
    "$lethe" train --model "$model" --epochs 1 --seed 1 --out "$weights" 2>"$work/train.log"
fi

# Daemons start with `ip netns exec` directly (not through a function), so $! is the daemon itself.
ip netns exec "${namespaces[1]}" "$lethe" coordinator --bind tcp://10.77.0.1:7700 --control tcp://127.0.0.1:7701 \
    --state-dir "$work/state" ${PART_SIZE:+--part-size "$PART_SIZE"} 2>"$work/coordinator.log" &
pids+=($!)
for index in $(seq 1 "$workers"); do
    ip netns exec "${namespaces[$((index + 1))]}" "$lethe" worker --coordinator tcp://10.77.0.1:7700 --name "host-$index" \
        --threads 1 --cache-dir "$work/cache-$index" 2>"$work/worker-$index.log" &
    pids+=($!)
done
sleep 1

request=(--method "$method" --model "$model" --weights "$weights" --forget-classes 0 --seed 1 --shards "$workers")
for param in ${PARAMS:-}; do request+=(--param "$param"); done
in_ns "${namespaces[1]}" "$lethe" workers

# Milliseconds per step of a report (its phases' seconds over their steps) and its output sha256.
step_ms() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); p = [x for x in r["phases"] if x["steps"]]
print("%.1f %s" % (1000 * sum(x["seconds"] for x in p) / sum(x["steps"] for x in p), r["output_sha256"]))' "$1"; }

"$lethe" unlearn "${request[@]}" --keep-failed --out "$work/local.safetensors" --report "$work/local.json" \
    >/dev/null 2>"$work/local.log" || true
read -r local_ms local_sha < <(step_ms "$work/local.json")
echo "in one process:    $local_sha ($local_ms ms per step)"

# Shapes every host's egress (so each direction of each link) to `rate`; "unlimited" removes the shaping.
shape_links() {
    local rate=$1 namespace
    for namespace in "${namespaces[@]:1}"; do
        if [ "$rate" = unlimited ]; then
            ip netns exec "$namespace" tc qdisc del dev eth0 root 2>/dev/null || true
        else
            ip netns exec "$namespace" tc qdisc replace dev eth0 root tbf rate "$rate" burst 1mb latency 200ms
        fi
    done
}

status=0
for rate in ${RATES:-unlimited}; do
    shape_links "$rate"
    job=$(in_ns "${namespaces[1]}" "$lethe" submit "${request[@]}" --keep-failed)
    echo "submitted $job (links: $rate)"
    in_ns "${namespaces[1]}" "$lethe" watch "$job" >/dev/null || true
    in_ns "${namespaces[1]}" "$lethe" result "$job" --out "$work/remote-$rate.safetensors" --report "$work/remote-$rate.json" \
        >/dev/null || true
    read -r remote_ms remote_sha < <(step_ms "$work/remote-$rate.json")
    echo "across namespaces: $remote_sha ($remote_ms ms per step)"
    same=false
    [ "$remote_sha" = "$local_sha" ] && same=true || status=1
    printf '{"links": "%s", "workers": %d, "method": "%s", "model": "%s", "step_ms": %s, "local_step_ms": %s, "same_bits": %s}\n' \
        "$rate" "$workers" "$method" "$model" "$remote_ms" "$local_ms" "$same"
done
shape_links unlimited
[ $status = 0 ] && echo "same bits" || { echo "bits differ" >&2; exit 1; }
