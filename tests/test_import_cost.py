"""Importing the library loads no provider service package; a program loads the ones it uses.

pulumi-alicloud registers its ~150 service packages lazily, and each one it executes costs
import time. Checked in fresh interpreters, since this process has loaded everything by now.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

#: In the fresh interpreter, executed() lists the service packages executed so far.
EXECUTED = "from ack_clusters.testing import executed_service_packages as executed"


def _python(code: str) -> object:
    out = subprocess.run(
        [sys.executable, "-c", f"import json\n{code}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_library_executes_no_provider_service_package() -> None:
    assert _python(f"import ack_clusters\n{EXECUTED}\nprint(json.dumps(executed()))") == []


@pytest.mark.heavy
def test_a_stack_program_executes_exactly_the_service_packages_it_uses() -> None:
    code = f"""
from pathlib import Path
{EXECUTED}
from ack_offline.project import find_project, run_stack
run = run_stack(find_project(Path('.')), 'managed-prod', preview=True)
tokens = [r.type for r in run.resources] + run.invokes
used = sorted({{t.split(':')[1].split('/')[0] for t in tokens if t.startswith('alicloud:')}})
print(json.dumps({{'executed': executed(), 'used': used}}))
"""
    found = _python(code)
    assert isinstance(found, dict)
    assert found["executed"] == found["used"] == ["cs", "ecs", "ram", "slb", "vpc"]
    # ack-fleet's fork server imports them once for every stack (a package missing there is
    # imported again by each stack's process: slower, never wrong).
    from ack_offline.fleet import PRELOAD

    assert {f"pulumi_alicloud.{service}" for service in found["used"]} <= set(PRELOAD)
