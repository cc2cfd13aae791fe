"""The policy gate: drive policy packs over the analyzer gRPC protocol, as the Pulumi engine does.

Each pack runs as its own process (``python -u -m pulumi.policy ADDRESS PACK_DIR``, the command
the engine's Python analyzer host runs, under :data:`PACK_LAUNCHER`, which lets only this gate
call it), prints its port, and is then asked over gRPC for its
policies (``GetAnalyzerInfo``), configured (``Configure``, ``ConfigureStack``), and fed one
``Analyze`` call per resource and one ``AnalyzeStack`` call for the whole stack. Nothing here
imports the rules, so what passes here passes under ``pulumi preview --policy-pack``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import os
import re
import secrets
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ack_clusters.redaction import redact as redact_text
from ack_policies import record

from .reaper import DIE_WITH_PARENT_SOURCE
from .recorder import ProgramRun, RecordedResource
from .recorder import secret_values as recorded_secrets

LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}
START_TIMEOUT = 60.0
#: Deadline of every call to a started pack: a pack that hangs ends the gate with exit 2
#: ("not proven safe"), never with a pass.
CALL_TIMEOUT = 300.0


class GateError(Exception):
    """A policy pack could not be started, configured or asked."""


@dataclass(frozen=True)
class Violation:
    policy: str
    pack: str
    urn: str
    enforcement: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "pack": self.pack,
            "urn": self.urn,
            "enforcement": self.enforcement,
            "message": self.message,
        }


@dataclass(frozen=True)
class Override:
    """A change the policy config makes to a policy: its level, or properties such as `allow`."""

    pack: str
    policy: str
    default: str
    level: str
    properties: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "policy": self.policy,
            "default": self.default,
            "level": self.level,
            "properties": dict(self.properties),
        }

    def describe(self) -> str:
        level = self.level if self.level == self.default else f"{self.default} -> {self.level}"
        props = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(self.properties.items()))
        return f"{self.pack}/{self.policy}: {level}" + (f" ({props})" if props else "")


@dataclass(frozen=True)
class StackContext:
    project: str
    stack: str
    dry_run: bool
    config: Mapping[str, str]
    tags: Mapping[str, str]
    #: The program's folder, against which the Kubernetes provider resolves the files a
    #: program names (given to the pack as ACK_PROGRAM_DIR: the engine tells it nothing).
    program_dir: str = ""


def _deterministic(message: Any) -> bytes:
    data: bytes = message.SerializeToString(deterministic=True)
    return data


#: Run by a policy pack's interpreter in place of ``python -m pulumi.policy ADDRESS PACK_DIR``
#: (argv: the gate's PID, then those two). Before any of the pack's code runs:
#:
#: - SIGKILL when the gate ends, even by SIGKILL (PR_SET_PDEATHSIG; it gives up if the gate has
#:   already ended);
#: - non-dumpable (PR_SET_DUMPABLE 0; exec makes a process dumpable again, so the pack sets it
#:   itself): its /proc entries (memory, descriptors, environment) are root's, out of reach
#:   of a program running as the same user;
#: - its gRPC server answers only calls carrying the token the gate writes to its standard
#:   input: the pack listens on a TCP port of 127.0.0.1, which any local process can find and
#:   call, and a program's process (or one it left running) could otherwise send the pack a
#:   `Configure` of its own between the gate's `Configure` and `Analyze` calls, or after them.
#:
#: Then pulumi.policy runs as `-m` would run it. Where prctl is missing (not Linux), the first two
#: are skipped; the token holds everywhere.
PACK_LAUNCHER = (
    DIE_WITH_PARENT_SOURCE
    + """\
if prctl is not None:
    prctl(4, 0, 0, 0, 0)
import hmac, runpy
token = sys.stdin.readline().strip().encode()
sys.stdin.close()
if len(token) < 32:
    sys.exit("ack-preview: the policy pack got no token from its gate")
import grpc

def _refuse(request, context):
    context.abort(grpc.StatusCode.UNAUTHENTICATED, "only the gate that started it may call")

_REFUSED = grpc.unary_unary_rpc_method_handler(_refuse)

class _OnlyTheGate(grpc.ServerInterceptor):
    def intercept_service(self, continuation, details):
        given = dict(details.invocation_metadata or ()).get("ack-gate-token", "")
        if isinstance(given, str) and hmac.compare_digest(given.encode(), token):
            return continuation(details)
        return _REFUSED

_server = grpc.server

def _guarded_server(*args, **kwargs):
    # The rules are loaded by now: say which files the pack runs on, and where it looks for
    # more, before the port (ack_offline.integrity takes a digest of them).
    import json
    files = sorted(
        {f for m in list(sys.modules.values()) for f in [getattr(m, "__file__", None)] if f}
    )
    said = {"files": [f for f in files if isinstance(f, str)], "path": sys.path}
    sys.stdout.write("ack-modules " + json.dumps(said) + "\\n")
    sys.stdout.flush()
    kwargs["interceptors"] = [_OnlyTheGate(), *(kwargs.get("interceptors") or ())]
    return _server(*args, **kwargs)

grpc.server = _guarded_server
sys.argv = [sys.argv[0], *sys.argv[2:]]
runpy.run_module("pulumi.policy", run_name="__main__", alter_sys=True)
"""
)


class _Token(
    grpc.UnaryUnaryClientInterceptor,
):
    """Adds the pack's token to every call the gate makes (PACK_LAUNCHER)."""

    def __init__(self, token: str) -> None:
        self._metadata = ("ack-gate-token", token)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        metadata = [*(details.metadata or ()), self._metadata]
        return continuation(
            _CallDetails(
                details.method,
                details.timeout,
                metadata,
                details.credentials,
                details.wait_for_ready,
                details.compression,
            ),
            request,
        )


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    """A call's details with the token added (gRPC's own are read-only)."""


def _stub(channel: grpc.Channel) -> analyzer_pb2_grpc.AnalyzerStub:
    """The analyzer stub, sending the resource requests with every map in key order. Protobuf
    maps have no order of their own: serialized as built, one resource's properties reach the
    pack in one order in its Analyze request and in another in the AnalyzeStack request (how
    its table was filled). In key order, the pack gets the same bytes twice, and the ACK pack's
    server converts them once."""
    stub = analyzer_pb2_grpc.AnalyzerStub(channel)
    for name in ("Analyze", "AnalyzeStack"):
        call = channel.unary_unary(
            f"/pulumirpc.Analyzer/{name}",
            request_serializer=_deterministic,
            response_deserializer=analyzer_pb2.AnalyzeResponse.FromString,
        )
        setattr(stub, name, call)
    return stub


def pack_python(pack_dir: Path) -> str:
    """The interpreter a pack runs with, as the Pulumi CLI chooses it: the virtualenv its
    PulumiPolicy.yaml names (runtime.options.virtualenv), once it exists; else this one (a
    pack in a checkout whose rules this installation holds)."""
    try:
        meta = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return sys.executable
    runtime = meta.get("runtime") if isinstance(meta, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    if not isinstance(venv, str) or not venv:
        return sys.executable
    folder = pack_dir / venv
    for candidate in (folder / "bin" / "python", folder / "Scripts" / "python.exe"):
        if candidate.is_file():
            return str(candidate)
    return sys.executable


class PolicyPackProcess:
    """One running policy pack and a gRPC stub to it."""

    def __init__(
        self,
        pack_dir: Path,
        context: StackContext,
        *,
        call_timeout: float = CALL_TIMEOUT,
        connect: bool = True,
    ) -> None:
        """Start the pack; with `connect` False, only until it says what it loaded (a probe:
        no channel, nothing asked)."""
        self.call_timeout = call_timeout
        self.pack_dir = pack_dir.resolve()
        if not (self.pack_dir / "PulumiPolicy.yaml").is_file():
            raise GateError(f"{self.pack_dir} is not a policy pack (no PulumiPolicy.yaml)")
        env = {
            **os.environ,
            "PULUMI_PROJECT": context.project,
            "PULUMI_STACK": context.stack,
            "PULUMI_DRY_RUN": "true" if context.dry_run else "false",
            "PULUMI_CONFIG": json.dumps(dict(context.config)),
            # The pack writes no bytecode: what it loads stays what the gate took a digest of
            # (ack_offline.integrity).
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if context.program_dir:
            env["ACK_PROGRAM_DIR"] = context.program_dir
        # The engine passes its own address for logging; no engine runs here. The pack runs
        # under PACK_LAUNCHER: it ends with the gate (even one killed), is non-dumpable, and
        # answers only calls carrying the token it reads from its standard input.
        self._token = secrets.token_hex(32)
        self.process = subprocess.Popen(
            [
                pack_python(self.pack_dir),
                "-u",
                "-c",
                PACK_LAUNCHER,
                str(os.getpid()),
                "127.0.0.1:0",
                str(self.pack_dir),
            ],
            cwd=self.pack_dir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):  # a pack that died at once is said by _read_port
            self.process.stdin.write(self._token + "\n")
            self.process.stdin.close()
        port = self._read_port()
        if not connect:
            return
        self.channel = grpc.intercept_channel(
            grpc.insecure_channel(f"127.0.0.1:{port}"), _Token(self._token)
        )
        self.stub = _stub(self.channel)
        try:
            self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=START_TIMEOUT)
        except grpc.RpcError as exc:
            self.close()
            raise GateError(f"policy pack {self.pack_dir} did not answer: {exc}") from None
        self.name = self.info.name

    def _read_port(self) -> int:
        """The port the pack prints once it serves; before it, what it loaded (PACK_LAUNCHER),
        kept in :attr:`loaded` (files and import path) for ack_offline.integrity."""
        assert self.process.stdout is not None
        lines: list[str] = []

        def read() -> None:
            assert self.process.stdout is not None
            for _ in range(2):
                lines.append(self.process.stdout.readline())
                if not lines[-1].startswith("ack-modules "):
                    return

        reader = threading.Thread(target=read)
        reader.daemon = True
        reader.start()
        reader.join(START_TIMEOUT)
        self.loaded: dict[str, list[str]] = {"files": [], "path": []}
        if lines and lines[0].startswith("ack-modules "):
            with contextlib.suppress(ValueError):
                found = json.loads(lines.pop(0).removeprefix("ack-modules "))
                if isinstance(found, dict):
                    self.loaded = {
                        k: [x for x in found.get(k, []) if isinstance(x, str)]
                        for k in ("files", "path")
                    }
        first = lines[0].strip() if lines else ""
        if not first.isdigit():
            self.process.kill()
            err = self.process.stderr.read() if self.process.stderr else ""
            raise GateError(
                f"policy pack {self.pack_dir} failed to start"
                + (f": {err.strip()[-2000:]}" if err.strip() else f" (printed {first!r})")
            )
        return int(first)

    def configure(self, overrides: Mapping[str, Any], context: StackContext) -> list[Override]:
        """Send every policy's resolved level and properties, as the engine resolves them
        (pulumi's ReconcilePolicyPackConfig): each policy's default, then the pack's initial
        config, then the user's policy config file, `all` first in each.

        The file is checked first, as the CLI checks it: unknown policies, unknown levels, and
        properties that do not fit a policy's config schema are refused. It may only narrow
        the pack: a level below a rule's mandatory default is refused (an exception names
        resources in the rule's `allow` list instead). Returns every change the file makes,
        so that reviewers see what was raised, disabled or allowed."""
        names = {p.name for p in self.info.policies}
        unknown = sorted(set(overrides) - names - {"all"})
        if unknown:
            raise GateError(f"policy config names unknown policies of {self.name}: {unknown}")
        if not isinstance(overrides.get("all", ""), str):
            raise GateError("policy config 'all' takes an enforcement level")
        defaults: dict[str, Any] = {p.name: p.enforcementLevel for p in self.info.policies}
        initial = {
            k: (v.enforcementLevel, json_format.MessageToDict(v.properties))
            for k, v in self.info.initialConfig.items()
        }
        levels, props = _apply(
            dict(defaults), {n: {} for n in names}, {k: v for k, v in initial.items()}
        )
        before = dict(levels)
        given_levels: dict[str, tuple[Any, dict[str, Any]]] = {}
        for key, value in overrides.items():
            if isinstance(value, str):
                given_levels[key] = (_level(value, key), {})
            elif isinstance(value, dict):
                level = (
                    _level(value["enforcementLevel"], key) if "enforcementLevel" in value else -1
                )
                given = {k: v for k, v in value.items() if k != "enforcementLevel"}
                if key == "all" or key not in names:
                    raise GateError("policy config 'all' takes an enforcement level")
                _check_properties(next(p for p in self.info.policies if p.name == key), given)
                given_levels[key] = (level, given)
            elif value is not None:
                raise GateError(f"policy config {key!r}: give an enforcement level or an object")
        levels, props = _apply(levels, props, given_levels)
        lowered = [
            f"{name} is mandatory and cannot be made {LEVELS[levels[name]]}: name the resources "
            "it should accept in its `allow` list, each with a reason"
            for name in sorted(names)
            if before[name] in (analyzer_pb2.MANDATORY, analyzer_pb2.REMEDIATE)
            and levels[name] in (analyzer_pb2.ADVISORY, analyzer_pb2.DISABLED)
        ]
        if lowered:
            raise GateError("policy config may only narrow the pack: " + "; ".join(lowered))
        changed = [
            Override(
                self.name,
                name,
                LEVELS[defaults[name]],
                LEVELS[levels[name]],
                given_levels.get(name, (-1, {}))[1],
            )
            for name in sorted(names)
            if levels[name] != before[name] or given_levels.get(name, (-1, {}))[1]
        ]
        config: dict[str, analyzer_pb2.PolicyConfig] = {}
        for name in sorted(names):
            structure = struct_pb2.Struct()
            structure.update(props[name])
            config[name] = analyzer_pb2.PolicyConfig(
                enforcementLevel=levels[name], properties=structure
            )
        try:
            self.stub.Configure(
                analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config),
                timeout=self.call_timeout,
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                detail = exc.details()
                raise GateError(f"policy pack {self.name} refused its config: {detail}") from None
            raise
        self.stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=context.stack,
                project=context.project,
                dry_run=context.dry_run,
                tags=dict(context.tags),
            ),
            timeout=self.call_timeout,
        )
        return changed

    def analyze(self, run: ProgramRun, *, window: int = 16) -> list[Violation]:
        """One Analyze call per resource, then one AnalyzeStack call for the whole stack.

        Analyze calls are issued as gRPC futures, at most `window` in flight (the engine also
        analyzes resources concurrently as it steps through a deployment); measured faster
        than a client thread pool (docs/BENCHMARKS.md). Each request is built while earlier ones
        are analyzed, and the stack request while the last ones are: the pack runs on one core,
        this process on the other."""
        described: list[tuple[RecordedResource, dict[str, Any]]] = []
        try:
            responses: list[analyzer_pb2.AnalyzeResponse] = []
            in_flight: deque[Any] = deque()
            for r, fields in _describe(run):
                described.append((r, fields))
                request = analyzer_pb2.AnalyzeRequest(**fields)
                in_flight.append(
                    self.stub.Analyze.future(
                        request, timeout=self.call_timeout, metadata=_engine_metadata(r)
                    )
                )
                if len(in_flight) >= window:
                    responses.append(in_flight.popleft().result())
            stack_request = _stack_request(described, run.reads, run.unanswered)
            responses += [f.result() for f in in_flight]
            responses.append(self.stub.AnalyzeStack(stack_request, timeout=self.call_timeout))
        except grpc.RpcError as exc:
            raise GateError(f"policy pack {self.name} failed while analyzing: {exc}") from None
        descriptions = {p.name: p.description for p in self.info.policies}
        return ordered(redact(_violations(self.name, responses), secret_values(run), descriptions))

    def close(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _check_value(where: str, value: Any, schema: Mapping[str, Any]) -> None:
    """The JSON-schema keywords the packs' config schemas use: type, items, minimum, maximum,
    pattern, minLength, properties, required and additionalProperties."""
    kind = schema.get("type")
    wanted = _JSON_TYPES.get(str(kind))
    is_bool = isinstance(value, bool)
    if wanted is not None and (
        not isinstance(value, wanted) or (is_bool and kind in ("integer", "number"))
    ):
        article = "an" if str(kind)[0] in "aeiou" else "a"
        raise GateError(f"policy config {where} must be {article} {kind}, not {value!r}")
    if "minimum" in schema and value < schema["minimum"]:
        raise GateError(f"policy config {where} must be at least {schema['minimum']:g}")
    if "maximum" in schema and value > schema["maximum"]:
        raise GateError(f"policy config {where} must be at most {schema['maximum']:g}")
    pattern = schema.get("pattern")
    if pattern is not None and isinstance(value, str) and re.search(str(pattern), value) is None:
        raise GateError(f"policy config {where} {value!r} does not match {pattern}")
    if "minLength" in schema and isinstance(value, str) and len(value) < schema["minLength"]:
        raise GateError(
            f"policy config {where} must be at least {schema['minLength']:g} characters"
        )
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            _check_value(f"{where}[{i}]", item, schema["items"])
    if kind == "object" and isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if key not in value:
                raise GateError(f"policy config {where} needs {key!r}")
        for key, item in value.items():
            if key in properties:
                _check_value(f"{where}.{key}", item, properties[key])
            elif schema.get("additionalProperties") is False:
                known = ", ".join(sorted(properties))
                raise GateError(f"policy config {where} has no {key!r} (it takes: {known})")


def _check_properties(policy: analyzer_pb2.PolicyInfo, given: Mapping[str, Any]) -> None:
    schema = json_format.MessageToDict(policy.configSchema.properties)
    for key, value in given.items():
        if key not in schema:
            known = ", ".join(sorted(schema)) or "none"
            raise GateError(
                f"policy config {policy.name!r} has no property {key!r} (it takes: {known})"
            )
        where = f"{policy.name}.{key}"
        if key == "allow" and isinstance(value, list):
            _check_exceptions(where, value)
        _check_value(where, value, schema[key])


def _apply(
    levels: dict[str, Any],
    props: dict[str, dict[str, Any]],
    given: Mapping[str, tuple[Any, Mapping[str, Any]]],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """One layer of policy config over the levels and properties so far, as the engine applies
    it: `all` sets every level, then each policy's own entry its level (-1: none given) and
    properties."""
    levels, props = dict(levels), {k: dict(v) for k, v in props.items()}
    if "all" in given and given["all"][0] >= 0:
        levels = {k: given["all"][0] for k in levels}
    for name, (level, properties) in given.items():
        if name not in levels:
            continue
        if level >= 0:
            levels[name] = level
        props[name].update(properties)
    return levels, props


def _check_exceptions(where: str, entries: list[Any]) -> None:
    """An exception names one resource by its URN and says why: a string, which older
    versions of the ACK pack took as a glob pattern, gets the new form in the message."""
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            raise GateError(
                f"policy config {where}[{i}] {entry!r}: an exception is an object "
                '{"urn": "<the resource\'s URN>", "reason": "<why it is accepted>"}'
            )


def _level(value: Any, key: str) -> int:
    if value not in LEVEL_VALUES:
        raise GateError(f"policy config {key!r}: unknown enforcement level {value!r}")
    return LEVEL_VALUES[value]


def _options(r: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    """The options the engine hands an analyzer (marshalResourceOptions,
    sdk/go/common/resource/plugin/analyzer_plugin.go), its custom timeouts (in seconds) among
    them."""
    timeouts = r.custom_timeouts
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect,
        ignoreChanges=r.ignore_changes,
        deleteBeforeReplace=r.delete_before_replace,
        deleteBeforeReplaceDefined=r.delete_before_replace,
        additionalSecretOutputs=r.additional_secret_outputs,
        aliases=r.aliases,
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            **{k: _seconds(v) for k, v in timeouts.items() if k in _TIMEOUTS}
        ),
        parent=r.parent,
    )


#: The timeouts an analyzer is handed, in seconds (the engine parses the program's durations).
_TIMEOUTS = ("create", "update", "delete")


def _seconds(duration: str) -> float:
    """A duration in seconds; one the engine could not parse as -1 (unlike any seal)."""
    try:
        return float(record.seconds(duration))
    except ValueError:
        return -1.0


def _engine_metadata(r: RecordedResource) -> tuple[tuple[str, str], ...]:
    """What the engine keeps to itself of a registration (import, retainOnDelete, ...), sent
    beside its Analyze call as digests, so the ACK pack can compare them with what a
    component sealed (ack_policies.record.ENGINE_OPTIONS); Pulumi's engine sends none."""
    declared = {*r.aliases, *(record.alias_urn(r.urn, r.parent, spec) for spec in r.alias_specs)}
    digests = record.engine_digests({**r.engine_options, "aliases": sorted(declared)})
    return ((record.ENGINE_OPTIONS_METADATA, json.dumps(digests, sort_keys=True)),)


#: The wire's marks of a special value, and of a resource reference.
_SIG = "4dabf18193072939515e22adb298388d"
_RESOURCE_REF = "5cf8f73096256a8f31e491e813e4eb8e"


def _plain_references(value: Any) -> Any:
    """A value as the engine marshals it for an analyzer, which does not keep resource
    references: each becomes its resource's ID (a custom resource's), else its URN."""
    if isinstance(value, dict):
        if value.get(_SIG) == _RESOURCE_REF:
            rid = value.get("id")
            return rid if isinstance(rid, str) and rid else str(value.get("urn", ""))
        return {k: _plain_references(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_references(v) for v in value]
    return value


def _properties(r: RecordedResource) -> struct_pb2.Struct:
    """What Analyze sends: the resource's inputs."""
    return json_format.ParseDict(_plain_references(r.wire_inputs), struct_pb2.Struct())


def _outputs(r: RecordedResource) -> struct_pb2.Struct:
    """What AnalyzeStack sends, as the engine does "to verify the final stack": each resource's
    outputs (a component's registered outputs; its inputs if it registered none)."""
    return json_format.ParseDict(
        _plain_references(r.wire_outputs or r.wire_inputs), struct_pb2.Struct()
    )


def _provider(
    r: RecordedResource, by_urn: Mapping[str, RecordedResource]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    urn = r.provider.rsplit("::", 1)[0] if r.provider else ""  # a reference is "URN::ID"
    p = by_urn.get(urn)
    if p is not None:
        return analyzer_pb2.AnalyzerProviderResource(
            type=p.type, properties=_properties(p), urn=p.urn, name=p.name
        )
    if r.provider or not (r.custom or r.remote) or r.type.startswith("pulumi:providers:"):
        return None
    return _default_provider(r)


def _default_provider(r: RecordedResource) -> analyzer_pb2.AnalyzerProviderResource:
    """The provider the engine gives a resource (or a remote component) that names none: its
    package's default provider, `default` (the engine adds the plugin's version to the name).
    A local component has no provider; a resource always has one, so a policy can tell them
    apart. Its inputs would be the package's stack config, which a run does not record."""
    stack_project = r.urn.split("::", 2)[:2]  # "urn:pulumi:<stack>", "<project>"
    package = r.type.split(":", 1)[0]  # a dynamic provider's resource: "pulumi-python"
    urn = "::".join([*stack_project, f"pulumi:providers:{package}", "default"])
    return analyzer_pb2.AnalyzerProviderResource(
        type=f"pulumi:providers:{package}", properties=struct_pb2.Struct(), urn=urn, name="default"
    )


def _describe(run: ProgramRun) -> Iterator[tuple[RecordedResource, dict[str, Any]]]:
    """Each resource with the fields Analyze and AnalyzeStack both send for it."""
    by_urn = {r.urn: r for r in run.resources}
    for r in run.resources:
        yield (
            r,
            {
                "type": r.type,
                "properties": _properties(r),
                "urn": r.urn,
                "name": r.name,
                "options": _options(r),
                "provider": _provider(r, by_urn),
            },
        )


def _stack_request(
    described: list[tuple[RecordedResource, dict[str, Any]]],
    reads: Iterable[RecordedResource] = (),
    unanswered: Iterable[tuple[str, Mapping[str, Any]]] = (),
) -> analyzer_pb2.AnalyzeStackRequest:
    """The whole stack, with what only a stack view has: parents and dependency edges, each
    resource's outputs, and the resources the program read (`.get`), which the engine keeps in
    the stack's state; and, offline only, each invoke the fake cloud could not answer (the
    engine's provider answers every one), for the drift rule to judge what it could have
    returned (ack_policies.lookups)."""
    stack = [
        (r, {**fields, "properties": _outputs(r)} if r.wire_outputs else fields)
        for r, fields in described
    ]
    by_urn = {r.urn: r for r, _ in described}
    stack += [
        (
            r,
            {
                "type": r.type,
                "properties": _outputs(r),
                "urn": r.urn,
                "name": r.name,
                "options": _options(r),
                "provider": _provider(r, by_urn),
            },
        )
        for r in reads
    ]
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            *(
                analyzer_pb2.AnalyzerResource(
                    **fields,
                    parent=r.parent,
                    dependencies=r.dependencies,
                    propertyDependencies={
                        k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                        for k, v in r.property_dependencies.items()
                    },
                )
                for r, fields in stack
            ),
            *_unanswered(described, unanswered),
        ]
    )


def _unanswered(
    described: list[tuple[RecordedResource, dict[str, Any]]],
    unanswered: Iterable[tuple[str, Mapping[str, Any]]],
) -> Iterator[analyzer_pb2.AnalyzerResource]:
    from .fake_cloud import UNANSWERED_TYPE

    prefix = next((r.urn.split("::")[:2] for r, _ in described if "::" in r.urn), None)
    head = "::".join(prefix) if prefix else "urn:pulumi:stack::project"
    for i, (token, args) in enumerate(unanswered):
        properties = {"token": token, "args": json.loads(json.dumps(args, default=str))}
        yield analyzer_pb2.AnalyzerResource(
            type=UNANSWERED_TYPE,
            urn=f"{head}::{UNANSWERED_TYPE}::invoke-{i}",
            name=f"invoke-{i}",
            properties=json_format.ParseDict(properties, struct_pb2.Struct()),
        )


def _violations(pack: str, responses: Iterable[analyzer_pb2.AnalyzeResponse]) -> list[Violation]:
    return [
        Violation(
            policy=d.policyName,
            pack=d.policyPackName or pack,
            urn=d.urn,
            enforcement=LEVELS.get(d.enforcementLevel, str(d.enforcementLevel)),
            message=d.message,
        )
        for response in responses
        for d in response.diagnostics
    ]


def secret_values(run: ProgramRun) -> set[str]:
    """The plain text of every secret input the program sent, in every spelling a rule may
    print it (ack_clusters.redaction.spellings), and the `secure:` placeholder's: a rule that
    quotes an input (a policy name, a tag) must not print it."""
    return recorded_secrets([*run.resources, *run.reads])


def redact(
    violations: Iterable[Violation],
    secrets: set[str],
    descriptions: Mapping[str, str] | None = None,
) -> list[Violation]:
    """Violations with every secret value in their messages replaced by [secret]. What no
    program gives is left as it is (a short secret, `all`, is a word of it): the policy's own
    description, which pulumi-policy puts before the finding (`description + "\n" + finding`;
    `descriptions` by policy name, from the pack's GetAnalyzerInfo, read before any program
    ran), and the finding's subject, the resource's name as its URN (printed with it) says it,
    after a Checkov ID."""
    return [
        dataclasses.replace(v, message=_redact_message(v, secrets, descriptions or {}))
        for v in violations
    ]


#: A finding's leading Checkov IDs (`[CKV_ALI_2] `, `[CKV_ALI_2, CKV_ALI_3] `), the pack's own.
_CHECKOV_TAG = re.compile(r"\[CKV_[A-Z0-9_]+(?:, CKV_[A-Z0-9_]+)*\] ")


def _redact_message(v: Violation, secrets: set[str], descriptions: Mapping[str, str]) -> str:
    kept, rest = "", v.message
    description = descriptions.get(v.policy)
    if description and rest.startswith(f"{description}\n"):
        kept, rest = f"{description}\n", rest[len(description) + 1 :]
    tag = _CHECKOV_TAG.match(rest)
    start = tag.end() if tag else 0
    name = v.urn.rsplit("::", 1)[-1] if "::" in v.urn else ""
    after = rest[start + len(name) : start + len(name) + 1]
    if name and rest.startswith(name, start) and not (after.isalnum()):
        kept, rest = kept + rest[: start + len(name)], rest[start + len(name) :]
    return kept + redact_text(rest, secrets)


def ordered(violations: Iterable[Violation]) -> list[Violation]:
    """One order for every run: by resource, then policy (the pack answers in its own order)."""
    return sorted(violations, key=lambda v: (v.urn, v.policy, v.pack, v.enforcement, v.message))


class StartedPacks:
    """Policy packs starting in the background, as the engine starts analyzers when a deployment
    begins: the program runs meanwhile (each pack start is a Python process importing Pulumi).
    On exit, every pack that did start is closed."""

    def __init__(self, pack_dirs: Sequence[Path], context: StackContext) -> None:
        # Resolved here: the program may change the working directory while packs start.
        dirs = [d.resolve() for d in pack_dirs]
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(dirs)))
        self._futures = [self._pool.submit(PolicyPackProcess, d, context) for d in dirs]

    def wait(self) -> list[PolicyPackProcess]:
        """The started packs, in the order given; the first failure to start is raised."""
        for future in self._futures:
            if (error := future.exception()) is not None:
                raise error
        return [f.result() for f in self._futures]

    def __enter__(self) -> StartedPacks:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True)
        for future in self._futures:
            if future.exception() is None:
                future.result().close()


@dataclass(frozen=True)
class GateResult:
    violations: list[Violation]
    overrides: list[Override]


def analyze_with(
    packs: Sequence[PolicyPackProcess],
    run: ProgramRun,
    context: StackContext,
    pack_configs: Sequence[Mapping[str, Any]] | None = None,
) -> GateResult:
    """Configure each started pack and analyze a program run: every diagnostic (sorted by
    resource, then policy) and every change the policy configs made."""
    configs = list(pack_configs or [])
    configs += [{}] * (len(packs) - len(configs))
    found: list[Violation] = []
    overrides: list[Override] = []
    try:
        for pack, config in zip(packs, configs, strict=True):
            overrides += pack.configure(config, context)
            found += pack.analyze(run)
    except grpc.RpcError as exc:
        raise GateError(f"a policy pack failed while being configured: {exc}") from None
    for pack in packs:
        # The pack that answered is the one the gate started, still running: had it ended, a
        # process of the program's could have taken its port (gRPC reconnects) and answered.
        if pack.process.poll() is not None:
            raise GateError(
                f"the policy pack {pack.pack_dir} ended during the analysis (exit code "
                f"{pack.process.returncode}): whatever answered is not proven to be it"
            )
    return GateResult(ordered(found), overrides)
