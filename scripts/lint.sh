#!/usr/bin/env bash
# Fails on any swift-format lint finding (configuration in .swift-format).
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive --parallel Package.swift Sources Tests
