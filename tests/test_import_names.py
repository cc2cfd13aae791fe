"""The library's import names cannot collide with a user's own `components/` folder, and the old
name keeps working, with a warning, for one release.

Each case runs in a fresh interpreter: which module a name resolves to depends on what a process
imported before, which a test inside this process cannot control.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import ACK_PREVIEW, ROOT

OUR_WARNING = "the import name 'components' is deprecated"


def _python(code: str, *, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "default::DeprecationWarning", "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _user_project(tmp_path: Path) -> Path:
    """A Pulumi project that keeps its own code in `components/`, as many do."""
    (tmp_path / "Pulumi.yaml").write_text("name: mine\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  alicloud:region: cn-hangzhou\n")
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "__init__.py").write_text("POOL_SIZE = 2\n")
    (tmp_path / "__main__.py").write_text(
        textwrap.dedent(
            """
            import pulumi
            from components import POOL_SIZE
            from ack_clusters import ManagedCluster

            ManagedCluster("mine", {
                "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
                "node_pools": {"app": {
                    "instance_types": ["ecs.g7.large"],
                    "desired_size": POOL_SIZE,
                    "key_name": "ops",
                }},
            })
            pulumi.export("pool_size", POOL_SIZE)
            """
        )
    )
    return tmp_path


def test_a_users_own_components_folder_works_under_ack_preview(tmp_path):
    project = _user_project(tmp_path)
    done = subprocess.run(
        [*ACK_PREVIEW, "dev", "--json", "--program", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    graph = json.loads(done.stdout)
    assert graph["outputs"] == {"pool_size": 2}
    (pool,) = [r for r in graph["resources"] if r["type"] == "alicloud:cs/nodePool:NodePool"]
    assert pool["inputs"]["desiredSize"] == "2"


@pytest.mark.heavy
def test_the_engine_and_the_stack_program_never_import_the_old_name():
    done = _python(
        """
        import sys
        from ack_offline.project import find_project, run_stack
        from pathlib import Path
        for stack in find_project(Path.cwd()).stacks():
            run_stack(find_project(Path.cwd()), stack, preview=True)
        print(sorted(m for m in sys.modules if m == "components" or m.startswith("components.")))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert OUR_WARNING not in done.stderr


def test_old_imports_keep_working_and_warn_once():
    done = _python(
        """
        import ack_clusters, ack_clusters.testing, ack_clusters.program, ack_offline.stability
        from components import ManagedCluster, InvalidArguments, tune_gc, ClusterArgs
        assert ClusterArgs is ack_clusters.ManagedControlPlaneArgs
        from components.testing import FakeAlibabaCloud, run_program
        from components.testing.stability import create_only_changes
        from components.program import main
        from components.preview import main as ack_preview, find_project, run_stack, to_json
        import ack_offline.preview, ack_offline.project
        assert ack_preview is ack_offline.preview.main
        assert run_stack is ack_offline.project.run_stack
        assert ManagedCluster is ack_clusters.ManagedCluster
        assert FakeAlibabaCloud is ack_clusters.testing.FakeAlibabaCloud
        assert create_only_changes is ack_offline.stability.create_only_changes
        assert main is ack_clusters.program.main
        """
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if OUR_WARNING in line]
    assert len(warnings) == 1, done.stderr
    # Attributed to the line that imports the old name, so users find it.
    assert warnings[0].startswith("<string>:3: DeprecationWarning"), warnings[0]
