#!/usr/bin/env bash
# Regenerates the committed protobuf-c code in Sources/LetheProtoC from proto/lethe.proto (needs protoc-c from
# Debian's protobuf-c-compiler). `scripts/gen-proto.sh --check` fails if the committed code is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
target=Sources/LetheProtoC
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
protoc-c --proto_path=proto --c_out="$scratch" proto/lethe.proto
if [ "${1:-}" = --check ]; then
    diff -u "$target/lethe.pb-c.c" "$scratch/lethe.pb-c.c" && diff -u "$target/include/lethe.pb-c.h" "$scratch/lethe.pb-c.h" \
        || { echo "error: Sources/LetheProtoC is stale; run scripts/gen-proto.sh and commit" >&2; exit 1; }
    exit 0
fi
mkdir -p "$target/include"
cp "$scratch/lethe.pb-c.c" "$target/lethe.pb-c.c"
cp "$scratch/lethe.pb-c.h" "$target/include/lethe.pb-c.h"
