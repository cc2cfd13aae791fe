"""Typed Pulumi components for Alibaba Cloud ACK clusters and the resources beneath them."""

from .args import (
    Adoption,
    Autoscaling,
    ClusterArgs,
    DedicatedClusterArgs,
    Disk,
    ExistingVpc,
    ExistingVSwitch,
    IngressRule,
    ManagedClusterArgs,
    Masters,
    NetworkArgs,
    NodePoolArgs,
    SecurityArgs,
    ServerlessClusterArgs,
    Taint,
)
from .dedicated import DedicatedCluster
from .errors import InvalidArguments
from .identity import NodeRole
from .managed import ManagedCluster
from .network import ClusterNetwork
from .node_pool import NodePool
from .process import tune_gc
from .security import ClusterSecurityGroup
from .serverless import ServerlessCluster

__all__ = [
    "Adoption",
    "Autoscaling",
    "ClusterArgs",
    "ClusterNetwork",
    "ClusterSecurityGroup",
    "DedicatedCluster",
    "DedicatedClusterArgs",
    "Disk",
    "ExistingVSwitch",
    "ExistingVpc",
    "IngressRule",
    "InvalidArguments",
    "ManagedCluster",
    "ManagedClusterArgs",
    "Masters",
    "NetworkArgs",
    "NodePool",
    "NodePoolArgs",
    "NodeRole",
    "SecurityArgs",
    "ServerlessCluster",
    "ServerlessClusterArgs",
    "Taint",
    "tune_gc",
]
__version__ = "0.1.0"
