"""Run a Pulumi program under the mock engine and record everything the engine would see."""

from __future__ import annotations

import asyncio
import gc
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import mocks
from pulumi.runtime._callbacks import _CallbackServicer
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.rpc import (
    UNKNOWN,
    _special_resource_sig,
    _special_secret_sig,
    _special_sig_key,
)
from pulumi.runtime.settings import SETTINGS, get_project, get_stack, set_root_resource
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from ack_clusters.redaction import HIDDEN, spellings

from . import provider
from .speed import no_stack_traces, outputs_awaited_together

SECRET = HIDDEN
UNKNOWN_TEXT = "[unknown]"
#: Stands in for `secure:` config values, which only the Pulumi CLI can decrypt. It satisfies
#: Alibaba's password rules so programs validate as they would with the real value.
SECURE_PLACEHOLDER = "Offline-Secret-0"
#: The placeholder in any case: the engine hides a decrypted config secret wherever a program
#: put it, even when read with a plain `get`, and so does everything offline (see `unsecure`).
_PLACEHOLDER = re.compile(re.escape(SECURE_PLACEHOLDER), re.IGNORECASE)


def unsecure(text: str) -> str:
    """`text` with the `secure:` placeholder shown as [secret]. The Pulumi SDK hands a program a
    secret config value read with a plain `get` as plain text (pulumi.Config.get), and the
    engine replaces that text with "[secret]" in every string it shows, messages and resource
    properties alike (its event filter of decrypted config values): so does ack-preview."""
    return _PLACEHOLDER.sub(SECRET, text) if _PLACEHOLDER.search(text) else text


def sanitize(value: Any) -> Any:
    """Wire value -> plain JSON: secrets masked, unknowns marked, resource refs as their URN,
    the `secure:` placeholder shown as [secret] wherever a program put it in plain text.

    Works on the raw protobuf Struct, so a secret can never be unwrapped by accident here."""
    if isinstance(value, dict):
        sig = value.get(_special_sig_key)
        if sig == _special_secret_sig:
            return SECRET
        if sig == _special_resource_sig:
            return {"urn": value.get("urn")}
        return {unsecure(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize(v) for v in value]
    if value == UNKNOWN:
        return UNKNOWN_TEXT
    if isinstance(value, str):
        return unsecure(value)
    return value


def secret_values(resources: Iterable[RecordedResource]) -> set[str]:
    """Every spelling of every secret input `resources` were sent with, and of the `secure:`
    placeholder: what no message a tool prints may hold (a rule that quotes an input, a
    program's error or log line)."""
    found: set[str] = spellings(SECURE_PLACEHOLDER)

    def walk(value: Any, inside_secret: bool) -> None:
        if isinstance(value, dict):
            secret = value.get(_special_sig_key) == _special_secret_sig
            for k, v in value.items():
                walk(v, inside_secret or (secret and k == "value"))
        elif isinstance(value, list):
            for v in value:
                walk(v, inside_secret)
        elif inside_secret:
            found.update(spellings(value))

    for r in resources:
        walk(r.wire_inputs, False)
    return found


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    ignore_changes: list[str]
    import_id: str
    provider: str
    delete_before_replace: bool
    aliases: list[str] = field(default_factory=list)
    #: customTimeouts as registered (create, update, delete, read), unset ones absent.
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    #: The options the engine keeps to itself (:func:`engine_options`).
    engine_options: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Alias specs as sent (name, type, parentUrn, noParent, ...); see ProgramRun.alias_urns.
    alias_specs: list[dict[str, Any]] = field(default_factory=list)
    #: The inputs exactly as sent on the wire (secrets still wrapped, never unwrapped here); for
    #: forwarding to a policy pack, never for printing.
    wire_inputs: dict[str, Any] = field(default_factory=dict, repr=False)
    #: The ID and state the (fake) cloud answered with, secrets masked.
    id: str = ""
    state: dict[str, Any] = field(default_factory=dict, repr=False)
    #: A read of an existing resource (`.get`), not one the program manages.
    read: bool = False
    #: A component a provider constructs (a multi-language component: YAML groups, charts).
    remote: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    #: What the engine keeps as the resource's outputs, on the wire (secrets still wrapped):
    #: for a resource, what the (fake) cloud answered, with its ID as the Terraform bridge
    #: gives it (unknown at preview); for a component, what it registered as its outputs.
    #: A stack analysis sees these, as the engine's AnalyzeStack does.
    wire_outputs: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "inputs": self.inputs,
            "dependencies": self.dependencies,
            "property_dependencies": self.property_dependencies,
            "ignore_changes": self.ignore_changes,
            "import_id": self.import_id,
            "provider": self.provider,
        }


class RecordingMonitor(mocks.MockMonitor):
    """A MockMonitor that keeps each registration request (parents, dependencies, options) and
    the stack's outputs, which the stock monitor drops, and makes URNs as the engine does."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: the parent's full qualified type chain, and no root-stack prefix
        (``urn:pulumi:S::P::ack:index:ManagedCluster$ack:index:NodePool$alicloud:...::n``). The
        stock mock keeps only the last parent type and prefixes the stack type; policies that
        read ownership from a URN need the real form. (Same rule as the SDK's ``create_urn``.)"""
        prefix = ""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                prefix = qualified + "$"
        stack, project = self.stack or get_stack(), self.project or get_project()
        return f"urn:pulumi:{stack}::{project}::{prefix}{type_}::{name}"

    def __init__(
        self,
        mock: mocks.Mocks,
        *,
        project: str | None = None,
        stack: str | None = None,
        invoke_callback: Callable[[Any, bytes], bytes] | None = None,
    ) -> None:
        super().__init__(mock)
        #: The program's project and stack (default: this process's Pulumi settings).
        self.project, self.stack = project, stack
        #: How a program's callback (a transform) is called when the program runs in another
        #: process, as the engine calls it: over gRPC, to the program's callback server.
        self.invoke_callback = invoke_callback
        self.records: list[RecordedResource] = []
        #: Reads of existing resources (`Resource.get`), which the program does not manage.
        self.reads: list[RecordedResource] = []
        self.outputs: dict[str, dict[str, Any]] = {}
        #: Components' registered outputs as sent (secrets wrapped), by URN.
        self.wire_outputs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        #: Transform callbacks by URN (a resource's own, which its children inherit) and the
        #: stack's, in the order they were registered.
        self._transforms: dict[str, list[Any]] = {}
        self._stack_transforms_cb: list[Any] = []
        self._urns: set[str] = set()
        self._parents: dict[str, str] = {}
        #: What the engine refuses (duplicate URNs), raised when the run ends.
        self.failures: list[Exception] = []
        #: The program's event loop (set by run_program), where transform callbacks run.
        self.loop: asyncio.AbstractEventLoop | None = None

    def RegisterStackTransform(self, request: Any) -> Any:
        with self._lock:
            self._stack_transforms_cb.append(request)
        return super().RegisterStackTransform(request)

    def _apply_transforms(self, request: Any) -> None:
        """Run the new-style transforms as the engine runs them, which the stock mock monitor
        skips: the resource's own, then each ancestor's (nearest first), then the stack's. Each
        gets the properties and options the previous one returned, through the SDK's own
        callback (the code the engine calls over gRPC)."""
        with self._lock:
            chain = list(request.transforms)
            parent = request.parent
            while parent:
                chain += self._transforms.get(parent, [])
                parent = self._parents.get(parent, "")
            chain += self._stack_transforms_cb
        if not chain:
            return
        for callback in chain:
            transform = resource_pb2.TransformRequest(
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                properties=request.object,
                options=_transform_options(request),
            )
            if self.invoke_callback is not None:
                answer_bytes = self.invoke_callback(callback, transform.SerializeToString())
                reply = resource_pb2.TransformResponse.FromString(answer_bytes)
            else:
                run = _callback(callback.token)
                if run is None:
                    raise RuntimeError(f"transform callback {callback.token} is not registered")
                # Registrations arrive on an executor thread while the program's loop waits for
                # them; the callback awaits values of that loop, so it runs there.
                assert self.loop is not None, "run_program sets the loop before the program runs"
                answer = asyncio.run_coroutine_threadsafe(
                    run(transform.SerializeToString()), self.loop
                ).result()
                reply = resource_pb2.TransformResponse.FromString(answer.SerializeToString())
            request.object.CopyFrom(reply.properties)
            if reply.HasField("options"):
                _apply_options(request, reply.options)

    def RegisterResource(self, request: Any) -> Any:
        self._apply_transforms(request)
        if request.custom and "__defaults" in request.object.fields:
            # The Terraform bridge lists the inputs it defaulted itself, whatever a program
            # (or a transform) sent under that key; no defaults are applied here.
            del request.object.fields["__defaults"]
        wire = json_format.MessageToDict(request.object)
        check = getattr(self.mocks, "check", None)
        if callable(check):
            check(
                request.type,
                request.name,
                wire,
                custom=bool(request.custom),
                importing=bool(request.importId),
            )
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            # The stock mock registers a root stack before run_program registers the real one.
            if urn in self._urns and request.type != "pulumi:pulumi:Stack":
                # The engine refuses a second registration of one URN; the run fails at the
                # end (raising here would leave the program's other registrations hanging).
                self.failures.append(DuplicateUrn(urn))
            self._urns.add(urn)
            self._parents[urn] = request.parent
            self._transforms[urn] = list(request.transforms)
        response = super().RegisterResource(request)
        if request.importId and request.custom:
            problems = provider.import_mismatches(request.type, wire, request.ignoreChanges)
            if problems:
                with self._lock:
                    self.failures.append(
                        provider.ImportMismatch(
                            request.type, request.name, request.importId, problems
                        )
                    )
        state = json_format.MessageToDict(response.object)
        # A resource's outputs hold its inputs (a value unknown at preview stays unknown, as a
        # provider's preview keeps it), then what the cloud computed, and its ID.
        outputs = {**wire, **state, "id": response.id or UNKNOWN} if request.custom else {}
        rec = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            protect=bool(request.protect),
            inputs=sanitize(wire),
            wire_inputs=wire,
            id=response.id,
            state=sanitize(state),
            wire_outputs=outputs,
            additional_secret_outputs=list(request.additionalSecretOutputs),
            dependencies=sorted(request.dependencies),
            property_dependencies={
                k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items())
            },
            ignore_changes=list(request.ignoreChanges),
            import_id=request.importId,
            provider=request.provider,
            delete_before_replace=bool(request.deleteBeforeReplace),
            remote=bool(request.remote),
            aliases=[a.urn for a in request.aliases if a.urn] + list(request.aliasURNs),
            custom_timeouts={
                k: v for k, v in json_format.MessageToDict(request.customTimeouts).items() if v
            },
            engine_options=engine_options(request),
            alias_specs=[
                json_format.MessageToDict(a.spec) for a in request.aliases if a.HasField("spec")
            ],
        )
        with self._lock:
            self.records.append(rec)
        return response

    def Invoke(self, request: Any) -> Any:
        """An invoke the fake cloud cannot answer has an unknown result, as the engine answers
        one whose dependencies are still to be created: the program gets an unknown value."""
        from .fake_cloud import InvokeUnknown

        try:
            return super().Invoke(request)
        except InvokeUnknown:
            return resource_pb2.ResourceInvokeResponse(unknown=True)

    def ReadResource(self, request: Any) -> Any:
        """A `.get` (or any read of an existing resource): recorded apart from what the program
        manages, with the state the cloud answered (the SDK drops the ID's dependencies, so what
        links a read to the resource it names is that state, its ownership tags above all). The
        engine keeps reads in the stack's state, and the policy gate's stack view sees them."""
        response = super().ReadResource(request)
        properties = json_format.MessageToDict(response.properties)
        outputs = {**properties, "id": request.id or UNKNOWN}
        rec = RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=True,
            protect=False,
            inputs=sanitize(properties),
            wire_inputs=properties,
            id=request.id,
            dependencies=sorted(request.dependencies),
            property_dependencies={},
            ignore_changes=[],
            import_id="",
            provider=request.provider,
            delete_before_replace=False,
            read=True,
            wire_outputs=outputs,
        )
        with self._lock:
            self.reads.append(rec)
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        wire = json_format.MessageToDict(request.outputs)
        with self._lock:
            self.outputs[request.urn] = sanitize(wire)
            self.wire_outputs[request.urn] = wire
        return super().RegisterResourceOutputs(request)


class _NoServer:
    async def stop(self, grace: float | None = None) -> None:
        return None


class InProcessCallbacks(_CallbackServicer):
    """The SDK's servicer of program callbacks (transforms), without its gRPC server.

    Under the engine, the program serves its transforms over gRPC and the engine calls them;
    here the recording monitor calls them in the program's own process and loop (see
    RecordingMonitor._apply_transforms), so no server is needed. Starting one for every program
    would also leave gRPC's threads in a process that later forks a program's process, where
    gRPC then hangs."""

    def __init__(self, monitor: Any, loop: asyncio.AbstractEventLoop) -> None:
        _CallbackServicer._servicers.append(self)
        self._callbacks = {}
        self._transforms = {}
        self._state_migrations = {}
        self._monitor = monitor
        self._loop = loop
        self._server = _NoServer()  # type: ignore[assignment]
        self._target = "in-process"

    async def serve(self) -> None:
        return None


class DuplicateUrn(Exception):
    """Two resources with one URN: the engine stops the deployment ("Duplicate resource URN")."""

    def __init__(self, urn: str) -> None:
        super().__init__(
            f"duplicate resource URN {urn!r}: two resources of one type have the same name "
            "under the same parent (the real engine refuses the second); give one another name"
        )
        self.urn = urn


def _callback(token: str) -> Any:
    for servicer in _CallbackServicer._servicers:
        found = servicer._callbacks.get(token)
        if found is not None:
            return found
    return None


_OPTION_FIELDS = (
    # (TransformResourceOptions field, RegisterResourceRequest field): every option a transform
    # is given and may change, as the engine hands them over and applies what it returns.
    ("protect", "protect"),
    ("ignore_changes", "ignoreChanges"),
    ("replace_on_changes", "replaceOnChanges"),
    ("delete_before_replace", "deleteBeforeReplace"),
    ("retain_on_delete", "retainOnDelete"),
    ("additional_secret_outputs", "additionalSecretOutputs"),
    ("depends_on", "dependencies"),
    ("provider", "provider"),
    ("deleted_with", "deletedWith"),
    ("import", "importId"),
    ("hide_diff", "hideDiffs"),
    ("aliases", "aliases"),
    ("custom_timeouts", "customTimeouts"),
    ("version", "version"),
    ("plugin_download_url", "pluginDownloadURL"),
    ("plugin_checksums", "pluginChecksums"),
    ("providers", "providers"),
    ("hooks", "hooks"),
    ("replace_with", "replace_with"),
    ("replacement_trigger", "replacement_trigger"),
)


def _copy_field(source: Any, name: str, target: Any, into: str, *, unset: bool = True) -> None:
    """One field from one message to another: a list or map replaced whole, a message copied,
    a scalar set (an empty one only if `unset`)."""
    value = getattr(source, name)
    current = getattr(target, into)
    if hasattr(current, "extend"):  # repeated
        del current[:]
        for item in value:
            if hasattr(item, "CopyFrom"):
                current.add().CopyFrom(item)
            else:
                current.append(item)
    elif hasattr(current, "items") and not hasattr(current, "ListFields"):  # map
        current.clear()
        current.update(dict(value.items()))
    elif hasattr(current, "CopyFrom"):  # message
        if source.HasField(name):
            current.CopyFrom(value)
        else:
            target.ClearField(into)
    elif value or unset:
        setattr(target, into, value)


def _transform_options(request: Any) -> Any:
    opts = resource_pb2.TransformResourceOptions()
    for field_, source in _OPTION_FIELDS:
        _copy_field(request, source, opts, field_, unset=False)
    return opts


def _apply_options(request: Any, opts: Any) -> None:
    for field_, target in _OPTION_FIELDS:
        _copy_field(opts, field_, request, target)
    if opts.HasField("delete_before_replace"):
        request.deleteBeforeReplaceDefined = True
    if opts.aliases:
        del request.aliasURNs[:]  # the transform's aliases replace the SDK's


def engine_options(request: Any) -> dict[str, Any]:
    """The options of a registration the engine keeps to itself (not handed to an analyzer),
    named as ack_policies.record.ENGINE_OPTIONS names them; providers by URN."""
    hooks = request.hooks
    return {
        "importId": request.importId,
        "retainOnDelete": request.retainOnDelete,
        "deletedWith": request.deletedWith,
        "replaceOnChanges": list(request.replaceOnChanges),
        "replaceWith": list(request.replace_with),
        "replacementTrigger": (
            json_format.MessageToDict(request.replacement_trigger)
            if request.HasField("replacement_trigger")
            else None
        ),
        "dependencies": list(request.dependencies),
        "version": request.version,
        "pluginDownloadURL": request.pluginDownloadURL,
        "pluginChecksums": {k: v.hex() for k, v in request.pluginChecksums.items()},
        "providers": {k: v.rsplit("::", 1)[0] for k, v in request.providers.items()},
        "hooks": (
            {f.name: list(v) for f, v in hooks.ListFields()} if request.HasField("hooks") else None
        ),
        "hideDiffs": list(request.hideDiffs),
        "envVarMappings": dict(request.envVarMappings.items()),
    }


@dataclass
class ProgramRun:
    resources: list[RecordedResource]
    stack_outputs: dict[str, Any]
    component_outputs: dict[str, dict[str, Any]]
    invokes: list[str]
    #: Reads of existing resources (`.get`); not among `resources`, which the program manages.
    reads: list[RecordedResource] = field(default_factory=list)
    #: (token, arguments) of the invokes the fake cloud could not answer (their result unknown).
    unanswered: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def by_type(self, typ: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> RecordedResource:
        found = self.by_type(typ)
        if len(found) != 1:
            raise AssertionError(f"expected one {typ}, found {len(found)}")
        return found[0]

    def get(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)

    def alias_urns(self) -> dict[str, set[str]]:
        """Every URN each resource answers to besides its own, as the engine derives them: its
        own aliases (URNs, or specs resolved against its name, type and parent), plus one alias
        under each alias of its parent (children inherit their parent's aliases)."""
        by_urn = {r.urn: r for r in self.resources}
        memo: dict[str, set[str]] = {}

        def qualified(urn: str) -> str:
            return urn.split("::")[2]

        def under(parent_urn: str, type_: str, name: str) -> str:
            head = parent_urn.split("::")[0:2]
            return "::".join([*head, f"{qualified(parent_urn)}${type_}", name])

        def of(r: RecordedResource) -> set[str]:
            if r.urn in memo:
                return memo[r.urn]
            found = set(r.aliases)
            for spec in r.alias_specs:
                type_, name = spec.get("type") or r.type, spec.get("name") or r.name
                parent = None if spec.get("noParent") else spec.get("parentUrn") or r.parent
                if parent and parent in by_urn:
                    found.add(under(parent, type_, name))
                else:
                    head = r.urn.split("::")[0:2]
                    found.add("::".join([*head, type_, name]))
            parent_res = by_urn.get(r.parent)
            if parent_res is not None:
                found |= {under(pa, r.type, r.name) for pa in of(parent_res)}
            memo[r.urn] = found
            return found

        return {r.urn: of(r) for r in self.resources}


class Refusals(Exception):
    """More than one refusal (provider checks, duplicate URNs); the message lists each."""

    def __init__(self, rejected: list[Exception]) -> None:
        self.rejected = rejected
        super().__init__("\n".join(str(r) for r in rejected))


def _raise_refusals(
    monitor: RecordingMonitor, mock: mocks.Mocks, cause: BaseException | None = None
) -> None:
    refused = [*monitor.failures, *getattr(mock, "rejected", ())]
    if refused:
        raise (refused[0] if len(refused) == 1 else Refusals(refused)) from cause


def run_program(
    program: Callable[[], object],
    *,
    mock: mocks.Mocks,
    project: str = "project",
    stack: str = "stack",
    preview: bool = False,
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
) -> ProgramRun:
    """Run ``program`` to completion under ``mock`` and return what the engine saw.

    Each call starts from a clean runtime (settings, root stack, config), so runs in one process
    do not leak into each other. Errors raised by the program propagate unchanged."""
    # Nothing offline reads source positions: no resource walks the stack, the root stack
    # set_mocks registers included.
    from .fake_cloud import plain_invokes_explained

    with no_stack_traces(), outputs_awaited_together(), plain_invokes_explained():
        monitor = RecordingMonitor(mock)
        set_all_config(dict(config or {}), secret_keys or [])
        mocks.set_mocks(mock, project=project, stack=stack, preview=preview, monitor=monitor)
        # set_mocks registers a bare root stack; replace it with one that collects exports.
        set_root_resource(None)  # type: ignore[arg-type]
        SETTINGS.rpc_manager.clear()
        with SETTINGS.lock:
            SETTINGS.outputs.clear()  # tasks a failed earlier run left: not this run's to await

        def body() -> None:
            program()  # its return value, if any, is not a stack output

        # A program may tune this process's collector (ack_clusters.process.tune_gc); under the
        # engine it has a process of its own, so here the setting ends with the run.
        thresholds = gc.get_threshold()
        monitor.loop = asyncio.get_event_loop()
        SETTINGS.callbacks = InProcessCallbacks(SETTINGS.monitor, monitor.loop)
        try:
            _sync_await(run_in_stack(body))
        except Exception as exc:
            # A refused input, a duplicate URN or an unknown stack reference is the cause; what
            # failed after it (a missing output, say) is the symptom.
            _raise_refusals(monitor, mock, cause=exc)
            raise
        finally:
            set_root_resource(None)  # type: ignore[arg-type]
            gc.set_threshold(*thresholds)
    return recorded(monitor, mock)


def recorded(monitor: RecordingMonitor, mock: mocks.Mocks) -> ProgramRun:
    """What a monitor saw of a program that finished: its refusals raised, or the run."""
    _raise_refusals(monitor, mock)
    resources = [r for r in monitor.records if r.type != "pulumi:pulumi:Stack"]
    for r in resources:
        if not r.custom:
            r.wire_outputs = monitor.wire_outputs.get(r.urn, {})
    stack_urn = next((r.urn for r in monitor.records if r.type == "pulumi:pulumi:Stack"), "")
    return ProgramRun(
        resources=resources,
        stack_outputs=monitor.outputs.get(stack_urn, {}),
        component_outputs={u: o for u, o in monitor.outputs.items() if u != stack_urn},
        invokes=list(getattr(mock, "invokes", [])),
        reads=sorted(monitor.reads, key=lambda r: r.urn),
        unanswered=list(getattr(mock, "unanswered_args", [])),
    )


def refusals(monitor: RecordingMonitor, mock: mocks.Mocks) -> Exception | None:
    """What the engine refused in a run (provider checks, duplicate URNs), if anything."""
    refused = [*monitor.failures, *getattr(mock, "rejected", ())]
    if not refused:
        return None
    return refused[0] if len(refused) == 1 else Refusals(refused)
