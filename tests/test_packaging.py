"""What a user who pip-installs the library gets: the policy pack and its rules, a command
that writes the pack where `pulumi --policy-pack` can use it, and the license."""

from __future__ import annotations

import re
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from ack_offline.preview import main as ack_preview
from ack_policies import install

from .conftest import PACK_DIR, ROOT


def test_the_packaged_pack_is_the_repositorys():
    for name in install.FILES:
        packaged = ROOT / "components" / "ack_policies" / "pack" / name
        assert packaged.read_text() == (PACK_DIR / name).read_text(), name


def test_the_distribution_ships_the_rules_the_pack_and_the_license():
    meta = metadata.metadata("pulumi-ack-clusters")
    assert "policy" in (meta.get_all("Provides-Extra") or [])
    requires = meta.get_all("Requires-Dist") or []
    assert any("pulumi-policy" in r and 'extra == "policy"' in r for r in requires)
    assert "LICENSE" in (meta.get_all("License-File") or [])
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")}
    assert scripts["ack-policy-pack"] == "ack_policies.install:main"
    # The rules and the pack's files are in the wheel: found under components/, with the
    # pack's files as package data.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'include = \[[^]]*"ack_policies\*"', pyproject)
    assert re.search(r'ack_policies = \["pack/\*"\]', pyproject)


def test_ack_policy_pack_writes_a_pack_the_gate_runs(tmp_path, capsys):
    pack = tmp_path / "pack"
    assert install.main([str(pack)]) == 0
    assert sorted(p.name for p in pack.iterdir()) == [
        ".gitignore",
        "PulumiPolicy.yaml",
        "__main__.py",
        "ack_policies",
        "requirements.txt",
    ]
    # The rules travel with the pack (tests/test_pack_install.py installs it from scratch).
    required = [
        line
        for line in (pack / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert not [line for line in required if "ack-clusters" in line], required
    capsys.readouterr()
    assert ack_preview(["managed-dev", "--program", str(ROOT), "--policy-pack", str(pack)]) == 0
    assert "Policy" in capsys.readouterr().out
    # Writing again is harmless; a folder holding something else is refused.
    assert install.main([str(pack)]) == 0
    (pack / "__main__.py").write_text("# mine\n")
    assert install.main([str(pack)]) == 2


EXAMPLE = ROOT / "examples" / "from-a-wheel"


def test_the_from_a_wheel_example_passes_the_checked_engine_and_the_gate(capsys):
    for mode in ("preview", "update"):
        args = ["dev", "--program", str(EXAMPLE), "--mode", mode, "--policy-pack", str(PACK_DIR)]
        assert ack_preview(args) == 0, capsys.readouterr().err


def test_the_from_a_wheel_examples_own_tests_pass():
    """The user's unit tests in the example, run as pytest would run them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "from_a_wheel_tests", EXAMPLE / "tests" / "test_clusters.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [getattr(module, n) for n in dir(module) if n.startswith("test_")]
    assert tests
    for test in tests:
        test()


def _lower_bounds() -> dict[str, Version]:
    """Each runtime requirement's `>=` (or `==`) bound, from pyproject.toml's dependencies and
    the policy extra (read with a pattern: tomllib is 3.11+, and the lowest job runs on 3.10)."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    bounds: dict[str, Version] = {}
    for block in ("dependencies", "policy"):
        m = re.search(rf"^{block} = \[(.*?)\]$", pyproject, re.M | re.S)
        assert m is not None, block
        code = re.sub(r"#.*", "", m[1])
        for text in re.findall(r'"([^"]+)"', code):
            req = Requirement(text)
            # An exact pin (pulumi-policy: the release the pack was checked against) is its own
            # lower bound.
            lower = [s.version for s in req.specifier if s.operator in (">=", "==")]
            assert lower, f"{req.name} has no lower bound"
            bounds[canonicalize_name(req.name)] = Version(lower[0])
    return bounds


def test_the_lowest_job_pins_every_dependency_at_its_lower_bound():
    """`.ci/run --lowest` tests the bounds pyproject.toml claims, no more and no less."""
    pins: dict[str, Version] = {}
    for line in (ROOT / ".ci" / "lowest.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    bounds = _lower_bounds()
    assert {"pulumi", "pulumi-alicloud", "pydantic", "pulumi-policy"} <= bounds.keys()
    assert pins == bounds
