"""Deprecated import name, kept for one release: use ``ack_clusters`` (and ``ack_offline``).

``components`` collided with the ``components/`` folder many Pulumi projects keep for their own
code: whichever came first on ``sys.path`` hid the other. Importing this shim warns once and
hands out the new modules under their old names; it will be removed in 0.3.0.
"""

import importlib
import sys
import types
import warnings

from ack_clusters import *  # noqa: F403 - the old top-level names, re-exported
from ack_clusters import ManagedControlPlaneArgs, __version__  # noqa: F401

#: Renamed: it always meant "a control plane run by ACK" (managed and serverless).
ClusterArgs = ManagedControlPlaneArgs

warnings.warn(
    "the import name 'components' is deprecated and will be removed in 0.3.0: import "
    "'ack_clusters' instead (for example 'from ack_clusters import ManagedCluster')",
    DeprecationWarning,
    stacklevel=2,
)

#: Old module path (under ``components.``) -> where it lives now. The documented surface only:
#: the stack program's entry, ack-preview and the testing helpers.
MOVED = {
    "program": "ack_clusters.program",
    "testing": "ack_clusters.testing",
    "testing.stability": "ack_offline.stability",
}
for _old, _new in MOVED.items():
    sys.modules[f"{__name__}.{_old}"] = importlib.import_module(_new)

# The old components.preview held the command, project loading and rendering, now three modules.
preview = types.ModuleType(f"{__name__}.preview", "Deprecated: see ack_offline.")
for _part in ("project", "render", "preview"):
    for _key, _value in vars(importlib.import_module(f"ack_offline.{_part}")).items():
        if not _key.startswith("__"):
            setattr(preview, _key, _value)
sys.modules[preview.__name__] = preview
