"""The kubeconfig a cluster's Kubernetes provider and users connect with: pure, no Pulumi.

It authenticates through ACK's credential plugin (``ack-ram-tool credential-plugin
get-credential``), which asks ACK for a short-lived client certificate whenever the one it
cached runs out, with the caller's own Alibaba Cloud credentials. So the kubeconfig holds no
credential: it is the same on every run (the provider's configuration never changes between
previews) and never expires in state (refresh and destroy keep working), unlike a kubeconfig
with a client certificate fetched by the program.
"""

from __future__ import annotations

import json

#: What must be installed where `pulumi` (or kubectl with this kubeconfig) runs.
PLUGIN = "ack-ram-tool"
#: The client authentication API version the plugin is asked to answer in.
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
#: How long each certificate the plugin fetches lasts (the plugin renews it when it runs out).
CERTIFICATE_LIFETIME = "3h"


def exec_kubeconfig(*, cluster_id: str, server: str, ca_data: str, region: str) -> str:
    """A kubeconfig for `server` whose user runs the credential plugin for `cluster_id`.

    YAML is a superset of JSON, so the document is written as JSON: no quoting rules to get
    wrong for endpoints or certificate data."""
    name = cluster_id
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}
        ],
        "users": [
            {
                "name": f"{name}-ack-ram-tool",
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API_VERSION,
                        "command": PLUGIN,
                        "args": [
                            "credential-plugin",
                            "get-credential",
                            "--cluster-id",
                            cluster_id,
                            "--region-id",
                            region,
                            "--api-version",
                            "v1beta1",
                            "--expiration",
                            CERTIFICATE_LIFETIME,
                            "--log-level",
                            "error",
                        ],
                        "interactiveMode": "Never",
                        "provideClusterInfo": False,
                        "installHint": (
                            "ack-ram-tool is ACK's credential plugin: install it from "
                            "https://github.com/AliyunContainerService/ack-ram-tool/releases "
                            "and give it Alibaba Cloud credentials (environment variables or "
                            "the aliyun CLI's profile)"
                        ),
                    }
                },
            }
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-ack-ram-tool"}}],
        "current-context": name,
    }
    return json.dumps(doc, indent=2)
