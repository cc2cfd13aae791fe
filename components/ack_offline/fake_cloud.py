"""A fake Alibaba Cloud for ``pulumi.runtime.set_mocks``.

It answers like the provider would: IDs in Alibaba's formats, the computed outputs components
read (cluster ``connections`` and ``slb_id``, node pool ``scaling_group_id``, NAT
``snat_table_ids``, EIP ``ip_address``, ...), and the invokes the components make. An invoke it
does not know raises, so a new provider call can never slip in unnoticed. In preview mode every
computed output and every ID is unknown, as in a real ``pulumi preview``.

Invokes: the cluster credential and the data sources programs read facts from (zones of every
service, regions, instance types and families, images, Kubernetes versions, the account and
caller) are answered with plausible values; lookups of what an account holds (security groups,
vSwitches, VPCs, route tables, NAT gateways, roles, load balancers, clusters) are answered from
what the fake cloud holds in an update, and unknown at preview (what they would find may still
be to be created) or when the run holds nothing they find (the account may: an empty list would
be invented). Any other invoke is unknown: a program that depends on it gets an unknown value
(never an invented one), and the policy gate judges what it could have returned (each such
invoke reaches the pack's stack view as an :data:`UNANSWERED_TYPE` resource; see
ack_policies.lookups). A plain invoke cannot carry an unknown (the SDK's data source would fail
with an AssertionError): :func:`plain_invokes_explained` stops the program with a message
naming the invoke and its `_output` form instead.

IDs are derived from a hash of the resource's type and name, so two runs of one program give the
same IDs and graphs can be compared across runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar

from pulumi.runtime import mocks
from pulumi.runtime.rpc import UNKNOWN

from . import provider

_ACCOUNT = "1234567890123456"
_SLB = "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer"
_ROUTE_TABLE = "alicloud:vpc/routeTable:RouteTable"
_REGION = "cn-hangzhou"

State = dict[str, Any]
#: How the policy gate's stack view shows an invoke the fake cloud could not answer, with its
#: token and arguments (ack_policies.lookups judges what it could have returned). The engine
#: has no such resource: its provider answers every invoke.
UNANSWERED_TYPE = "ack:offline:UnansweredInvoke"


class UnknownInvokeError(RuntimeError):
    pass


class InvokeUnknown(Exception):
    """An invoke the fake cloud cannot answer: its result is unknown (the recording monitor
    answers the engine's way, with the invoke marked unknown)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


class UnansweredPlainInvoke(Exception):
    """A plain (not `_output`) invoke whose result is unknown: the Pulumi SDK cannot carry an
    unknown through a plain invoke (pulumi.runtime.invoke hands the data source's function
    None, and its `pulumi.get` fails with an AssertionError), so the program stops here with
    this message instead."""

    def __init__(self, token: str) -> None:
        function = _function_name(token)
        if data_source(token) is not None or token in LOOKUPS:
            why = (
                "its arguments are unknown at preview (they name what is still to be created), "
                "so it has no answer yet"
            )
        elif _OFFERINGS.search(token):
            why = (
                "the fake Alibaba Cloud has no facts for what it lists (a service's instance "
                "classes, engines or types in a region), so it cannot answer it offline"
            )
        else:
            why = (
                "the fake Alibaba Cloud cannot answer it offline: it lists what the account "
                "holds, which only Alibaba Cloud knows"
            )
        super().__init__(
            f"the invoke {token} ({function}) has no answer here: {why}. The Pulumi SDK cannot "
            "carry an unknown result through a plain invoke (the data source would fail with an "
            f"AssertionError). Call its output form, {function}_output(...), whose unknown "
            "result the policy gate judges by what the lookup could return (a lookup that "
            "cannot return what a cluster owns passes)."
        )
        self.token = token


#: Data sources of a service's offerings (classes, engines, types), not of what an account holds.
_OFFERINGS = re.compile(r":get\w*(Classes|ClassInfos|Engines|Types|Families)$")


def _function_name(token: str) -> str:
    """The Python SDK's function for an invoke token (`alicloud:ecs/getKeyPairs:getKeyPairs` ->
    `alicloud.ecs.get_key_pairs`)."""
    package, _, rest = token.partition(":")
    module, _, name = rest.partition(":")
    module = module.split("/", 1)[0]
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return ".".join(p for p in (package, "" if module == "index" else module, snake) if p)


@contextlib.contextmanager
def plain_invokes_explained() -> Iterator[None]:
    """In the program's process: a plain invoke whose result is unknown raises
    :class:`UnansweredPlainInvoke` (naming the invoke and its `_output` form) where the SDK
    would fail with an AssertionError that names nothing. Generated SDKs call
    `pulumi.runtime.invoke` by attribute at each call, so replacing it is enough."""
    import pulumi.runtime

    original = pulumi.runtime.invoke

    def invoke(tok: str, props: Any, opts: Any = None, typ: Any = None, **kwargs: Any) -> Any:
        result = original(tok, props, opts, typ, **kwargs)
        if not result.is_known:
            raise UnansweredPlainInvoke(tok)
        return result

    original_output = pulumi.runtime.invoke_output

    def invoke_output(tok: str, props: Any, opts: Any = None, *rest: Any, **kwargs: Any) -> Any:
        result = original_output(tok, props, opts, *rest, **kwargs)
        _note_if_unsent(tok, props)
        return result

    pulumi.runtime.invoke = invoke  # type: ignore[assignment]
    pulumi.runtime.invoke_output = invoke_output
    try:
        yield
    finally:
        pulumi.runtime.invoke = original
        pulumi.runtime.invoke_output = original_output


def _note_if_unsent(tok: str, props: Any) -> None:
    """An `_output` invoke whose arguments are unknown is never sent: the SDK answers it
    unknown itself (pulumi/runtime/invoke.py, `struct_contains_unknowns`). It is recorded as
    unanswered all the same, with its arguments (their unknowns marked), so that the gate judges
    what it could return by the filters that are known (o59: vSwitches named `^shared-data-db`
    in a VPC another lookup found)."""
    import asyncio

    from google.protobuf import json_format, struct_pb2
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.settings import _get_rpc_manager, get_monitor

    async def note() -> None:
        inputs = await rpc.serialize_properties(props, {})
        if not rpc.struct_contains_unknowns(inputs):
            return  # sent: the fake cloud answers it, or records it unanswered
        if tok == _CREDENTIAL or data_source(tok) is not None:
            return  # answered here when sent; says nothing of what the account holds
        plain, _ = rpc._unwrap_rpc_secret_struct_properties(inputs)
        # The monitor reads an invoke's arguments without their unknowns (None): they travel
        # as text, to the fake cloud in whichever process serves the monitor.
        args = struct_pb2.Struct()
        args.update({"token": tok, "args": json.dumps(json_format.MessageToDict(plain))})
        request = resource_pb2.ResourceInvokeRequest(tok=UNSENT_TOKEN, args=args)
        monitor = get_monitor()
        if monitor is None:
            return
        with contextlib.suppress(Exception):  # the program's own result is unknown either way
            await asyncio.get_running_loop().run_in_executor(None, monitor.Invoke, request)

    # The RPC manager holds the task, and the run awaits it, as the SDK's own invokes.
    asyncio.ensure_future(_get_rpc_manager().do_rpc("invoke", note)())  # noqa: RUF006


class StackReferenceUnknown(Exception):
    """A StackReference whose outputs were not given: an update needs its values."""

    def __init__(self, ref: str) -> None:
        super().__init__(
            f"StackReference {ref!r}: its outputs are not known offline; give them with "
            f"--stack-reference {ref}=FILE (a graph saved with `ack-preview STACK --json "
            "--mode update`, or a JSON object of outputs)"
        )
        self.ref = ref


def _hex(*parts: str, n: int = 20) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _digits(*parts: str, n: int) -> str:
    """n decimal digits derived from parts (no leading zero)."""
    number = int(hashlib.sha256("/".join(parts).encode()).hexdigest(), 16)
    return str(10 ** (n - 1) + number % (9 * 10 ** (n - 1)))


def _ip(prefix: str, *parts: str) -> str:
    h = hashlib.sha256("/".join(parts).encode()).digest()
    return f"{prefix}.{h[0] % 254 + 1}.{h[1] % 254 + 1}"


class FakeAlibabaCloud(mocks.Mocks):
    """``Mocks`` implementation answering as pulumi-alicloud 4.x would."""

    #: Resource type token -> ID prefix for IDs that are a plain prefixed string.
    ID_PREFIXES: ClassVar[dict[str, str]] = {
        "alicloud:vpc/network:Network": "vpc-",
        "alicloud:vpc/switch:Switch": "vsw-",
        "alicloud:vpc/natGateway:NatGateway": "ngw-",
        "alicloud:vpc/routeTable:RouteTable": "vtb-",
        "alicloud:ecs/eipAddress:EipAddress": "eip-",
        "alicloud:ecs/securityGroup:SecurityGroup": "sg-",
        "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": "lb-",
        "alicloud:kms/key:Key": "key-",
        # What a program creates and hands a cluster, which the library checks by prefix
        # (ack_clusters.validation): a CEN instance and a resource group have a plain ID
        # (resource_alicloud_cen_instance.go, resource_alicloud_resource_manager_resource_group.go
        # in terraform-provider-alicloud); a transit router and its route table are below.
        "alicloud:cen/instance:Instance": "cen-",
        "alicloud:resourcemanager/resourceGroup:ResourceGroup": "rg-",
    }

    def __init__(
        self,
        *,
        preview: bool = False,
        check_inputs: bool = True,
        stack_references: Mapping[str, Mapping[str, Any]] | None = None,
        region: str | None = None,
    ) -> None:
        self.preview = preview
        #: The stack's region (its alicloud:region), for data sources that answer by region;
        #: default: the program's config, read where the program runs.
        self.region = region
        #: Outputs of other stacks by their `org/project/stack` name, for StackReference.
        self.stack_references = dict(stack_references or {})
        #: Refuse inputs the provider would refuse (see ack_offline.provider).
        self.check_inputs = check_inputs
        #: What the cloud holds, by (type, ID): what this run created (update mode) and what ACK
        #: made alongside a cluster; reads answer from it.
        self._held: dict[tuple[str, str], State] = {}
        #: Differs per instance, as a fresh cluster credential differs per real run.
        self.run_id = secrets.token_hex(8)
        #: Resources the provider would refuse, in registration order.
        self.rejected: list[Exception] = []
        self.invokes: list[str] = []
        #: (token, arguments) of the invokes answered as unknown: the policy gate judges what
        #: each could have returned (ack_policies.lookups), as only the real cloud can answer.
        self.unanswered_args: list[tuple[str, dict[str, Any]]] = []
        #: (token, arguments) of every invoke, for tests of what a program asks the provider.
        self.invoke_args: list[tuple[str, dict[str, Any]]] = []
        #: Invokes answered as unknown (nothing the fake cloud could answer for them).
        self.unanswered: list[str] = []
        self._lock = threading.Lock()
        self._computed: dict[str, Callable[[str, State], tuple[str, State]]] = {
            "alicloud:vpc/network:Network": self._vpc,
            "alicloud:vpc/natGateway:NatGateway": self._nat,
            "alicloud:ecs/eipAddress:EipAddress": self._eip,
            "alicloud:ecs/eipAssociation:EipAssociation": self._eip_association,
            "alicloud:vpc/snatEntry:SnatEntry": self._snat,
            "alicloud:vpc/routeEntry:RouteEntry": self._route_entry,
            "alicloud:vpc/routeTableAttachment:RouteTableAttachment": self._rt_attachment,
            "alicloud:ecs/securityGroupRule:SecurityGroupRule": self._sg_rule,
            "alicloud:ram/role:Role": self._role,
            "alicloud:ram/policy:Policy": self._policy,
            "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": self._role_attachment,
            "alicloud:cs/managedKubernetes:ManagedKubernetes": self._cluster,
            "alicloud:cs/kubernetes:Kubernetes": self._cluster,
            "alicloud:cs/nodePool:NodePool": self._node_pool,
            "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": self._slb,
            "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment": (
                self._transit_router_attachment
            ),
            "kubernetes:core/v1:Service": self._k8s_service,
            "alicloud:cen/transitRouter:TransitRouter": self._transit_router,
            "alicloud:cen/transitRouterRouteTable:TransitRouterRouteTable": (
                self._transit_router_route_table
            ),
            "alicloud:ram/user:User": self._ram_user,
            "alicloud:ram/oidcProvider:OidcProvider": self._oidc_provider,
            "alicloud:ecs/keyPair:KeyPair": self._named("keyPairName", "keyName"),
            "alicloud:log/project:Project": self._named("projectName", "name"),
        }

    # -- Mocks interface ---------------------------------------------------------------------

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        inputs: State = dict(args.inputs)
        name, typ = args.name, args.typ
        if typ == "pulumi:pulumi:StackReference":
            return self._stack_reference(args.resource_id or name, inputs)
        if args.custom is None and args.resource_id is not None:
            return self._read(typ, args.resource_id)
        if args.custom and not args.resource_id:
            inputs.update(provider.autoname(typ, name, inputs))
        if args.resource_id:  # import or read: the resource exists with this ID
            rid = args.resource_id
        elif typ in self.ID_PREFIXES:
            rid = self.ID_PREFIXES[typ] + _hex(typ, name)
        else:
            rid = f"{name}-{_hex(typ, name, n=8)}"
        rid, computed = self._computed.get(typ, lambda r, i: (r, {}))(rid, inputs)
        if typ.startswith("kubernetes:") and not typ.startswith("kubernetes:providers"):
            computed = {**self._k8s_object(rid, name, inputs), **computed}
        if args.resource_id:
            rid = args.resource_id  # an imported resource keeps its real ID
        if self.preview and not args.resource_id:
            # A real preview knows inputs but not IDs or values the cloud computes.
            return "", {**inputs, **{k: UNKNOWN for k in computed}}
        state = {**inputs, **computed}
        with self._lock:
            self._held[(typ, rid)] = state
            if typ in self._computed and "slbId" in computed:  # ACK's API server load balancer
                self._held[(_SLB, computed["slbId"])] = {
                    "addressType": "intranet",
                    "tags": {"ack.aliyun.com": rid},
                }
            if "routeTableId" in computed and typ == "alicloud:vpc/network:Network":
                # The VPC's system route table, which comes with it.
                self._held[(_ROUTE_TABLE, computed["routeTableId"])] = {
                    "vpcId": rid,
                    "routeTableName": "",
                    "routeTableType": "System",
                }
        return rid, state

    def _read(self, typ: str, rid: str) -> tuple[str, State]:
        """A read (`Resource.get`): what the cloud holds under that ID. In preview an ID still
        to be created is unknown, and so is everything about what it names."""
        if rid == UNKNOWN:
            return "", {"tags": UNKNOWN}
        with self._lock:
            held = self._held.get((typ, rid))
        return rid, dict(held) if held is not None else {}

    def check(self, typ: str, name: str, inputs: State, *, custom: bool, importing: bool) -> None:
        """Refuse what the provider would refuse, as Terraform's plan does before any ID exists.

        The recording monitor calls this with the inputs as sent on the wire, where a value
        unknown at preview is still marked unknown (the SDK's mock deserialisation drops that
        mark in some versions). The engine reports a failed check and goes on with the other
        resources; the run fails when it ends (run_program), never mid-registration."""
        if not (self.check_inputs and custom):
            return
        named = {**inputs, **({} if importing else provider.autoname(typ, name, inputs))}
        rejections = provider.check(typ, named)
        if rejections:
            with self._lock:
                self.rejected.append(provider.ProviderRejected(typ, name, rejections))

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]]]:
        if args.token == UNSENT_TOKEN:
            try:
                unsent = json.loads(str(args.args.get("args")))
            except ValueError:
                unsent = None
            if isinstance(unsent, dict):
                self.unsent(str(args.args.get("token")), unsent)
            return {}, []
        with self._lock:
            self.invokes.append(args.token)
            self.invoke_args.append((args.token, dict(args.args)))
        if args.token == _CREDENTIAL:
            return self._credential(args.args), []
        answer = data_source(args.token)
        if answer is not None:
            return answer(dict(args.args), self.region or _region()), []
        lookup = LOOKUPS.get(args.token)
        if lookup is not None and not self.preview:
            try:
                found = self._lookup(lookup, dict(args.args))
            except UnreadPattern:
                found = {"ids": []}
            if found["ids"]:
                return found, []
            # Nothing this run holds matches: the account may hold it (a group made by another
            # stack, say). An empty list would be an invented answer (a program indexing it
            # fails where the real cloud answers), so it is unknown, as at preview.
        with self._lock:
            self.unanswered.append(args.token)
            self.unanswered_args.append((args.token, dict(args.args)))
        raise InvokeUnknown(args.token)

    def unsent(self, token: str, args: State) -> None:
        """An invoke the SDK did not send, its arguments being unknown: unanswered, unless it
        is one this cloud answers itself (a cluster's credential, facts), which says nothing of
        what the account holds."""
        if token == _CREDENTIAL or data_source(token) is not None:
            return
        with self._lock:
            self.unanswered.append(token)
            self.unanswered_args.append((token, dict(args)))

    def _lookup(self, lookup: Lookup, a: State) -> State:
        """What the account holds of one type, filtered as the provider filters."""
        with self._lock:
            held = [
                (rid, dict(state))
                for (typ, rid), state in self._held.items()
                if typ == lookup.type_
            ]
        found = [lookup.item(rid, state) for rid, state in held if lookup.matches(rid, state, a)]
        found.sort(key=lambda item: str(item["id"]))
        answer: State = {"ids": [item["id"] for item in found], lookup.key: found}
        if lookup.name_key is not None:
            answer["names"] = [item.get("name") for item in found]
        return answer

    def _stack_reference(self, ref: str, inputs: State) -> tuple[str, State]:
        outputs = self.stack_references.get(ref)
        if outputs is None:
            if self.preview:  # unknown, as a first preview of a stack that reads them would be
                return ref, {**inputs, "outputs": UNKNOWN, "secretOutputNames": UNKNOWN}
            with self._lock:
                self.rejected.append(StackReferenceUnknown(ref))
            outputs = {}
        return ref, {**inputs, "name": ref, "outputs": dict(outputs), "secretOutputNames": []}

    # -- per-type computed outputs -------------------------------------------------------------

    def _vpc(self, rid: str, i: State) -> tuple[str, State]:
        return rid, {
            "routeTableId": "vtb-" + _hex(rid, "rt"),
            "routerId": "vrt-" + _hex(rid, "router"),
            "status": "Available",
        }

    def _nat(self, rid: str, i: State) -> tuple[str, State]:
        # snat_table_ids is a string in the provider (an Enhanced NAT gateway has one table).
        return rid, {
            "snatTableIds": "stb-" + _hex(rid, "snat"),
            "forwardTableIds": "ftb-" + _hex(rid, "dnat"),
            "status": "Available",
        }

    def _eip(self, rid: str, i: State) -> tuple[str, State]:
        return rid, {"ipAddress": _ip("47.96", rid), "status": "InUse"}

    def _eip_association(self, rid: str, i: State) -> tuple[str, State]:
        return f"{i.get('allocationId')}:{i.get('instanceId')}", {}

    def _snat(self, rid: str, i: State) -> tuple[str, State]:
        entry = "snat-" + _hex(rid)
        return f"{i.get('snatTableId')}:{entry}", {"snatEntryId": entry, "status": "Available"}

    def _route_entry(self, rid: str, i: State) -> tuple[str, State]:
        parts = [i.get("routeTableId"), "vrt-" + _hex(rid), i.get("destinationCidrblock")]
        parts += [i.get("nexthopType"), i.get("nexthopId")]
        return ":".join(str(p) for p in parts), {}

    def _rt_attachment(self, rid: str, i: State) -> tuple[str, State]:
        return f"{i.get('routeTableId')}:{i.get('vswitchId')}", {}

    def _sg_rule(self, rid: str, i: State) -> tuple[str, State]:
        parts = [i.get("securityGroupId"), i.get("type"), i.get("ipProtocol")]
        parts += [i.get("portRange"), i.get("nicType", "internet"), i.get("cidrIp")]
        parts += [i.get("policy", "accept"), str(i.get("priority", 1))]
        return ":".join(str(p) for p in parts), {}

    def _role(self, rid: str, i: State) -> tuple[str, State]:
        name = str(i.get("roleName"))
        return name, {
            "arn": f"acs:ram::{_ACCOUNT}:role/{name.lower()}",
            # RAM's role IDs are digits (the library checks: ack_clusters.around.args).
            "roleId": _digits(name, n=19),
        }

    def _ram_user(self, rid: str, i: State) -> tuple[str, State]:
        # A user's ID is the user ID RAM assigns, digits (d.SetId(response.User.UserId),
        # resource_alicloud_ram_user.go).
        return _digits(str(i.get("name")), "user", n=16), {}

    def _oidc_provider(self, rid: str, i: State) -> tuple[str, State]:
        # Its ID is its name (resource_alicloud_ram_oidc_provider.go); its ARN names the account.
        name = str(i.get("oidcProviderName"))
        return name, {"arn": f"acs:ram::{_ACCOUNT}:oidc-provider/{name}"}

    def _transit_router(self, rid: str, i: State) -> tuple[str, State]:
        # ID "<CEN ID>:<transit router ID>" (resource_alicloud_cen_transit_router.go).
        router = rid.split(":")[1] if ":" in rid else "tr-" + _hex(rid)
        return f"{i.get('cenId')}:{router}", {"transitRouterId": router, "status": "Active"}

    def _transit_router_route_table(self, rid: str, i: State) -> tuple[str, State]:
        # ID "<transit router ID>:<route table ID>"
        # (resource_alicloud_cen_transit_router_route_table.go).
        table = rid.split(":")[1] if ":" in rid else "vtb-" + _hex(rid)
        return f"{i.get('transitRouterId')}:{table}", {
            "transitRouterRouteTableId": table,
            "status": "Active",
        }

    @staticmethod
    def _named(*keys: str) -> Callable[[str, State], tuple[str, State]]:
        """A resource whose ID is its name (a key pair's key_pair_name, or key_name before
        it; an SLS project's project_name, or name before it)."""

        def named(rid: str, i: State) -> tuple[str, State]:
            for key in keys:
                if isinstance(i.get(key), str) and i[key]:
                    return i[key], {}
            return rid, {}

        return named

    def _policy(self, rid: str, i: State) -> tuple[str, State]:
        return str(i.get("policyName")), {"defaultVersion": "v1"}

    def _role_attachment(self, rid: str, i: State) -> tuple[str, State]:
        return f"role:{i.get('policyName')}:{i.get('policyType')}:{i.get('roleName')}", {}

    def _cluster(self, rid: str, i: State) -> tuple[str, State]:
        cid = rid if re.fullmatch(r"c[0-9a-f]{32}", rid) else "c" + _hex(rid, n=32)
        internal = _ip("10.0", cid, "apiserver")
        public = i.get("slbInternetEnabled", True)
        connections = {
            "apiServerIntranet": f"https://{internal}:6443",
            "serviceDomain": f"*.{cid}.{_REGION}.alicontainer.com",
        }
        state: State = {
            "slbId": "lb-" + _hex(cid, "slb"),
            "slbIntranet": internal,
            "workerRamRoleName": f"KubernetesWorkerRole-{_hex(cid, 'role', n=8)}",
            # new_nat_gateway=False: ACK creates no NAT of its own.
            "natGatewayId": "" if i.get("newNatGateway") is False else "ngw-" + _hex(cid),
            "rrsaMetadata": {
                "enabled": bool(i.get("enableRrsa", False)),
                "ramOidcProviderArn": f"acs:ram::{_ACCOUNT}:oidc-provider/ack-rrsa-{cid}",
                "ramOidcProviderName": f"ack-rrsa-{cid}",
                "rrsaOidcIssuerUrl": f"https://oidc-ack-{_REGION}.oss-{_REGION}.aliyuncs.com/{cid}",
            },
        }
        if public:
            external = _ip("47.97", cid, "apiserver")
            connections["apiServerInternet"] = f"https://{external}:6443"
            state["slbInternet"] = external
        state["connections"] = [connections]  # a list of one in the provider's schema
        return cid, state

    def _node_pool(self, rid: str, i: State) -> tuple[str, State]:
        # An imported pool's ID is "<cluster ID>:<pool ID>".
        pool = rid.split(":")[1] if ":" in rid else "np" + _hex(rid, n=32)
        return f"{i.get('clusterId')}:{pool}", {
            "nodePoolId": pool,
            "scalingGroupId": "asg-" + _hex(pool),
        }

    def _transit_router_attachment(self, rid: str, i: State) -> tuple[str, State]:
        # The provider's ID is "<CEN ID>:<attachment ID>"; Read sets the attachment's own ID.
        attachment = rid.split(":")[1] if ":" in rid else "tr-attach-" + _hex(rid)
        return f"{i.get('cenId')}:{attachment}", {"transitRouterAttachmentId": attachment}

    def _slb(self, rid: str, i: State) -> tuple[str, State]:
        prefix = "47.98" if i.get("addressType") == "internet" else "10.0"
        return rid, {"address": _ip(prefix, rid), "status": "active"}

    def _k8s_object(self, rid: str, name: str, i: State) -> State:
        """The Kubernetes provider names an object without metadata.name `<name>-<8 chars>`."""
        meta = i.get("metadata")
        meta = dict(meta) if isinstance(meta, dict) else {}
        if not meta.get("name"):
            meta["name"] = f"{name}-{_hex('k8s', rid, n=8)}"
        return {"metadata": meta}

    def _k8s_service(self, rid: str, i: State) -> tuple[str, State]:
        return rid, {"status": {"loadBalancer": {"ingress": [{"ip": _ip("47.98", rid)}]}}}

    def _credential(self, a: State) -> State:
        cid = str(a.get("clusterId"))
        minutes = int(a.get("temporaryDurationMinutes") or 60)
        # ACK issues a new client certificate on every call, so the credential (and whatever
        # is configured from it) differs from run to run, as under the real engine.
        token = _hex(cid, "client-key", self.run_id, n=40)
        server = f"https://{_ip('10.0', cid, 'apiserver')}:6443"
        kubeconfig = (
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- cluster:\n    server: {server}\n"
            "    certificate-authority-data: RkFLRS1DQQ==\n"
            f"  name: {cid}\n"
            f"contexts:\n- context:\n    cluster: {cid}\n    user: {cid}-admin\n"
            f"  name: {cid}\ncurrent-context: {cid}\n"
            f"users:\n- name: {cid}-admin\n  user:\n    client-key-data: {token}\n"
        )
        return {
            "id": cid,
            "clusterId": cid,
            "clusterName": cid,
            "kubeConfig": kubeconfig,
            "expiration": f"+{minutes}m",
            "temporaryDurationMinutes": minutes,
            "certificateAuthorities": [
                {"clientCert": "RkFLRQ==", "clientKey": token, "clusterCert": "RkFLRS1DQQ=="}
            ],
        }


# -- invokes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """A data source that lists what the account holds of one resource type."""

    type_: str
    #: The result's list of items.
    key: str
    #: An item of the list, from a held resource's ID and state.
    item: Callable[[str, State], State]
    #: Invoke argument -> the state key it filters on (equality).
    filters: Mapping[str, str] = dataclass_field(default_factory=dict)
    #: The state key `nameRegex` matches, if the data source takes one.
    name_key: str | None = None

    def matches(self, rid: str, state: State, a: State) -> bool:
        ids = a.get("ids")
        if ids and rid not in ids:
            return False
        for arg, key in self.filters.items():
            if a.get(arg) not in (None, "") and state.get(key) != a.get(arg):
                return False
        wanted = a.get("tags") or {}
        held = state.get("tags") or {}
        if any(held.get(k) != v for k, v in wanted.items()):
            return False
        pattern = a.get("nameRegex")
        if pattern and self.name_key is not None:
            # The provider reads the pattern with Go's regexp, not Python's re (`[[:punct:]]`
            # is a POSIX class there): read as the pack reads it, or not answered at all.
            from ack_policies.goregex import go_search

            found = go_search(str(pattern), str(state.get(self.name_key) or ""))
            if found is None:
                raise UnreadPattern(str(pattern))
            return found
        return True


_CREDENTIAL = "alicloud:cs/getClusterCredential:getClusterCredential"
#: How the program's process tells the fake cloud of an invoke the SDK did not send.
UNSENT_TOKEN = "ack:offline:unsentInvoke"


class UnreadPattern(Exception):
    """A `name_regex` this cloud cannot read as the provider (Go's regexp) does: the lookup is
    left unanswered (unknown), never answered by another reading."""


def _item(**keys: str) -> Callable[[str, State], State]:
    """An item with the resource's ID and the state keys given (item key -> state key)."""

    def build(rid: str, state: State) -> State:
        return {"id": rid, **{k: state.get(v) for k, v in keys.items()}, "tags": state.get("tags")}

    return build


LOOKUPS: dict[str, Lookup] = {
    "alicloud:ecs/getSecurityGroups:getSecurityGroups": Lookup(
        "alicloud:ecs/securityGroup:SecurityGroup",
        "groups",
        _item(vpcId="vpcId", name="securityGroupName"),
        {"vpcId": "vpcId"},
        "securityGroupName",
    ),
    "alicloud:vpc/getSwitches:getSwitches": Lookup(
        "alicloud:vpc/switch:Switch",
        "vswitches",
        _item(vpcId="vpcId", zoneId="zoneId", cidrBlock="cidrBlock", name="vswitchName"),
        {"vpcId": "vpcId", "zoneId": "zoneId", "cidrBlock": "cidrBlock"},
        "vswitchName",
    ),
    "alicloud:vpc/getNetworks:getNetworks": Lookup(
        "alicloud:vpc/network:Network",
        "vpcs",
        _item(cidrBlock="cidrBlock", routeTableId="routeTableId", name="vpcName"),
        {"cidrBlock": "cidrBlock"},
        "vpcName",
    ),
    "alicloud:vpc/getRouteTables:getRouteTables": Lookup(
        _ROUTE_TABLE,
        "tables",
        _item(vpcId="vpcId", routeTableId="id", name="routeTableName"),
        {"vpcId": "vpcId"},
        "routeTableName",
    ),
    "alicloud:vpc/getNatGateways:getNatGateways": Lookup(
        "alicloud:vpc/natGateway:NatGateway",
        "gateways",
        _item(vpcId="vpcId", snatTableIds="snatTableIds", forwardTableIds="forwardTableIds"),
        {"vpcId": "vpcId"},
        "natGatewayName",
    ),
    "alicloud:ram/getRoles:getRoles": Lookup(
        "alicloud:ram/role:Role",
        "roles",
        _item(name="roleName", arn="arn"),
        {},
        "roleName",
    ),
    "alicloud:slb/getApplicationLoadBalancers:getApplicationLoadBalancers": Lookup(
        _SLB, "balancers", _item(address="address", name="loadBalancerName"), {}, "loadBalancerName"
    ),
    "alicloud:cs/getManagedKubernetesClusters:getManagedKubernetesClusters": Lookup(
        "alicloud:cs/managedKubernetes:ManagedKubernetes",
        "clusters",
        _item(name="name", vpcId="vpcId", securityGroupId="securityGroupId"),
        {},
        "name",
    ),
}

#: Zones of the regions programs here use; another region gets three made-up zones.
_ZONES = {
    "cn-hangzhou": "hijk",
    "cn-shanghai": "efglmn",
    "cn-beijing": "acdefghijkl",
    "cn-shenzhen": "acdef",
}
_INSTANCE_TYPES = ("ecs.g7.large", "ecs.g7.xlarge", "ecs.c7.large", "ecs.r7.large")


def _region() -> str:
    import pulumi

    return pulumi.Config("alicloud").get("region") or _REGION


def _zones(a: State, region: str) -> State:
    zones = [f"{region}-{letter}" for letter in _ZONES.get(region, "abc")]
    return {"ids": zones, "zones": [{"id": z, "localName": z} for z in zones]}


def _instance_types(a: State, region: str) -> State:
    types = [
        t
        for t in _INSTANCE_TYPES
        if not a.get("instanceTypeFamily") or t.startswith(str(a["instanceTypeFamily"]) + ".")
    ] or list(_INSTANCE_TYPES)
    return {
        "ids": types,
        "instanceTypes": [
            {"id": t, "family": t.rsplit(".", 1)[0], "cpuCoreCount": 2, "memorySize": 8}
            for t in types
        ],
    }


def _instance_type_families(a: State, region: str) -> State:
    families = sorted({t.rsplit(".", 1)[0] for t in _INSTANCE_TYPES})
    zones = _zones(a, region)["ids"]
    return {
        "ids": families,
        "families": [{"id": f, "generation": "ecs-5", "zoneIds": zones} for f in families],
    }


#: A service's availability-zone data source (`alicloud:<service>/getZones:getZones`): the
#: region's zones, in that service's result shape. Not `pvtz`, whose getZones lists PrivateZone
#: zones (DNS zones an account holds), nor a service whose shape is not written here (it stays
#: unknown). Shapes: each module's `GetZonesZoneResult` in pulumi_alicloud 4.x.
_SERVICE_ZONES = re.compile(r"alicloud:([a-z0-9]+)/getZones:getZones")
_ZONE_SHAPES: dict[str, Callable[[str, list[str]], State]] = {
    **{
        service: lambda z, zones: {"id": z, "multiZoneIds": []}
        for service in (
            "adb",
            "cassandra",
            "elasticsearch",
            "gpdb",
            "kvstore",
            "mongodb",
            "polardb",
            "rds",
        )
    },
    **{
        service: lambda z, zones: {"id": z, "zoneId": z, "localName": z}
        for service in ("alb", "gwlb", "nlb", "tsdb")
    },
    **{service: lambda z, zones: {"id": z} for service in ("fc", "hbase")},
    **{service: lambda z, zones: {"zoneId": z} for service in ("ecp", "eds")},
    "cddc": lambda z, zones: {"id": z, "zoneId": z, "regionId": z.rsplit("-", 1)[0]},
    "nas": lambda z, zones: {"zoneId": z, "instanceTypes": []},
    "dfs": lambda z, zones: {"zoneId": z, "options": []},
    "eci": lambda z, zones: {"zoneIds": zones},
    "slb": lambda z, zones: {
        "id": z,
        "masterZoneId": z,
        "slaveZoneId": next((o for o in zones if o != z), z),
        "slbSlaveZoneIds": [o for o in zones if o != z],
        "supportedResources": [],
    },
}


def _service_zones(service: str) -> Callable[[State, str], State]:
    shape = _ZONE_SHAPES[service]

    def answer(a: State, region: str) -> State:
        zones = _zones(a, region)["ids"]
        if service == "eci":  # one item: the region's zones together
            endpoint = f"eci.{region}.aliyuncs.com"
            return {"zones": [{"zoneIds": zones, "regionEndpoint": endpoint}]}
        return {"ids": zones, "zones": [shape(z, zones) for z in zones]}

    return answer


def data_source(token: str) -> Callable[[State, str], State] | None:
    """How the fake cloud answers a data source of facts, if it is one."""
    found = DATA_SOURCES.get(token)
    if found is not None:
        return found
    zones = _SERVICE_ZONES.fullmatch(token)
    if zones is not None and zones.group(1) in _ZONE_SHAPES:
        return _service_zones(zones.group(1))
    return None


def _images(a: State, region: str) -> State:
    image = "aliyun_3_x64_20G_alibase_20240819.vhd"
    return {"ids": [image], "images": [{"id": image, "imageId": image, "osType": "linux"}]}


def _versions(a: State, region: str) -> State:
    from ack_clusters.facts import KUBERNETES_MINORS

    versions = [{"version": f"1.{m}.1-aliyun.1"} for m in sorted(KUBERNETES_MINORS, reverse=True)]
    return {"metadatas": versions, "id": "versions"}


def _yaml_documents(text: Any) -> list[Any]:
    import yaml

    if not isinstance(text, str):
        return []
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


#: Data sources of facts rather than of what the program manages: answered the same way in
#: preview and update.
DATA_SOURCES: dict[str, Callable[[State, str], State]] = {
    "alicloud:index/getZones:getZones": _zones,
    "alicloud:index/getRegions:getRegions": lambda a, region: {
        "ids": [region],
        "regions": [{"id": region, "regionId": region, "localName": region}],
    },
    "alicloud:index/getAccount:getAccount": lambda a, region: {"id": _ACCOUNT},
    "alicloud:index/getCallerIdentity:getCallerIdentity": lambda a, region: {
        "id": _ACCOUNT,
        "accountId": _ACCOUNT,
        "arn": f"acs:ram::{_ACCOUNT}:user/deploy",
        "identityType": "RAMUser",
        "principalId": _hex(_ACCOUNT, "deploy", n=16),
    },
    "alicloud:ecs/getInstanceTypes:getInstanceTypes": _instance_types,
    "alicloud:ecs/getInstanceTypeFamilies:getInstanceTypeFamilies": _instance_type_families,
    "alicloud:ecs/getImages:getImages": _images,
    "alicloud:cs/getKubernetesVersion:getKubernetesVersion": _versions,
    # The Kubernetes provider parses YAML for `yaml.ConfigFile`/`ConfigGroup` (v1), which then
    # register each object in the program's process.
    "kubernetes:yaml:decode": lambda a, region: {"result": _yaml_documents(a.get("text"))},
}
