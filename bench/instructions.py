"""Run one stack's program K times, components or hand-written (for instruction counting).

    python bench/instructions.py STACK {components,handwritten} K

bench/run.py --instructions runs this under valgrind's callgrind with K = 0 and K = N and
divides the difference by N: instructions per program run, repeatable on a noisy machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from replay import raw_program  # noqa: E402

from ack_clusters.testing import FakeAlibabaCloud, run_program  # noqa: E402
from ack_offline.project import find_project, load_stack_config, run_project, run_stack  # noqa: E402


def main() -> None:
    stack, variant, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    project = find_project(ROOT)
    config, secrets = load_stack_config(project, stack)
    raw = raw_program(run_stack(project, stack, preview=False))
    # Warm both paths once so that K=0 and K=N differ only by the measured runs.
    run_project(project, stack, config, secrets, preview=True)
    run_program(raw, mock=FakeAlibabaCloud(preview=True), preview=True, stack=stack)
    for _ in range(runs):
        if variant == "components":
            run_project(project, stack, config, secrets, preview=True)
        else:
            run_program(raw, mock=FakeAlibabaCloud(preview=True), preview=True, stack=stack)


if __name__ == "__main__":
    main()
