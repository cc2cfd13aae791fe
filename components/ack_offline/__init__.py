"""The offline engine: everything that runs a Pulumi program without the Pulumi CLI, a provider
plugin or a cloud account, kept apart from the library that programs import.

- :mod:`ack_offline.fake_cloud`: a fake Alibaba Cloud for Pulumi's mock engine.
- :mod:`ack_offline.recorder`: runs a program under the mock engine and records what the engine
  would see (parents, dependencies, options, URNs as the engine makes them).
- :mod:`ack_offline.project`: a Pulumi project as the engine reads it (``Pulumi.yaml``, stack
  files, config) and running its program.
- :mod:`ack_offline.render`: what ``ack-preview`` prints (tree, violations, ``--json``).
- :mod:`ack_offline.preview`: the ``ack-preview`` command.
- :mod:`ack_offline.gate`: drives policy packs over the analyzer gRPC protocol.
- :mod:`ack_offline.stability`, :mod:`ack_offline.imports`: what a change does to the graph, and
  which provider packages a process loaded.

Users' own tests reach the parts they need through :mod:`ack_clusters.testing`.
"""
