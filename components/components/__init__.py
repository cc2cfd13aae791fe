"""Deprecated import name, kept for one release: use ``ack_clusters`` (and ``ack_offline``).

``components`` collided with the ``components/`` folder many Pulumi projects keep for their own
code: whichever came first on ``sys.path`` hid the other. Importing this shim warns once and
hands out the new modules under their old names; it will be removed in 0.3.0.
"""

import importlib
import sys
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
    "preview": "ack_offline.preview",
}
for _old, _new in MOVED.items():
    sys.modules[f"{__name__}.{_old}"] = importlib.import_module(_new)
