#!/usr/bin/env bash
# check-workflows.sh: actionlint over every GitHub Actions workflow of the project and its
# examples; a workflow using the root action (`uses: ./`) also gets its inputs checked against
# action.yml. actionlint is built once from the Go module proxy and cached (build-actionlint.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
actionlint=$(bash test/tools/build-actionlint.sh)
shopt -s nullglob
files=(.github/workflows/*.yml examples/github-actions/*.yml)
(( ${#files[@]} > 0 )) || { echo "check-workflows: no workflow files found" >&2; exit 1; }
"$actionlint" -color=false "${files[@]}"
echo "check-workflows: ${#files[@]} workflow files pass actionlint ($("$actionlint" -version | head -1))"
