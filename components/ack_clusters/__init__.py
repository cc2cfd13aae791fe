"""Typed Pulumi components for Alibaba Cloud ACK clusters and the resources beneath them.

One folder per cloud concept, each with its arguments (``args``), its pure plan (``plan``) and
what registers it (``component``): ``network``, ``security``, ``identity`` (the node RAM role
and service account roles),
``node_pools``, ``ingress``, ``access`` (kubeconfig and Kubernetes provider) and ``cluster``
(the three forms, which put the others together). Shared validators are in ``validation``.
"""

from .cluster.args import (
    Adoption,
    BaseClusterArgs,
    DedicatedClusterArgs,
    ManagedClusterArgs,
    ManagedControlPlaneArgs,
    Masters,
    ServerlessClusterArgs,
    WorkerNodesArgs,
)
from .cluster.forms import DedicatedCluster, ManagedCluster, ServerlessCluster
from .errors import InvalidArguments
from .guard.args import DriftGuardArgs
from .guard.component import DriftGuard
from .identity.args import PolicyAttachment, ServiceAccountRoleArgs
from .identity.component import NodeRole
from .identity.service_account import ServiceAccountRole
from .network.args import ExistingVpc, ExistingVSwitch, NetworkArgs
from .network.component import ClusterNetwork
from .node_pools.args import Autoscaler, Autoscaling, Disk, NodePoolArgs, Taint
from .node_pools.component import NodePool
from .process import tune_gc
from .security.args import IngressRule, SecurityArgs
from .security.component import ClusterSecurityGroup

__all__ = [
    "Adoption",
    "Autoscaler",
    "Autoscaling",
    "BaseClusterArgs",
    "ClusterNetwork",
    "ClusterSecurityGroup",
    "DedicatedCluster",
    "DedicatedClusterArgs",
    "Disk",
    "DriftGuard",
    "DriftGuardArgs",
    "ExistingVSwitch",
    "ExistingVpc",
    "IngressRule",
    "InvalidArguments",
    "ManagedCluster",
    "ManagedClusterArgs",
    "ManagedControlPlaneArgs",
    "Masters",
    "NetworkArgs",
    "NodePool",
    "NodePoolArgs",
    "NodeRole",
    "PolicyAttachment",
    "SecurityArgs",
    "ServerlessCluster",
    "ServerlessClusterArgs",
    "ServiceAccountRole",
    "ServiceAccountRoleArgs",
    "Taint",
    "WorkerNodesArgs",
    "tune_gc",
]
__version__ = "0.1.0"
