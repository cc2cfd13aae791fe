"""Which provider packages a process has actually loaded.

pulumi-alicloud registers its ~150 service packages lazily: ``import pulumi_alicloud`` executes
none of them, and each one that executes costs import time. A program (or a library) should
execute only the ones whose resources it declares.
"""

from __future__ import annotations

import sys


def executed_service_packages() -> list[str]:
    """The pulumi-alicloud service packages this process has executed, not merely registered."""
    return sorted(
        name.split(".")[1]
        for name, module in list(sys.modules.items())
        if name.startswith("pulumi_alicloud.")
        and name.count(".") == 1
        and type(module).__name__ == "module"  # a registered, unexecuted one is a _LazyModule
        and hasattr(module, "__path__")
    )
