"""Benchmarks: what the components cost, as ratios measured in one run on one machine.

    python bench/run.py            # everything but the test suite (about a minute)
    python bench/run.py --suite    # also time the README's test command (3 runs)

Machines here are shared and noisy, so every figure is a median of several interleaved runs and
every target is a ratio of two things measured side by side. Results go to stdout (Markdown) and
bench/results.json. Not part of the test suite.
"""

from __future__ import annotations

import argparse
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

from replay import raw_program  # noqa: E402

from components.gate import PolicyPackProcess, StackContext, run_gate  # noqa: E402
from components.preview import (  # noqa: E402
    _run_program,
    find_project,
    load_stack_config,
    run_stack,
)
from components.testing import FakeAlibabaCloud, run_program  # noqa: E402

PACK = ROOT / "policies"


def median_time(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(a: Callable[[], Any], b: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median times of a and b, run alternately so drift in machine load hits both."""
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(runs):
        for fn, out in ((a, ta), (b, tb)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def overhead(runs: int) -> list[dict[str, Any]]:
    """1. Each stack's program against the same graph registered by direct provider calls."""
    project = find_project(ROOT)
    rows = []
    for stack in project.stacks():
        recording = run_stack(project, stack, preview=False)
        raw = raw_program(recording)
        # The stack file is parsed once, outside the timing: that stands in for the engine's work,
        # which a hand-written program does not do either.
        config, secrets = load_stack_config(project, stack)

        def components(stack: str = stack, config: Any = config, secrets: Any = secrets) -> Any:
            return _run_program(project, stack, config, secrets, preview=True)

        def handwritten(raw: Any = raw, stack: str = stack) -> Any:
            return run_program(raw, mock=FakeAlibabaCloud(preview=True), preview=True, stack=stack)

        comp_t, raw_t = interleaved(components, handwritten, runs)
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


LIB_IMPORT = "import components"
#: What the library needs at import: the SDKs themselves. Their service modules load lazily, on
#: first use, for the library and a hand-written program alike.
BASE_IMPORT = "import pulumi, pulumi_alicloud, pulumi_kubernetes"
#: Service packages of pulumi-alicloud that have actually executed (not merely lazily registered).
EXECUTED = (
    "import sys; print(sorted(m.split('.')[1] for m, v in list(sys.modules.items()) "
    "if m.startswith('pulumi_alicloud.') and m.count('.') == 1 "
    "and hasattr(sys.modules[m], '__path__') and type(v).__name__ == 'module'))"
)


def _import_time(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def imports(runs: int) -> dict[str, Any]:
    """2. `import components` against importing what it needs from Pulumi and the providers."""
    lib, base = [], []
    for _ in range(runs):
        lib.append(_import_time(LIB_IMPORT))
        base.append(_import_time(BASE_IMPORT))

    def executed(setup: str) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", f"{setup}; {EXECUTED}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"'))

    after_run = (
        "import components; from pathlib import Path; from components.preview import "
        "find_project, run_stack; run_stack(find_project(Path('.')), 'managed-prod', preview=True)"
    )
    return {
        "components_s": statistics.median(lib),
        "baseline_s": statistics.median(base),
        "ratio": statistics.median(lib) / statistics.median(base),
        "service_packages_after_import": executed("import components"),
        "service_packages_after_a_run": executed(after_run),
    }


def fleet(n: int) -> tuple[Any, dict[str, str]]:
    project = find_project(ROOT / "bench" / "fleet")
    config, _ = load_stack_config(project, f"c{n}")
    return project, config


def scaling(runs: int) -> list[dict[str, Any]]:
    """4. One program with 5, 20 and 50 clusters: time and peak traced memory."""
    rows = []
    for n in (5, 20, 50):
        project, _ = fleet(n)

        def once(p: Any = project, n: int = n) -> Any:
            return run_stack(p, f"c{n}", preview=True)

        t = median_time(once, runs)
        tracemalloc.start()
        result = run_stack(project, f"c{n}", preview=True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "clusters": n,
                "resources": len(result.resources),
                "seconds": t,
                "peak_mib": peak / 2**20,
            }
        )
    return rows


def gate(runs: int) -> dict[str, Any]:
    """5. The gate on the 50-cluster program: analysis throughput and total against preview."""
    project, config = fleet(50)
    context = StackContext("fleet", "c50", True, config, {})
    result = run_stack(project, "c50", preview=True)
    pack = PolicyPackProcess(PACK, context)
    try:
        pack.configure({}, context)
        analysis = median_time(lambda: pack.analyze(result), runs)
    finally:
        pack.close()
    plain, gated = interleaved(
        lambda: run_stack(project, "c50", preview=True),
        lambda: run_gate(run_stack(project, "c50", preview=True), [PACK], context),
        runs,
    )
    return {
        "resources": len(result.resources),
        "analysis_s": analysis,
        "resources_per_s": len(result.resources) / analysis,
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
        help="also count instructions per stack program with valgrind (about 10 minutes)",
    )
    ns = parser.parse_args()
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
        f"Import: components {i['components_s']:.3f}s vs baseline {i['baseline_s']:.3f}s "
        f"= {i['ratio']:.2f}x; pulumi-alicloud service packages executed after import: "
        f"{i['service_packages_after_import'] or 'none'}; after running managed-prod: "
        f"{', '.join(i['service_packages_after_a_run'])}",
        "",
        "| Clusters | Resources | Seconds | Peak traced MiB |",
        "| --- | --- | --- | --- |",
    ]
    for row in r["scaling"]:
        out.append(
            f"| {row['clusters']} | {row['resources']} | {row['seconds']:.2f} | "
            f"{row['peak_mib']:.1f} |"
        )
    s5, s50 = r["scaling"][0], r["scaling"][-1]
    out.append(
        f"50 vs 5 clusters: time {s50['seconds'] / s5['seconds']:.1f}x, "
        f"memory {s50['peak_mib'] / s5['peak_mib']:.1f}x"
    )
    g = r["gate"]
    out += [
        "",
        f"Gate on {g['resources']} resources: analysis {g['analysis_s']:.2f}s = "
        f"{g['resources_per_s']:.0f} resources/s; preview {g['preview_s']:.2f}s, "
        f"with gate {g['gate_total_s']:.2f}s = {g['ratio']:.2f}x",
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
