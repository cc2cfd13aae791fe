#!/usr/bin/env bash
# The flow a new user follows, from the built wheel in a fresh virtualenv outside the checkout:
# install the library with its policy extra, run this project's own unit tests with the library's
# testing helpers, preview the two-cluster program offline, and gate it with the policy pack
# written from the installed package. Run from the repository root: bash examples/from-a-wheel/try.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" "$repo"
python3 -m venv "$work/venv"
. "$work/venv/bin/activate"
pip install --quiet "$(ls "$work"/dist/*.whl)[policy]" pytest

cp -r "$repo/examples/from-a-wheel" "$work/infra"
cd "$work/infra"
python -m pytest -q -p no:cacheprovider tests
ack-preview dev > /dev/null
ack-policy-pack "$work/pack"
# The pack's own virtualenv, made as the Pulumi CLI makes it (PulumiPolicy.yaml names `venv`),
# from its requirements.txt alone: public packages, the rules are in the pack's folder.
python3 -m venv "$work/pack/venv"
"$work/pack/venv/bin/python" -m pip install --quiet -r "$work/pack/requirements.txt"
ack-preview dev --policy-pack "$work/pack"
echo "from-a-wheel: the wheel installs, the user's tests pass, the gate runs from the package"
