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

# Issue 29's proofs, on a program of the user's own in a git repository of its own.
own="$work/own"
mkdir -p "$own"
cd "$own"
cat > Pulumi.yaml <<'YAML'
name: own
runtime: python
YAML
printf 'config:\n  alicloud:region: cn-hangzhou\n  own:password: Sup3r-Secret!\n' > Pulumi.dev.yaml
cat > __main__.py <<'PY'
import pulumi
from ack_clusters import ManagedCluster

pool = {
    "instance_types": ["ecs.g7.large"],
    "desired_size": 2,
    "password": pulumi.Config().require_secret("password"),
    "auto_repair": False,
    "auto_upgrade": False,
}
ManagedCluster(
    "shop",
    {
        "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
        "service_cidr": "172.16.0.0/20",
        "node_pools": {"web": pool},
    },
)
PY
# A secret password from config is taken, and never printed.
ack-preview dev --json > out.json
if grep -q 'Sup3r-Secret' out.json; then echo 'the secret password was printed' >&2; exit 1; fi
# A region typo in the stack's config, in a program written in code: refused with the fix.
printf 'config:\n  alicloud:region: cn-hangzou\n  own:password: Sup3r-Secret!\n' > Pulumi.typo.yaml
set +e
ack-preview typo > /dev/null 2> typo.err
rc=$?
set -e
{ [ "$rc" -eq 2 ] && grep -q "did you mean 'cn-hangzhou'" typo.err; } || { echo "region typo: exit $rc" >&2; exit 1; }
rm Pulumi.typo.yaml
# --diff HEAD on a code change: the cluster's service CIDR (ForceNew) is a guarded replacement.
git init -q . && git add -A && git -c user.name=u -c user.email=u@example.com commit -qm base
sed -i.bak 's#172.16.0.0/20#172.22.0.0/20#' __main__.py && rm __main__.py.bak
set +e
ack-preview dev --diff HEAD > diff.txt 2>&1
rc=$?
set -e
{ [ "$rc" -eq 3 ] && grep -q "serviceCidr" diff.txt; } || { echo "--diff HEAD: exit $rc" >&2; exit 1; }
echo "from-a-wheel: the wheel installs, the user's tests pass, the gate runs from the package;"
echo "a secret password is taken, a region typo refused, a code change diffed against HEAD"
