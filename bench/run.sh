#!/usr/bin/env bash
# Runs every benchmark and prints their tables (pure ones first; the bed ones need root).
# startup.ts and fleet.ts measure the installed package (npm pack → npm install -g into a temp
# prefix); set MRSK_INSTALLED=<prefix> to reuse one.
set -euo pipefail
cd "$(dirname "$0")/.."
node --import tsx bench/plan.ts
node --import tsx bench/startup.ts
node --import tsx bench/probe.ts
node --import tsx bench/fleet.ts
node --import tsx bench/deploy.ts
node --import tsx bench/timeline.ts
