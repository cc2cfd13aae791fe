"""Print the package schema: `python -m ack_clusters.package > provider/schema.json`."""

import json

from . import schema

print(json.dumps(schema(), indent=2, sort_keys=True))
