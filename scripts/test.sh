#!/usr/bin/env bash
# Installs what is needed, checks formatting and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/lint.sh
scripts/gen-proto.sh --check
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/test.log
