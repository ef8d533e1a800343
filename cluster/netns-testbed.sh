#!/usr/bin/env bash
# A small multi-host test bed on one machine: a coordinator and N workers, each in its own Linux network
# namespace with a private address (10.77.0.0/24 on a bridge that exists only inside the test bed), CURVE keys,
# real TCP between "hosts". Submits a SCRUB job from the coordinator's host, watches it and checks that the
# result has the same sha256 as `lethe unlearn` in one process. Needs root and iproute2.
#   cluster/netns-testbed.sh [WORKERS]        (default 2; LETHE=path/to/lethe, WORK=scratch dir)
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
if [ ! -f "$work/original.safetensors" ]; then
    "$lethe" train --model fmnist-mlp --epochs 1 --seed 1 --out "$work/original.safetensors" 2>"$work/train.log"
fi

# Daemons start with `ip netns exec` directly (not through a function), so $! is the daemon itself.
ip netns exec "${namespaces[1]}" "$lethe" coordinator --bind tcp://10.77.0.1:7700 --control tcp://127.0.0.1:7701 \
    --state-dir "$work/state" 2>"$work/coordinator.log" &
pids+=($!)
for index in $(seq 1 "$workers"); do
    ip netns exec "${namespaces[$((index + 1))]}" "$lethe" worker --coordinator tcp://10.77.0.1:7700 --name "host-$index" \
        --threads 1 --cache-dir "$work/cache-$index" 2>"$work/worker-$index.log" &
    pids+=($!)
done
sleep 1

request=(--method scrub --model fmnist-mlp --weights "$work/original.safetensors" --forget-classes 0 --seed 1
    --shards "$workers")
job=$(in_ns "${namespaces[1]}" "$lethe" submit "${request[@]}")
echo "submitted $job"
in_ns "${namespaces[1]}" "$lethe" workers
in_ns "${namespaces[1]}" "$lethe" watch "$job" >/dev/null
remote=$(in_ns "${namespaces[1]}" "$lethe" result "$job" --out "$work/remote.safetensors" --format json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["output_sha256"])')
local_sha=$("$lethe" unlearn "${request[@]}" --out "$work/local.safetensors" --format json 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["output_sha256"])')
echo "across namespaces: $remote"
echo "in one process:    $local_sha"
[ "$remote" = "$local_sha" ] && echo "same bits" || { echo "bits differ" >&2; exit 1; }
