#!/usr/bin/env bash
# Installs the native libraries and data Lethe needs (Debian 12, as root). Swift 6.1+ must be on PATH.
set -euo pipefail
packages=(libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libopenblas-dev libxsmm-dev zlib1g-dev libdeflate-dev libsqlite3-dev pkg-config dataset-fashion-mnist)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v swift >/dev/null || { echo "error: swift is not on PATH (install Swift 6.1 or newer)" >&2; exit 1; }
