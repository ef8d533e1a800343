#!/usr/bin/env bash
# Regenerates the committed protobuf-c code from proto/ (needs protoc-c from Debian's protobuf-c-compiler):
# Sources/LetheProtoC from proto/lethe.proto and Sources/ONNXProtoC from proto/onnx.proto.
# `scripts/gen-proto.sh --check` fails if the committed code is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
for pair in lethe:LetheProtoC onnx:ONNXProtoC; do
    name=${pair%%:*}
    target=Sources/${pair#*:}
    protoc-c --proto_path=proto --c_out="$scratch" "proto/$name.proto"
    if [ "${1:-}" = --check ]; then
        diff -u "$target/$name.pb-c.c" "$scratch/$name.pb-c.c" && diff -u "$target/include/$name.pb-c.h" "$scratch/$name.pb-c.h" \
            || { echo "error: $target is stale; run scripts/gen-proto.sh and commit" >&2; status=1; }
        continue
    fi
    mkdir -p "$target/include"
    cp "$scratch/$name.pb-c.c" "$target/$name.pb-c.c"
    cp "$scratch/$name.pb-c.h" "$target/include/$name.pb-c.h"
done
exit $status
