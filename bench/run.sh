#!/usr/bin/env bash
# Runs every benchmark and prints their tables (pure ones first; the bed ones need root).
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx bench/plan.ts
node --import tsx bench/probe.ts
node --import tsx bench/deploy.ts
