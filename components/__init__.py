"""Typed Pulumi components for Alibaba Cloud ACK clusters and the resources beneath them."""

from .args import (
    Autoscaling,
    ClusterArgs,
    Disk,
    ExistingVpc,
    ExistingVSwitch,
    IngressRule,
    ManagedClusterArgs,
    NetworkArgs,
    NodePoolArgs,
    SecurityArgs,
    ServerlessClusterArgs,
    Taint,
)
from .errors import InvalidArguments
from .identity import NodeRole
from .managed import ManagedCluster
from .network import ClusterNetwork
from .node_pool import NodePool
from .security import ClusterSecurityGroup
from .serverless import ServerlessCluster

__all__ = [
    "Autoscaling",
    "ClusterArgs",
    "ClusterNetwork",
    "ClusterSecurityGroup",
    "Disk",
    "ExistingVSwitch",
    "ExistingVpc",
    "IngressRule",
    "InvalidArguments",
    "ManagedCluster",
    "ManagedClusterArgs",
    "NetworkArgs",
    "NodePool",
    "NodePoolArgs",
    "NodeRole",
    "SecurityArgs",
    "ServerlessCluster",
    "ServerlessClusterArgs",
    "Taint",
]
__version__ = "0.1.0"
