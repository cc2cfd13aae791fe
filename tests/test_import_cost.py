"""Importing the library loads no provider service package; a program loads the ones it uses.

pulumi-alicloud registers its ~150 service packages lazily, and each one it executes costs
import time. Checked in fresh interpreters, since this process has loaded everything by now.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT

#: pulumi-alicloud service packages that have executed, not merely been registered lazily.
EXECUTED = (
    "sorted(m.split('.')[1] for m, v in list(sys.modules.items()) "
    "if m.startswith('pulumi_alicloud.') and m.count('.') == 1 "
    "and type(v).__name__ == 'module' and hasattr(v, '__path__'))"
)


def _python(code: str) -> object:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys, json\n{code}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_library_executes_no_provider_service_package() -> None:
    assert _python(f"import components\nprint(json.dumps({EXECUTED}))") == []


def test_a_stack_program_executes_exactly_the_service_packages_it_uses() -> None:
    code = f"""
from pathlib import Path
from components.preview import find_project, run_stack
run = run_stack(find_project(Path('.')), 'managed-prod', preview=True)
tokens = [r.type for r in run.resources] + run.invokes
used = sorted({{t.split(':')[1].split('/')[0] for t in tokens if t.startswith('alicloud:')}})
print(json.dumps({{'executed': {EXECUTED}, 'used': used}}))
"""
    found = _python(code)
    assert isinstance(found, dict)
    assert found["executed"] == found["used"] == ["cs", "ecs", "ram", "slb", "vpc"]
