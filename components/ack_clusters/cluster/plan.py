"""The whole plan of a cluster's resource layer, shared by the three cluster forms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import InvalidArguments, PlanProblems, validated
from ..naming import ownership_tags
from ..network.plan import AppSubnetPlan, NetworkPlan, plan_app_subnets, plan_network
from ..security.plan import RuleSpec, plan_security_rules
from ..validation import NAME_PATTERN, Deferred
from .args import (
    BaseClusterArgs,
    DedicatedClusterArgs,
    ManagedClusterArgs,
    ServerlessClusterArgs,
    Workers,
)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ClusterPlan:
    name: str
    network: NetworkPlan
    rules: tuple[RuleSpec, ...]
    #: User tags (values may be outputs) and the ownership tags.
    tags: dict[str, str | Deferred]
    #: What runs the pods (from the form's arguments): "ecs" worker nodes or "eci".
    workers: Workers
    #: App subnets (vSwitches for databases and apps), in the network's address plan.
    app_subnets: tuple[AppSubnetPlan, ...] = ()

    @property
    def vswitch_label(self) -> str:
        """What the cluster vSwitches hold, in their names: "node" (ECS workers) or "eci"."""
        return "node" if self.workers == "ecs" else "eci"


def parse_args(model: type[M], subject: str, name: str, args: M | Mapping[str, Any]) -> M:
    """Validate the component name and arguments together, reporting every problem at once."""
    problems: list[tuple[str, str]] = []
    if not isinstance(name, str) or not re.match(NAME_PATTERN, name):
        problems.append(
            (
                "name",
                f"{name!r} is not a valid cluster name: 1-40 characters, lowercase letters, "
                "digits and hyphens, starting with a letter (it names cloud resources)",
            )
        )
    parsed, found = validated(model, subject, args)
    problems += [(path, _other_forms(model, path, msg)) for path, msg in found]
    if problems or parsed is None:
        raise InvalidArguments(subject, problems)
    return parsed


def _other_forms(model: type[BaseModel], path: str, message: str) -> str:
    """An unknown top-level argument that another cluster form takes is named as that form's."""
    if "." in path or not message.startswith("unknown argument"):
        return message
    forms = (ManagedClusterArgs, ServerlessClusterArgs, DedicatedClusterArgs)
    owners = [f.__name__ for f in forms if f is not model and path in f.model_fields]
    if not owners:
        return message
    return (
        f"{path} is an argument of {' and '.join(owners)}, not of {model.__name__}: this "
        "cluster form has no such setting"
    )


def plan_cluster(subject: str, name: str, args: BaseClusterArgs) -> ClusterPlan:
    """Plan the resource layer of any form, from what its arguments say: the pod network
    (Terway pod vSwitches, a Flannel range or neither) and what runs the pods. Where pods run
    on ECI, the cluster vSwitches hold ECI pods and no kubelet needs the control plane."""
    pod_cidr = args.effective_pod_cidr
    reserved = {"service_cidr": args.service_cidr}
    if pod_cidr is not None:
        reserved["pod_cidr"] = pod_cidr
    try:
        network = plan_network(
            args.network, with_pod_vswitches=args.wants_pod_vswitches, reserved=reserved
        )
        app_subnets = plan_app_subnets(
            args.network, network, args.app_subnets, with_pod_vswitches=args.wants_pod_vswitches
        )
    except PlanProblems as exc:
        raise InvalidArguments(subject, exc.problems) from None
    rules = plan_security_rules(
        network,
        pod_cidr=pod_cidr,
        extra=list(args.security.extra_ingress),
        kubelet=args.workers == "ecs",
    )
    return ClusterPlan(
        name=name,
        network=network,
        rules=rules,
        tags=ownership_tags(name, args.tags),
        workers=args.workers,
        app_subnets=app_subnets,
    )
