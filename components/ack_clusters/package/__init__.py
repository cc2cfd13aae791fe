"""The components as a Pulumi component package, for TypeScript, Go, C#, Java and YAML programs.

Pulumi's schema analyzer reads these classes: ``args`` typed with the generated TypedDicts
(ack_clusters.package.types, from the pydantic models), and the outputs declared below with their
descriptions. Construction is the same validated code Python users run: each class only narrows
the signature of the component it extends.

No ``from __future__ import annotations`` here: the analyzer needs real types, not strings.
Each class repeats the output declarations it serves: the analyzer reads a property's
description only from the source of the class it analyzes, not from a shared base.
"""

import pulumi
from pulumi.provider.experimental import component_provider_host

from ..cluster import dedicated, managed, serverless
from ..process import tune_gc
from .types import DedicatedClusterArgs, ManagedClusterArgs, ServerlessClusterArgs

PACKAGE_NAME = "ack"


class ManagedCluster(managed.ManagedCluster):
    """An ACK managed cluster with its VPC, vSwitches, NAT egress, security group, node RAM role,
    node pools, optional ingress load balancer and a fresh, secret kubeconfig."""

    cluster_id: pulumi.Output[str]
    """ACK cluster ID."""
    vpc_id: pulumi.Output[str]
    """The cluster's VPC."""
    vswitch_ids: pulumi.Output[list[str]]
    """Node vSwitches, in zone order."""
    pod_vswitch_ids: pulumi.Output[list[str]]
    """Terway pod vSwitches, in zone order (empty with Flannel)."""
    security_group_id: pulumi.Output[str]
    """The cluster security group."""
    nat_gateway_id: pulumi.Output[str | None]
    """The (first) NAT gateway; none without NAT egress."""
    api_server_slb_id: pulumi.Output[str]
    """ACK's API server load balancer."""
    api_server_endpoint: pulumi.Output[str]
    """The API server endpoint (private unless public_api_server)."""
    node_role_name: pulumi.Output[str]
    """RAM role the worker nodes run as."""
    scaling_group_ids: pulumi.Output[dict[str, str]]
    """Node pool name to its ESS scaling group ID."""
    ingress_load_balancer_id: pulumi.Output[str | None]
    """The ingress load balancer; none without one."""
    kubeconfig: pulumi.Output[str]
    """Admin kubeconfig, fetched fresh each run; secret."""

    def __init__(
        self, name: str, args: ManagedClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, dict(args), opts)


class ServerlessCluster(serverless.ServerlessCluster):
    """An ACK Serverless cluster: pods on ECI in the cluster vSwitches, no nodes to manage."""

    cluster_id: pulumi.Output[str]
    """ACK cluster ID."""
    vpc_id: pulumi.Output[str]
    """The cluster's VPC."""
    vswitch_ids: pulumi.Output[list[str]]
    """ECI vSwitches, in zone order."""
    security_group_id: pulumi.Output[str]
    """The security group ECI pods use."""
    nat_gateway_id: pulumi.Output[str | None]
    """The (first) NAT gateway; none without NAT egress."""
    api_server_slb_id: pulumi.Output[str]
    """ACK's API server load balancer."""
    api_server_endpoint: pulumi.Output[str]
    """The API server endpoint (private unless public_api_server)."""
    ingress_load_balancer_id: pulumi.Output[str | None]
    """The ingress load balancer; none without one."""
    kubeconfig: pulumi.Output[str]
    """Admin kubeconfig, fetched fresh each run; secret."""

    def __init__(
        self,
        name: str,
        args: ServerlessClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(name, dict(args), opts)


class DedicatedCluster(dedicated.DedicatedCluster):
    """An ACK dedicated cluster (3 or 5 visible masters), for managing and adopting the ones that
    exist: ACK creates new dedicated clusters only by ticket."""

    cluster_id: pulumi.Output[str]
    """ACK cluster ID."""
    vpc_id: pulumi.Output[str]
    """The cluster's VPC."""
    vswitch_ids: pulumi.Output[list[str]]
    """Node and master vSwitches, in zone order."""
    pod_vswitch_ids: pulumi.Output[list[str]]
    """Terway pod vSwitches, in zone order (empty with Flannel)."""
    security_group_id: pulumi.Output[str]
    """The cluster security group."""
    nat_gateway_id: pulumi.Output[str | None]
    """The (first) NAT gateway; none without NAT egress."""
    api_server_slb_id: pulumi.Output[str]
    """ACK's API server load balancer."""
    api_server_endpoint: pulumi.Output[str]
    """The API server endpoint (private unless public_api_server)."""
    node_role_name: pulumi.Output[str]
    """RAM role the worker nodes run as."""
    scaling_group_ids: pulumi.Output[dict[str, str]]
    """Node pool name to its ESS scaling group ID."""
    ingress_load_balancer_id: pulumi.Output[str | None]
    """The ingress load balancer; none without one."""
    kubeconfig: pulumi.Output[str]
    """Admin kubeconfig, fetched fresh each run; secret."""

    def __init__(
        self, name: str, args: DedicatedClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, dict(args), opts)


COMPONENTS: list[type[pulumi.ComponentResource]] = [
    ManagedCluster,
    ServerlessCluster,
    DedicatedCluster,
]


def serve() -> None:
    """Run as the component provider (what provider/__main__.py does for the engine). Building a
    cluster here allocates as a program does, so the process gets the same collector setting."""
    tune_gc()
    component_provider_host(components=COMPONENTS, name=PACKAGE_NAME)


def schema() -> dict[str, object]:
    """The package schema, as the host infers it from the classes above (offline)."""
    import json

    from pulumi.provider.experimental.analyzer import Analyzer
    from pulumi.provider.experimental.schema import generate_schema

    from .. import __version__

    result = Analyzer(PACKAGE_NAME).analyze(COMPONENTS)
    spec = generate_schema(
        PACKAGE_NAME,
        __version__,
        None,
        result["component_definitions"],
        result["type_definitions"],
        list(result["dependencies"]),
    )
    # Through JSON, so the snapshot holds exactly what the host would serve.
    loaded: dict[str, object] = json.loads(json.dumps(spec.to_json()))
    return loaded


if __name__ == "__main__":
    import json

    print(json.dumps(schema(), indent=2, sort_keys=True))
