"""Benchmarks: what the components cost, as ratios measured in one run on one machine.

    python bench/run.py                  # everything but the test suite (about five minutes)
    python bench/run.py --suite          # also time the README's test command (3 runs)
    python bench/run.py --instructions   # also count instructions per stack (about 15 minutes)

Machines here are shared and noisy, so every figure is a median of several interleaved runs and
every target is a ratio of two things measured side by side. Results go to stdout (Markdown) and
bench/results.json. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from pulumi.runtime.proto import analyzer_pb2  # noqa: E402
from replay import cloud_graph, raw_program  # noqa: E402

from ack_clusters.testing import FakeAlibabaCloud, run_program  # noqa: E402
from ack_offline.gate import (  # noqa: E402
    PolicyPackProcess,
    StackContext,
    StartedPacks,
    _describe,
    _stack_request,
    analyze_with,
)
from ack_offline.project import (  # noqa: E402
    find_project,
    load_stack_config,
    run_project,
    run_stack,
)
from ack_offline.recorder import ProgramRun  # noqa: E402

PACK = ROOT / "policies"


def _timed(fn: Callable[[], Any]) -> float:
    gc.collect()  # each run starts from a clean heap, as a program in its own process does
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_time(fn: Callable[[], Any], runs: int) -> float:
    return statistics.median(_timed(fn) for _ in range(runs))


def spread(times: list[float]) -> dict[str, float]:
    """Median, min and max of repeated timings."""
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def load() -> float:
    """The machine's 1-minute load average (what else ran while we measured)."""
    return os.getloadavg()[0]


def interleaved_spread(*fns: Callable[[], Any], runs: int) -> list[dict[str, float]]:
    """Like :func:`interleaved`, keeping each function's median, min and max."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times, strict=True):
            out.append(_timed(fn))
    return [spread(t) for t in times]


def interleaved(*fns: Callable[[], Any], runs: int) -> list[float]:
    """Median times of each function, run in turn so drift in machine load hits them all."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times, strict=True):
            out.append(_timed(fn))
    return [statistics.median(t) for t in times]


def handwritten(recording: ProgramRun, stack: str) -> Callable[[], Any]:
    """The hand-written program for a recording, checked to register the same cloud resources
    with the same inputs, options and dependency edges (in update mode, where all are known)."""
    raw = raw_program(recording)
    replayed = run_program(raw, mock=FakeAlibabaCloud(preview=False), preview=False, stack=stack)
    if cloud_graph(replayed) != cloud_graph(recording):
        raise SystemExit(f"bench: the hand-written program for {stack} builds a different graph")
    if replayed.stack_outputs.keys() != recording.stack_outputs.keys():
        raise SystemExit(f"bench: the hand-written program for {stack} exports different outputs")
    if replayed.invokes != recording.invokes:
        raise SystemExit(f"bench: the hand-written program for {stack} makes different invokes")

    def program() -> Any:
        return run_program(raw, mock=FakeAlibabaCloud(preview=True), preview=True, stack=stack)

    return program


def overhead(runs: int) -> list[dict[str, Any]]:
    """1. Each stack's program against the same graph registered by direct provider calls."""
    project = find_project(ROOT)
    rows = []
    for stack in project.stacks():
        recording = run_stack(project, stack, preview=False)
        by_hand = handwritten(recording, stack)
        # The stack file is parsed once, outside the timing: that stands in for the engine's work,
        # which a hand-written program does not do either.
        config, secrets = load_stack_config(project, stack)

        def components(stack: str = stack, config: Any = config, secrets: Any = secrets) -> Any:
            return run_project(project, stack, config, secrets, preview=True)

        comp_t, raw_t = interleaved(components, by_hand, runs=runs)
        preview = run_stack(project, stack, preview=True)
        rows.append(
            {
                "stack": stack,
                "resources": len(recording.resources),
                "components_s": comp_t,
                "handwritten_s": raw_t,
                "ratio": comp_t / raw_t,
                "invokes_preview": len(preview.invokes),
                "invokes_update": len(recording.invokes),
            }
        )
    return rows


LIB_IMPORT = "import ack_clusters"
#: The SDKs as a program imports them. pulumi-alicloud registers its service packages lazily:
#: `import pulumi_alicloud` executes none of them, the library's import neither.
BASE_IMPORT = "import pulumi, pulumi_alicloud, pulumi_kubernetes"
#: Prints the pulumi-alicloud service packages that have executed (not merely been registered).
EXECUTED = (
    "import json; from ack_clusters.testing import executed_service_packages; "
    "print(json.dumps(executed_service_packages()))"
)
AFTER_A_RUN = (
    "import ack_clusters; from pathlib import Path; from ack_offline.project import "
    "find_project, run_stack; run_stack(find_project(Path('.')), 'managed-prod', preview=True)"
)


def ready(services: list[str]) -> str:
    """What must be loaded before the first resource is declared: the service packages a run
    executes (touching a lazy package's `__all__` executes it) and the Kubernetes kinds."""
    names = ", ".join(services)
    return (
        f"from pulumi_alicloud import {names}; import pulumi_kubernetes.core.v1; "
        f"[getattr(m, '__all__', None) for m in ({names},)]"
    )


def _import_time(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _executed(setup: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{setup}; {EXECUTED}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def imports(runs: int) -> dict[str, Any]:
    """2. Importing the library against importing Pulumi and the provider modules it needs.

    The target compares like with like: both sides end with the same provider modules executed,
    the ones a run of the largest stack executes (the library loads them on first use, a
    hand-written program on import), and both from byte-compiled modules. The bare
    `import ack_clusters` against the bare SDK imports is reported too."""
    # pip byte-compiles a package it installs, as it did the SDKs; an editable checkout on a
    # machine with PYTHONDONTWRITEBYTECODE set would compile the library from source every time.
    compileall.compile_dir(ROOT / "components", quiet=1)
    services = _executed(AFTER_A_RUN)
    statements = {
        "components_ready": f"import ack_clusters; {ready(services)}",
        "baseline_ready": f"import pulumi; {ready(services)}",
        "components": LIB_IMPORT,
        "baseline": BASE_IMPORT,
    }
    times: dict[str, list[float]] = {k: [] for k in statements}
    for _ in range(runs):
        for key, statement in statements.items():
            times[key].append(_import_time(statement))
    t = {k: statistics.median(v) for k, v in times.items()}
    ready_packages = _executed(f"import pulumi; {ready(services)}")
    if ready_packages != services:
        raise SystemExit(f"bench: the baseline executed {ready_packages}, a run {services}")
    return {
        "components_s": t["components_ready"],
        "baseline_s": t["baseline_ready"],
        "ratio": t["components_ready"] / t["baseline_ready"],
        "bare_components_s": t["components"],
        "bare_baseline_s": t["baseline"],
        "bare_ratio": t["components"] / t["baseline"],
        "service_packages_after_import": _executed(LIB_IMPORT),
        "service_packages_after_a_run": services,
    }


def fleet(n: int) -> tuple[Any, dict[str, str]]:
    project = find_project(ROOT / "bench" / "fleet")
    config, _ = load_stack_config(project, f"c{n}")
    return project, config


def scaling(runs: int) -> list[dict[str, Any]]:
    """4. One program with 5, 20 and 50 clusters: time and peak traced memory. Also the same
    program with CPython's default collector settings, and the hand-written replay of each
    fleet (which makes the program's collector call too)."""
    rows = []
    for n in (5, 20, 50):
        project, config = fleet(n)
        stack = f"c{n}"
        by_hand = handwritten(run_stack(project, stack, preview=False), stack)
        default_gc = {**config, "fleet:tune_gc": "false"}

        def components(c: dict[str, str] = config, p: Any = project, s: str = stack) -> Any:
            return run_project(p, s, c, [], preview=True)

        def components_default_gc(
            c: dict[str, str] = default_gc, p: Any = project, s: str = stack
        ) -> Any:
            return run_project(p, s, c, [], preview=True)

        tuned, untuned, hand = interleaved(components, components_default_gc, by_hand, runs=runs)
        gc.collect()
        tracemalloc.start()
        result = components()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "clusters": n,
                "resources": len(result.resources),
                "seconds": tuned,
                "default_gc_seconds": untuned,
                "handwritten_seconds": hand,
                "peak_mib": peak / 2**20,
            }
        )
    return rows


def provider_checks(runs: int) -> list[dict[str, Any]]:
    """6. What checking inputs against the provider's facts costs: each program with the
    checks on and off, interleaved (preview mode, as CI runs it)."""
    import ack_offline.project as project_module

    rows = []
    cases: list[tuple[str, Any, str, dict[str, str]]] = []
    project = find_project(ROOT)
    config, _ = load_stack_config(project, "managed-prod")
    cases.append(("managed-prod", project, "managed-prod", config))
    fleet_project, fleet_config = fleet(50)
    cases.append(("50 clusters", fleet_project, "c50", fleet_config))
    checked_cloud = project_module.FakeAlibabaCloud
    for label, p, stack, c in cases:

        def run_with(check: bool, p: Any = p, stack: str = stack, c: Any = c) -> Any:
            # run_project builds its fake cloud by this module-level name.
            vars(project_module)["FakeAlibabaCloud"] = lambda **kw: checked_cloud(
                check_inputs=check, **kw
            )
            try:
                return run_project(p, stack, c, [], preview=True)
            finally:
                vars(project_module)["FakeAlibabaCloud"] = checked_cloud

        on, off = interleaved(lambda: run_with(True), lambda: run_with(False), runs=runs)
        rows.append(
            {
                "program": label,
                "resources": len(run_with(True).resources),
                "checked_s": on,
                "unchecked_s": off,
                "ratio": on / off,
            }
        )
    return rows


#: A pack with one rule that reports nothing, served like the real one: what the analyzer
#: protocol, pulumi-policy's server and the resource conversions cost on their own.
FLOOR_PACK = """from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

PolicyPack(
    name="floor",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="floor-reports-nothing",
            description="Reports nothing.",
            validate=lambda args, report: None,
        )
    ],
)
"""


def floor_pack(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (folder / "__main__.py").write_text(FLOOR_PACK)
    return folder


def _stack_call(pack: PolicyPackProcess, result: ProgramRun) -> float:
    """Seconds of the AnalyzeStack call of one analysis, its Analyze calls made first."""
    described = list(_describe(result))
    for _, fields in described:
        pack.stub.Analyze(analyzer_pb2.AnalyzeRequest(**fields))
    request = _stack_request(described, result.reads)
    return _timed(lambda: pack.stub.AnalyzeStack(request))


def gate(runs: int) -> dict[str, Any]:
    """5. The gate on the 50-cluster program: analysis throughput and total against preview,
    and the analysis against the protocol floor (a one-rule pack served the same way),
    interleaved in one run."""
    import tempfile

    project, config = fleet(50)
    context = StackContext("fleet", "c50", True, config, {})
    result = run_stack(project, "c50", preview=True)
    pack = PolicyPackProcess(PACK, context)
    with tempfile.TemporaryDirectory() as tmp:
        floor = PolicyPackProcess(floor_pack(Path(tmp) / "floor"), context)
        try:
            pack.configure({}, context)
            floor.configure({}, context)
            load_before = load()
            real_times, floor_times = interleaved_spread(
                lambda: pack.analyze(result), lambda: floor.analyze(result), runs=runs
            )
            load_after = load()
            analysis = real_times["median"]
            # The stack rules' share: the AnalyzeStack call that ends an analysis (after the
            # Analyze calls, whose conversions the pack reuses), timed alone.
            stack_only = statistics.median(_stack_call(pack, result) for _ in range(runs))
        finally:
            pack.close()
            floor.close()

    def gated_preview() -> Any:
        """As ack-preview runs it: the pack starts while the program runs."""
        with StartedPacks([PACK], context) as packs:
            run = run_stack(project, "c50", preview=True)
            return analyze_with(packs.wait(), run, context)

    plain, gated = interleaved(
        lambda: run_stack(project, "c50", preview=True), gated_preview, runs=runs
    )
    return {
        "resources": len(result.resources),
        "analysis": real_times,
        "floor": floor_times,
        # Throughput against the floor's: 1.0 would be a pack that costs nothing but the protocol.
        "of_floor": floor_times["median"] / analysis,
        "load": [load_before, load_after],
        "analysis_s": analysis,
        "resources_per_s": len(result.resources) / analysis,
        "analyze_stack_s": stack_only,
        "per_resource_phase_per_s": len(result.resources) / (analysis - stack_only),
        "preview_s": plain,
        "gate_total_s": gated,
        "ratio": gated / plain,
    }


def _instructions(stack: str, variant: str, runs: int) -> int:
    """Instructions callgrind counts for bench/instructions.py (deterministic: same binary,
    same inputs, fixed hash seed)."""
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            str(ROOT / "bench" / "instructions.py"),
            stack,
            variant,
            str(runs),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    line = next(ln for ln in out.stderr.splitlines() if "Collected" in ln)
    return int(line.split()[-1])


def instructions(runs: int = 3) -> list[dict[str, Any]]:
    """1b. Per-stack overhead as instruction counts (K runs minus 0 runs, per run): the
    wall-clock ratios of programs this small are at this machine's noise floor."""
    rows = []
    for stack in find_project(ROOT).stacks():
        per_run = {}
        for variant in ("components", "handwritten"):
            per_run[variant] = (
                _instructions(stack, variant, runs) - _instructions(stack, variant, 0)
            ) / runs
        rows.append(
            {
                "stack": stack,
                "components_minstr": per_run["components"] / 1e6,
                "handwritten_minstr": per_run["handwritten"] / 1e6,
                "ratio": per_run["components"] / per_run["handwritten"],
            }
        )
    return rows


def _preview_command(checkout: Path | None, stack: str) -> tuple[list[str], dict[str, str], Path]:
    """How to run `ack-preview STACK` from this checkout (its console script) or from another
    checkout of the repository (its code first on the path, started the way its own console
    script started it at the time: `sys.exit(main())`)."""
    env = dict(os.environ)
    if checkout is None:
        script = Path(sys.executable).parent / "ack-preview"
        return [str(script), stack], env, ROOT
    env["PYTHONPATH"] = str(checkout / "components")
    code = "import sys; from ack_offline.preview import main; sys.exit(main())"
    return [sys.executable, "-c", code, stack], env, checkout


def _wall(command: tuple[list[str], dict[str, str], Path], cwd: Path) -> float:
    argv, env, _ = command
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def _tree_rss(pid: int) -> dict[int, int]:
    """Resident memory of `pid` and each of its descendants, in bytes (Linux /proc)."""
    from ack_offline.reaper import descendants

    found = {}
    for member in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[member] = int(line.split()[1]) * 1024
        except OSError:
            continue
    return found


def memory(runs: int) -> dict[str, Any]:
    """10. Peak resident memory of `ack-preview --json --policy-pack policies` (the gate's
    process, the program's and the pack's, sampled every 20 ms) on 50 and 200 clusters, and
    the bytes each further resource costs: the slope between the two."""
    import tempfile

    rows = []
    for n in (50, 200):
        peaks: list[dict[str, float]] = []
        resources = 0
        for _ in range(max(1, runs)):
            argv, env, _ = _preview_command(None, f"c{n}")
            with tempfile.TemporaryFile() as report:
                process = subprocess.Popen(
                    [*argv, "--json", "--policy-pack", str(PACK)],
                    cwd=ROOT / "bench" / "fleet",
                    env=env,
                    stdout=report,
                )
                per_process: dict[int, int] = {}
                total = 0
                while process.poll() is None:
                    sample = _tree_rss(process.pid)
                    total = max(total, sum(sample.values()))
                    for member, rss in sample.items():
                        per_process[member] = max(per_process.get(member, 0), rss)
                    time.sleep(0.02)
                assert process.returncode == 0, f"c{n}: exit {process.returncode}"
                report.seek(0)
                resources = json.loads(report.read())["summary"]["resources"]
            peaks.append(
                {
                    "total_mib": total / 2**20,
                    "gate_mib": per_process.get(process.pid, 0) / 2**20,
                    "largest_other_mib": max(
                        (v for k, v in per_process.items() if k != process.pid), default=0
                    )
                    / 2**20,
                }
            )
        rows.append(
            {
                "clusters": n,
                "resources": resources,
                **{k: statistics.median(p[k] for p in peaks) for k in peaks[0]},
            }
        )
    small, large = rows
    slope = (
        (large["total_mib"] - small["total_mib"])
        * 2**20
        / (large["resources"] - small["resources"])
    )
    return {"rows": rows, "bytes_per_resource": slope}


def engine(runs: int, baseline: str = "492007a") -> dict[str, Any]:
    """8. `ack-preview` as a user runs it, wall clock (a fresh process each time), this
    checkout against BASELINE (a git revision, checked out into a temporary worktree),
    interleaved: managed-dev (a small stack: imports and process start and end dominate) and
    200 clusters (5,800 resources: the engine's per-resource work dominates)."""
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), baseline],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        # Both sides from byte-compiled modules, as an installed package runs (these machines
        # set PYTHONDONTWRITEBYTECODE, so nothing would be cached between runs otherwise).
        for checkout in (base, ROOT):
            compileall.compile_dir(str(checkout / "components"), quiet=1)
        try:
            for label, folder, stack, n in (
                ("managed-dev", Path("."), "managed-dev", runs),
                ("200 clusters", Path("bench/fleet"), "c200", max(3, runs // 3)),
            ):
                # A stack file newer than the baseline (the 200-cluster one) is the same program
                # with another count: give the baseline the same file.
                stack_file = folder / f"Pulumi.{stack}.yaml"
                if (ROOT / stack_file).exists() and not (base / stack_file).exists():
                    (base / stack_file).write_text((ROOT / stack_file).read_text())
                before = _preview_command(base, stack)
                after = _preview_command(None, stack)
                load_before = load()
                times: list[list[float]] = [[], []]
                for _ in range(n):
                    times[0].append(_wall(before, base / folder))
                    times[1].append(_wall(after, ROOT / folder))
                old, new = spread(times[0]), spread(times[1])
                rows.append(
                    {
                        "stack": label,
                        "baseline": old,
                        "now": new,
                        "ratio": new["median"] / old["median"],
                        "runs": n,
                        "load": [load_before, load()],
                    }
                )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True
            )
    return {"baseline": baseline, "rows": rows}


PREVIEW = ("--mode", "preview")


def fleet_gate(runs: int, stacks: int = 50) -> dict[str, Any]:
    """9. `ack-fleet gate` over 50 generated stacks (one small managed cluster each) on 1 and 2
    workers, against running `ack-preview --json --policy-pack` for each stack one after
    another (what a CI shell loop does), in one run."""
    import shutil
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
        (root / "stacks").mkdir()
        shutil.copy(ROOT / "stacks" / "__main__.py", root / "stacks" / "__main__.py")
        for i in range(stacks):
            cluster = {
                "kind": "managed",
                "name": f"c{i:02d}",
                "network": {
                    "zones": ["cn-hangzhou-i", "cn-hangzhou-j"],
                    "vpc_cidr": f"10.{i}.0.0/16",
                },
                "node_pools": {
                    "web": {
                        "instance_types": ["ecs.g7.large"],
                        "desired_size": 2,
                        "key_name": "ops",
                    }
                },
            }
            doc = {"config": {"alicloud:region": "cn-hangzhou", "ack-clusters:cluster": cluster}}
            (root / "stacks" / f"Pulumi.s{i:02d}.yaml").write_text(yaml.safe_dump(doc))
        compileall.compile_dir(str(ROOT / "components"), quiet=1)
        script = Path(sys.executable).parent
        pack = ["--policy-pack", str(PACK)]

        def one_after_another() -> None:
            for i in range(stacks):
                subprocess.run(
                    [str(script / "ack-preview"), f"s{i:02d}", "--json", *pack],
                    cwd=root,
                    capture_output=True,
                    check=False,
                )

        def gate(workers: int) -> Callable[[], Any]:
            return lambda: subprocess.run(
                # Preview only, as each ack-preview of the baseline runs (the gate's default is
                # both modes).
                [str(script / "ack-fleet"), "gate", *pack, "--workers", str(workers), *PREVIEW],
                cwd=root,
                capture_output=True,
                check=False,
            )

        load_before = load()
        seq, one, two = interleaved_spread(one_after_another, gate(1), gate(2), runs=runs)
        return {
            "stacks": stacks,
            "one_after_another": seq,
            "workers_1": one,
            "workers_2": two,
            "ratio_1": one["median"] / seq["median"],
            "ratio_2": two["median"] / seq["median"],
            "load": [load_before, load()],
        }


def suite(runs: int) -> dict[str, Any]:
    """6. The README's test command."""
    command = "ruff check . && ruff format --check . && mypy && pytest -q"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["bash", "-c", command], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--suite", action="store_true", help="also time the test command")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per stack program with valgrind (about 15 minutes)",
    )
    parser.add_argument(
        "--only",
        choices=(
            "overhead",
            "imports",
            "scaling",
            "gate",
            "provider_checks",
            "engine",
            "fleet_gate",
            "memory",
        ),
        help="run one measurement and merge it into bench/results.json",
    )
    ns = parser.parse_args()
    if ns.only:
        runs = {
            "overhead": ns.runs,
            "imports": ns.runs,
            "engine": ns.runs,
            "fleet_gate": 1,
            "memory": 1,
        }.get(ns.only, max(3, ns.runs // 2))
        merged = json.loads((ROOT / "bench" / "results.json").read_text())
        merged[ns.only] = globals()[ns.only](runs)
        (ROOT / "bench" / "results.json").write_text(json.dumps(merged, indent=2) + "\n")
        print(render(merged))
        return
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    results: dict[str, Any] = {
        "commit": commit,
        "machine": f"{platform.machine()}, {platform.python_version()}, "
        f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores",
        "overhead": overhead(ns.runs),
        "imports": imports(ns.runs),
        "scaling": scaling(max(3, ns.runs // 2)),
        "gate": gate(max(3, ns.runs // 2)),
        "provider_checks": provider_checks(max(3, ns.runs // 2)),
        "engine": engine(ns.runs),
    }
    if ns.suite:
        results["suite"] = suite(3)
    if ns.instructions:
        results["instructions"] = instructions()
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))


def render(r: dict[str, Any]) -> str:
    out = [
        f"Commit {r['commit']} on {r['machine']}",
        "",
        "| Stack | Resources | Components (s) | Hand-written (s) | Ratio "
        "| Invokes preview/update |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in r["overhead"]:
        out.append(
            f"| {row['stack']} | {row['resources']} | {row['components_s']:.3f} | "
            f"{row['handwritten_s']:.3f} | {row['ratio']:.2f}x | "
            f"{row['invokes_preview']}/{row['invokes_update']} |"
        )
    i = r["imports"]
    out += [
        "",
        f"Import, ready to declare: components {i['components_s']:.3f}s vs pulumi and the same "
        f"provider modules {i['baseline_s']:.3f}s = {i['ratio']:.2f}x (bare imports: "
        f"{i['bare_components_s']:.3f}s vs {i['bare_baseline_s']:.3f}s = {i['bare_ratio']:.2f}x); "
        f"pulumi-alicloud service packages executed after import: "
        f"{i['service_packages_after_import'] or 'none'}; after running managed-prod: "
        f"{', '.join(i['service_packages_after_a_run'])}",
        "",
        "| Clusters | Resources | Seconds | Default collector | Hand-written | Peak traced MiB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in r["scaling"]:
        out.append(
            f"| {row['clusters']} | {row['resources']} | {row['seconds']:.2f} | "
            f"{row['default_gc_seconds']:.2f} | {row['handwritten_seconds']:.2f} | "
            f"{row['peak_mib']:.1f} |"
        )
    s5, s50 = r["scaling"][0], r["scaling"][-1]
    out.append(
        f"50 vs 5 clusters: time {s50['seconds'] / s5['seconds']:.1f}x "
        f"(default collector {s50['default_gc_seconds'] / s5['default_gc_seconds']:.1f}x, "
        f"hand-written {s50['handwritten_seconds'] / s5['handwritten_seconds']:.1f}x), "
        f"memory {s50['peak_mib'] / s5['peak_mib']:.1f}x"
    )
    g = r["gate"]
    out += [
        "",
        f"Gate on {g['resources']} resources: analysis {g['analysis_s']:.2f}s = "
        f"{g['resources_per_s']:.0f} resources/s (AnalyzeStack {g['analyze_stack_s']:.2f}s; "
        f"the Analyze calls alone {g['per_resource_phase_per_s']:.0f}/s); "
        f"preview {g['preview_s']:.2f}s, "
        f"with gate {g['gate_total_s']:.2f}s = {g['ratio']:.2f}x",
    ]
    if "floor" in g:
        a, f = g["analysis"], g["floor"]
        out.append(
            f"Against the protocol floor (a one-rule pack served the same way, interleaved): "
            f"analysis {a['median']:.2f}s (min {a['min']:.2f}, max {a['max']:.2f}), floor "
            f"{f['median']:.2f}s (min {f['min']:.2f}, max {f['max']:.2f}): the gate runs at "
            f"{g['of_floor']:.2f}x of the floor's throughput; load "
            f"{g['load'][0]:.2f} -> {g['load'][1]:.2f}"
        )
    if "engine" in r:
        e = r["engine"]
        out += [
            "",
            f"`ack-preview`, wall clock, against {e['baseline']} (interleaved, fresh processes):",
            "",
            "| Stack | Runs | Baseline median (min-max) | Now median (min-max) | Ratio | Load |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for row in e["rows"]:
            b, n = row["baseline"], row["now"]
            out.append(
                f"| {row['stack']} | {row['runs']} | {b['median']:.3f} ({b['min']:.3f}-"
                f"{b['max']:.3f}) | {n['median']:.3f} ({n['min']:.3f}-{n['max']:.3f}) | "
                f"{row['ratio']:.2f}x | {row['load'][0]:.2f} -> {row['load'][1]:.2f} |"
            )
    if "fleet_gate" in r:
        f = r["fleet_gate"]
        out += [
            "",
            f"Fleet gate over {f['stacks']} generated stacks: one after another "
            f"{f['one_after_another']['median']:.1f}s; `ack-fleet gate` on 1 worker "
            f"{f['workers_1']['median']:.1f}s ({f['ratio_1']:.2f}x), on 2 workers "
            f"{f['workers_2']['median']:.1f}s ({f['ratio_2']:.2f}x); load {f['load'][0]:.2f} -> "
            f"{f['load'][1]:.2f}",
        ]
    if "provider_checks" in r:
        out += ["", "| Program | Resources | Checked (s) | Unchecked (s) | Ratio |"]
        out.append("| --- | --- | --- | --- | --- |")
        out += [
            f"| {x['program']} | {x['resources']} | {x['checked_s']:.3f} | "
            f"{x['unchecked_s']:.3f} | {x['ratio']:.3f}x |"
            for x in r["provider_checks"]
        ]
    if "instructions" in r:
        out += [
            "",
            "| Stack | Components (M instr/run) | Hand-written | Ratio |",
            "| --- | --- | --- | --- |",
        ]
        out += [
            f"| {x['stack']} | {x['components_minstr']:.1f} | {x['handwritten_minstr']:.1f} "
            f"| {x['ratio']:.3f}x |"
            for x in r["instructions"]
        ]
    if "suite" in r:
        out.append(f"\nTest command: {r['suite']['seconds']:.1f}s (median of {r['suite']['runs']})")
    return "\n".join(out)


if __name__ == "__main__":
    main()
