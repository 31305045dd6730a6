#!/usr/bin/env bash
# Installs what skiff needs on a fresh Debian or Ubuntu machine, then its npm
# dependencies (which pin Node 24). Run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
packages=(nodejs npm iproute2 util-linux ca-certificates)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ! command -v npm >/dev/null 2>&1 || [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup.sh: note: kubectl is not installed; the end-to-end tests and the README's examples use it" >&2
fi
