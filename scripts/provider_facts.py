"""Regenerate ``components/ack_offline/provider_facts.json`` from the provider's own source.

pulumi-alicloud is a bridge over aliyun/terraform-provider-alicloud; each resource's schema
(types, required, validators, ForceNew, MaxItems, conflicts, deprecations) lives in its
``alicloud/resource_alicloud_*.go`` file, and whether an input is ever updated, read back on
import or sent on create when false lives in the same file's Create/Read/Update code. This
script reads those files at one tag of a local clone and writes *facts* (values, ranges, flags
and the file and line each came from), never code.

Usage::

    python scripts/provider_facts.py TERRAFORM_CLONE [--tag v1.289.0] \
        [--pulumi-clone PULUMI_ALICLOUD_CLONE] > components/ack_offline/provider_facts.json

``TERRAFORM_CLONE`` is a git directory of aliyun/terraform-provider-alicloud (a bare mirror is
fine: files are read with ``git show TAG:path``). ``PULUMI_ALICLOUD_CLONE`` (optional) is one
of pulumi/pulumi-alicloud, used to check the Terraform name behind each Pulumi type token
against ``provider/resources.go``, and to read from its bridge metadata which lists Pulumi
has as one object (``max_items_one``, where that is not what MaxItems says).

What is derived from code, not the schema, is a heuristic over the resource's files, and is
marked so in the output with the lines it rests on:

- ``updatable: false``: neither ForceNew, nor named in any ``HasChange``/``HasChanges`` call, nor
  read at all by the Update code, so a change shows in a diff and the provider never sends it;
- ``read_back: false``: never named in a ``d.Set`` call, so an import leaves it empty;
- ``zero_sent: false``: only ever read with ``d.GetOk`` (which reports a zero value as unset), so
  ``false``/``0``/``""`` is never sent on create and the API's default decides;
- ``clear_applied: false``: updated, but read only with ``d.GetOk`` on update, so emptying it
  (null, ``[]``, ``""``) is never sent and the cloud keeps the old value.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

#: Pulumi type token -> (Terraform resource name, extra files whose code serves it).
#: Every type the four stacks register, plus the attachments the policy pack reasons about.
RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "alicloud:cs/managedKubernetes:ManagedKubernetes": (
        "alicloud_cs_managed_kubernetes",
        ("alicloud/resource_alicloud_cs_kubernetes.go",),
    ),
    "alicloud:cs/kubernetes:Kubernetes": ("alicloud_cs_kubernetes", ()),
    "alicloud:cs/nodePool:NodePool": ("alicloud_cs_kubernetes_node_pool", ()),
    "alicloud:cs/kubernetesAddon:KubernetesAddon": ("alicloud_cs_kubernetes_addon", ()),
    "alicloud:cs/autoscalingConfig:AutoscalingConfig": ("alicloud_cs_autoscaling_config", ()),
    "alicloud:cs/kubernetesPermission:KubernetesPermission": (
        "alicloud_cs_kubernetes_permissions",
        (),
    ),
    "alicloud:vpc/network:Network": ("alicloud_vpc", ()),
    "alicloud:vpc/switch:Switch": ("alicloud_vswitch", ()),
    "alicloud:cen/transitRouterVpcAttachment:TransitRouterVpcAttachment": (
        "alicloud_cen_transit_router_vpc_attachment",
        (),
    ),
    "alicloud:cen/transitRouterRouteTableAssociation:TransitRouterRouteTableAssociation": (
        "alicloud_cen_transit_router_route_table_association",
        (),
    ),
    "alicloud:cen/transitRouterRouteTablePropagation:TransitRouterRouteTablePropagation": (
        "alicloud_cen_transit_router_route_table_propagation",
        (),
    ),
    "alicloud:vpc/natGateway:NatGateway": ("alicloud_nat_gateway", ()),
    "alicloud:vpc/snatEntry:SnatEntry": ("alicloud_snat_entry", ()),
    "alicloud:vpc/forwardEntry:ForwardEntry": ("alicloud_forward_entry", ()),
    "alicloud:vpc/routeTable:RouteTable": ("alicloud_route_table", ()),
    "alicloud:vpc/routeTableAttachment:RouteTableAttachment": (
        "alicloud_route_table_attachment",
        (),
    ),
    "alicloud:vpc/routeEntry:RouteEntry": ("alicloud_route_entry", ()),
    "alicloud:vpc/networkAclAttachment:NetworkAclAttachment": (
        "alicloud_network_acl_attachment",
        (),
    ),
    "alicloud:ecs/eipAddress:EipAddress": ("alicloud_eip_address", ()),
    "alicloud:ecs/eipAssociation:EipAssociation": ("alicloud_eip_association", ()),
    "alicloud:ecs/securityGroup:SecurityGroup": ("alicloud_security_group", ()),
    "alicloud:ecs/securityGroupRule:SecurityGroupRule": ("alicloud_security_group_rule", ()),
    "alicloud:ecs/instance:Instance": ("alicloud_instance", ()),
    "alicloud:ram/role:Role": ("alicloud_ram_role", ()),
    "alicloud:ram/policy:Policy": ("alicloud_ram_policy", ()),
    "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment": (
        "alicloud_ram_role_policy_attachment",
        (),
    ),
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": (
        "alicloud_slb_load_balancer",
        (),
    ),
    "alicloud:slb/listener:Listener": ("alicloud_slb_listener", ()),
    "alicloud:kms/key:Key": ("alicloud_kms_key", ()),
}

_TYPES = {
    "schema.TypeString": "string",
    "schema.TypeInt": "integer",
    "schema.TypeBool": "boolean",
    "schema.TypeFloat": "number",
    "schema.TypeList": "list",
    "schema.TypeSet": "set",
    "schema.TypeMap": "map",
}


class Source:
    """Files of one tag of a git clone, read without a work tree."""

    def __init__(self, git_dir: str, tag: str) -> None:
        self.git_dir, self.tag = git_dir, tag
        self._cache: dict[str, str] = {}

    def read(self, path: str) -> str:
        if path not in self._cache:
            self._cache[path] = subprocess.run(
                ["git", "--git-dir", self.git_dir, "show", f"{self.tag}:{path}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        return self._cache[path]

    def grep(self, pattern: str) -> list[str]:
        """Paths under alicloud/ whose text matches `pattern` (a fixed string)."""
        out = subprocess.run(
            [
                "git",
                "--git-dir",
                self.git_dir,
                "grep",
                "-l",
                "-F",
                pattern,
                self.tag,
                "--",
                "alicloud/*.go",
            ],
            capture_output=True,
            text=True,
        ).stdout
        return [line.split(":", 1)[1] for line in out.splitlines()]

    def grep_lines(self, pattern: str) -> list[str]:
        """Lines under alicloud/ matching the extended regex `pattern`."""
        out = subprocess.run(
            [
                "git",
                "--git-dir",
                self.git_dir,
                "grep",
                "-h",
                "-E",
                pattern,
                self.tag,
                "--",
                "alicloud/*.go",
            ],
            capture_output=True,
            text=True,
        ).stdout
        return out.splitlines()

    def commit(self) -> str:
        return subprocess.run(
            ["git", "--git-dir", self.git_dir, "rev-parse", f"{self.tag}^{{commit}}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()


# -- a small Go scanner: enough to walk schema literals ------------------------------------


def _skip(text: str, i: int) -> int:
    """Index past a string literal or comment starting at i, or i if there is none."""
    c = text[i]
    if c == '"':
        j = i + 1
        while text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return j + 1
    if c == "`":
        return text.index("`", i + 1) + 1
    if c == "'":
        j = i + 1
        while text[j] != "'":
            j += 2 if text[j] == "\\" else 1
        return j + 1
    if text.startswith("//", i):
        return text.index("\n", i)
    if text.startswith("/*", i):
        return text.index("*/", i) + 2
    return i


def _close(text: str, i: int) -> int:
    """Index of the bracket closing the one at text[i]."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = [pairs[text[i]]]
    j = i + 1
    while stack:
        k = _skip(text, j)
        if k != j:
            j = k
            continue
        c = text[j]
        if c in pairs:
            stack.append(pairs[c])
        elif c in ")}]" and c != stack.pop():
            raise ValueError(f"unbalanced {c!r} at {j}")
        j += 1
    return j - 1


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside brackets, strings and comments."""
    parts, depth, start, j = [], 0, 0, 0
    while j < len(text):
        k = _skip(text, j)
        if k != j:
            j = k
            continue
        c = text[j]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:j])
            start = j + 1
        j += 1
    parts.append(text[start:])
    return [p for p in (_strip_comments(p).strip() for p in parts) if p]


def _strip_comments(text: str) -> str:
    out, j = [], 0
    while j < len(text):
        if text.startswith("//", j) or text.startswith("/*", j):
            j = _skip(text, j)
            continue
        k = _skip(text, j)
        if k != j:
            out.append(text[j:k])
            j = k
            continue
        out.append(text[j])
        j += 1
    return "".join(out)


def _go_string(lit: str) -> str:
    lit = lit.strip()
    if lit.startswith("`"):
        return lit[1:-1]
    return json.loads(lit)


#: Constants named in validators, resolved from the provider's own declarations.
CONSTANTS: dict[str, str] = {}


def _strings(lit: str) -> list[str]:
    """[]string{"a", KubernetesClusterNetworkTypeTerway} -> ["a", "terway"]."""
    body = lit[lit.index("{") + 1 : lit.rindex("}")]
    out = []
    for part in _split_top(body):
        m = re.fullmatch(r"(?:string\()?([\w.]+)\)?", part)
        if part[:1] in '"`':
            out.append(_go_string(part))
        elif m and m.group(1).split(".")[-1] in CONSTANTS:
            out.append(CONSTANTS[m.group(1).split(".")[-1]])
        else:
            raise ValueError(f"cannot resolve {part!r}")
    return out


def load_constants(source: Source) -> None:
    """Every ``Name = "value"`` / ``Name = Type("value")`` string constant of the provider."""
    decl = re.compile(r'^\s*(\w+)\s*(?:\w+\s*)?=\s*(?:\w+\()?"([^"\\]*)"\)?\s*$')
    for line in source.grep_lines(r'^\s*\w+\s*(\w+\s*)?=\s*(\w+\()?"[^"\\]*"\)?\s*$'):
        m = decl.match(line)
        if m:
            CONSTANTS.setdefault(m.group(1), m.group(2))


def _ints(lit: str) -> list[int]:
    body = lit[lit.index("{") + 1 : lit.rindex("}")]
    return [int(p) for p in _split_top(body)]


def _call(expr: str) -> tuple[str, list[str]] | None:
    m = re.match(r"\s*([\w.]+)\s*\(", expr)
    if not m:
        return None
    open_ = expr.index("(", m.start(1))
    close = _close(expr, open_)
    return m.group(1).split(".")[-1], _split_top(expr[open_ + 1 : close])


def validator(expr: str) -> dict[str, Any]:
    """What a ValidateFunc accepts, as data; {"unmodelled": ...} when it is not understood."""
    if expr.strip().split(".")[-1] == "StringIsJSON":
        return {"json": True}
    call = _call(expr)
    if call is None:
        return {"unmodelled": expr.strip()}
    name, args = call
    if name in {"ToDiagFunc", "ValidateDiagFunc"} and args:
        return validator(args[0])
    try:
        if name == "StringInSlice":
            return {"one_of": _strings(args[0]), "ignore_case": args[1].strip() == "true"}
        if name == "IntInSlice":
            return {"one_of": _ints(args[0])}
        if name == "IntBetween":
            return {"min": int(args[0]), "max": int(args[1])}
        if name == "IntAtLeast":
            return {"min": int(args[0])}
        if name == "IntAtMost":
            return {"max": int(args[0])}
        if name == "StringLenBetween":
            return {"min_length": int(args[0]), "max_length": int(args[1])}
        if name in {"StringMatch", "StringDoesNotMatch"}:
            pattern = _call(args[0])
            if pattern and pattern[0] == "MustCompile":
                key = "pattern" if name == "StringMatch" else "not_pattern"
                message = _go_string(args[1]) if len(args) > 1 and args[1] != "" else ""
                return {key: _go_string(pattern[1][0]), "message": message}
        if name == "All":
            return {"all": [validator(a) for a in args]}
        if name == "Any":
            return {"any": [validator(a) for a in args]}
        if name == "FloatAtLeast":
            return {"min": float(args[0])}
        if name == "FloatBetween":
            return {"min": float(args[0]), "max": float(args[1])}
    except (ValueError, IndexError, json.JSONDecodeError):
        pass
    return {"unmodelled": f"{name}(...)"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@dataclass
class Found:
    text: str
    path: str

    def line(self, index: int) -> int:
        return self.text.count("\n", 0, index) + 1


def schema_map(found: Found, brace: int, source: Source) -> dict[str, dict[str, Any]]:
    """Fields of the ``map[string]*schema.Schema{...}`` whose `{` is at `brace`."""
    text = found.text
    end = _close(text, brace)
    fields: dict[str, dict[str, Any]] = {}
    j = brace + 1
    while j < end:
        if text[j] in " \t\n,":
            j += 1
            continue
        if text.startswith("//", j) or text.startswith("/*", j):
            j = _skip(text, j)
            continue
        if text[j] != '"':
            raise ValueError(f"{found.path}:{found.line(j)}: unexpected {text[j : j + 30]!r}")
        key_end = _skip(text, j)
        key = _go_string(text[j:key_end])
        colon = text.index(":", key_end)
        k = colon + 1
        while text[k] in " \t\n":
            k += 1
        line = found.line(j)
        if text.startswith("&schema.Schema{", k) or text[k] == "{":
            open_ = text.index("{", k)
            close = _close(text, open_)
            fields[key] = field(found, open_, close, source) | {"line": line}
            j = close + 1
        else:  # a helper such as tagsSchema()
            m = re.match(r"([\w.]+)\(\)", text[k:])
            if not m:
                raise ValueError(f"{found.path}:{line}: cannot read field {key!r}")
            fields[key] = helper(m.group(1), source) | {"line": line}
            j = k + m.end()
    return fields


def helper(name: str, source: Source) -> dict[str, Any]:
    for path in source.grep(f"func {name}() *schema.Schema"):
        text = source.read(path)
        start = text.index(f"func {name}() *schema.Schema")
        open_ = text.index("&schema.Schema{", start) + len("&schema.Schema")
        found = Found(text, path)
        return field(found, open_, _close(text, open_), source) | {
            "helper": f"{path}:{found.line(start)}"
        }
    return {"unmodelled": f"{name}()"}


def field(found: Found, open_: int, close: int, source: Source) -> dict[str, Any]:
    """Facts of one ``schema.Schema`` literal spanning text[open_..close]."""
    text = found.text
    body = text[open_ + 1 : close]
    facts: dict[str, Any] = {}
    offset = open_ + 1
    for part in _split_top(body):
        key, _, value = part.partition(":")
        key, value = key.strip(), value.strip()
        if key == "Type":
            facts["type"] = _TYPES.get(value, value)
        elif key in {"Required", "Optional", "Computed", "ForceNew", "Sensitive"}:
            facts[key.lower() if key != "ForceNew" else "force_new"] = value == "true"
        elif key in {"MaxItems", "MinItems"}:
            facts["max_items" if key == "MaxItems" else "min_items"] = int(value)
        elif key in {"ConflictsWith", "ExactlyOneOf", "AtLeastOneOf", "RequiredWith"}:
            snake = re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()
            fields_call = re.fullmatch(r'strings\.Fields\(("[^"]*")\)', value)
            if fields_call:  # strings.Fields("a b") is the list ["a", "b"]
                facts[snake] = _go_string(fields_call.group(1)).split()
            else:
                facts[snake] = _strings(value) if "{" in value else {"unmodelled": value}
        elif key in {"Deprecated", "Removed"}:
            try:
                facts[key.lower()] = _go_string(value)
            except (ValueError, json.JSONDecodeError):
                facts[key.lower()] = value
        elif key in {"ValidateFunc", "ValidateDiagFunc"}:
            facts["validate"] = validator(value)
        elif key == "DiffSuppressFunc":
            facts["diff_suppress"] = value if re.fullmatch(r"[\w.]+", value) else "inline"
        elif key == "Default":
            try:
                facts["default"] = json.loads(value)
            except json.JSONDecodeError:
                facts["default"] = value
        elif key == "Elem":
            elem = re.search(r"\bElem\s*:", body)
            assert elem is not None
            brace = text.index("{", offset + elem.start())
            if value.startswith("&schema.Resource"):
                m = text.index("map[string]*schema.Schema{", brace)
                brace = m + len("map[string]*schema.Schema")
                facts["fields"] = schema_map(found, brace, source)
            elif value.startswith("&schema.Schema"):
                facts["elem"] = field(found, brace, _close(text, brace), source)
            elif value in _TYPES:
                facts["elem"] = {"type": _TYPES[value]}
            else:
                facts["elem"] = {"unmodelled": value}
    return facts


def resource_schema(tf_name: str, source: Source) -> tuple[str, Found, dict[str, dict[str, Any]]]:
    provider = source.read("alicloud/provider.go")
    resources = provider.index("ResourcesMap:")  # data sources share the names
    m = re.compile(rf'"{re.escape(tf_name)}"\s*:\s*(\w+)\(\)').search(provider, resources)
    if not m:
        raise SystemExit(f"{tf_name} is not registered in provider.go at {source.tag}")
    func = m.group(1)
    paths = source.grep(f"func {func}() *schema.Resource")
    if len(paths) != 1:
        raise SystemExit(f"cannot find func {func} at {source.tag}: {paths}")
    found = Found(source.read(paths[0]), paths[0])
    start = found.text.index(f"func {func}() *schema.Resource")
    at = found.text.index("Schema: map[string]*schema.Schema{", start)
    brace = at + len("Schema: map[string]*schema.Schema")
    return func, found, schema_map(found, brace, source)


def _mask_comments(text: str) -> str:
    """`text` with comments blanked out (newlines kept, so line numbers still hold)."""
    out, j = [], 0
    while j < len(text):
        k = _skip(text, j)
        if k != j:
            chunk = text[j:k]
            if chunk.startswith(("//", "/*")):
                chunk = re.sub(r"[^\n]", " ", chunk)
            out.append(chunk)
            j = k
        else:
            out.append(text[j])
            j += 1
    return "".join(out)


@dataclass
class Function:
    path: str
    first_line: int
    body: str


def functions(files: list[Found]) -> dict[str, Function]:
    """Top-level Go functions of `files` by name (comments blanked)."""
    out: dict[str, Function] = {}
    for found in files:
        text = _mask_comments(found.text)
        for m in re.finditer(r"^func (?:\([^)]*\) )?(\w+)\(.*\{$", text, re.M):
            open_ = m.end() - 1
            body = text[open_ : _close(text, open_) + 1]
            out.setdefault(m.group(1), Function(found.path, found.line(m.start()), body))
    return out


def add_helpers(funcs: dict[str, Function], source: Source) -> None:
    """Add to `funcs`, transitively, the functions defined elsewhere in the package that its
    functions hand the resource data to (``NAME(d, ...)``): the dedicated cluster's Update
    upgrades through a function of the managed cluster's file."""
    todo = list(funcs.values())
    while todo:
        for callee in set(re.findall(r"\b(\w+)\(d\b", todo.pop().body)) - set(funcs):
            paths = source.grep(f"func {callee}(")
            if len(paths) != 1:
                continue  # not a package function, or ambiguous: leave it out
            for name, f in functions([Found(source.read(paths[0]), paths[0])]).items():
                if name == callee:
                    funcs[name] = f
                    todo.append(f)


def reach(entry: str, funcs: dict[str, Function]) -> list[Function]:
    """`entry` and every function of `funcs` it calls, transitively."""
    seen, todo = {entry}, [entry]
    while todo:
        for callee in re.findall(r"\b(\w+)\(", funcs[todo.pop()].body):
            if callee in funcs and callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return [funcs[n] for n in sorted(seen)]


def _hits(
    scope: list[Function],
    pattern: re.Pattern[str],
    *,
    unless_inside: re.Pattern[str] | None = None,
) -> list[str]:
    """``file:line`` of each match of `pattern` in `scope`; with `unless_inside`, leaving out the
    matches inside a block whose header (the text before its ``{``) matches it."""
    hits = []
    for f in scope:
        for m in pattern.finditer(f.body):
            if unless_inside and any(
                unless_inside.search(h) for h in _enclosing_headers(f.body, m.start())
            ):
                continue
            hits.append(f"{f.path}:{f.first_line + f.body.count(chr(10), 0, m.start())}")
    return sorted(hits)


def _enclosing_headers(body: str, at: int) -> list[str]:
    """The headers of the blocks enclosing position `at` (each from the previous line break,
    ``;``, ``{`` or ``}`` up to its ``{``)."""
    stack: list[str] = []
    for m in re.finditer(r"[{}]", body[:at]):
        if m.group() == "{":
            start = max(body.rfind(c, 0, m.start()) for c in "\n;{}")
            stack.append(body[start + 1 : m.start()])
        elif stack:
            stack.pop()
    return stack


def code_facts(
    name: str, facts: dict[str, Any], scopes: dict[str, list[Function]]
) -> dict[str, Any]:
    """What the resource's Create/Read/Update code does with a top-level field."""
    q = re.escape(f'"{name}"')
    out: dict[str, Any] = {}
    if facts.get("removed") or not (facts.get("optional") or facts.get("required")):
        return out
    if not facts.get("force_new"):
        changes = _hits(scopes["Update"], re.compile(rf"HasChanges?\([^)]*{q}"))
        if not changes:
            # Some Update functions send a field whether it changed or not (cs_autoscaling_config
            # resends the whole configuration; a node pool's upgrade_policy and rolling_policy
            # ride along with every upgrade request). A read counts as a send when it is outside
            # the Read code and not inside another field's HasChange block (where it only
            # serves that field's update or a check).
            read_code = {id(f) for f in scopes["Read"]}
            changes = _hits(
                [f for f in scopes["Update"] if id(f) not in read_code],
                re.compile(rf"d\.(?:Get|GetOk|GetOkExists)\(\s*{q}\s*\)"),
                unless_inside=re.compile(r"HasChanges?\("),
            )
        out["updatable"] = bool(changes)
        if changes:
            out["update_code"] = changes[:3]
            # Read only with GetOk on update: an emptied value is never sent, so clearing it
            # (removing a list, a window, a log setting) leaves the cloud as it was.
            get_ok = _hits(scopes["Update"], re.compile(rf"d\.GetOk\(\s*{q}\s*\)"))
            other = _hits(
                scopes["Update"],
                re.compile(rf"d\.(?:Get|GetOkExists|GetChange|GetRawConfig)\(\s*{q}"),
            )
            if get_ok and not other:
                out["clear_applied"] = False
                out["clear_code"] = get_ok[:3]
    sets = _hits(scopes["Read"], re.compile(rf"d\.Set\(\s*{q}"))
    out["read_back"] = bool(sets)
    if facts.get("type") in {"boolean", "integer", "string"}:
        get_ok = _hits(scopes["Create"], re.compile(rf"d\.GetOk\(\s*{q}\s*\)"))
        other = _hits(
            scopes["Create"],
            re.compile(rf"d\.(?:Get|GetOkExists|GetChange|GetRawConfig)\(\s*{q}"),
        )
        if get_ok and not other:
            out["zero_sent"] = False
            out["zero_code"] = get_ok[:3]
    return out


def scopes_of(func: str, found: Found, funcs: dict[str, Function]) -> dict[str, list[Function]]:
    """The code reached from the resource's Create, Read and Update functions."""
    text = found.text
    start = text.index(f"func {func}() *schema.Resource")
    out: dict[str, list[Function]] = {}
    for op in ("Create", "Read", "Update"):
        m = re.compile(rf"\b{op}(?:Context)?:\s*(\w+),").search(text, start)
        out[op] = reach(m.group(1), funcs) if m and m.group(1) in funcs else []
    return out


def flattened(facts: dict[str, Any]) -> bool:
    """Whether Pulumi's schema has this list as one object (the bridge's MaxItemsOne): as
    the bridge recorded it when it differs from Terraform's MaxItems, else MaxItems == 1."""
    one: bool = facts.get("max_items_one", facts.get("max_items") == 1)
    return one


def pulumi_name(tf: str, facts: dict[str, Any]) -> str:
    """The bridge's name for a field: camelCase, and a list of blocks or values pluralised."""
    name = _camel(tf)
    many = facts.get("type") in {"list", "set"} or "fields" in facts
    if many and not flattened(facts) and not name.endswith("s"):
        name += "s"
    return name


def bridge_projection(pulumi_dir: str) -> dict[str, Any]:
    """pulumi-alicloud's bridge metadata: per Terraform resource, how it projects each list
    field into Pulumi's schema (``maxItemsOne``: as one object). The bridge keeps a field's
    projection across upstream changes, so it can differ from today's MaxItems (an ECS
    instance's ``network_interfaces`` has no MaxItems upstream, and is one object in Pulumi)."""
    text = subprocess.run(
        [
            "git",
            "--git-dir",
            pulumi_dir,
            "show",
            "HEAD:provider/cmd/pulumi-resource-alicloud/bridge-metadata.json",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    resources: dict[str, Any] = json.loads(text)["auto-aliasing"]["resources"]
    return resources


def project(fields: dict[str, dict[str, Any]], recorded: dict[str, Any]) -> None:
    """Note ``max_items_one`` on each list field whose recorded projection is not what its
    MaxItems alone would give; nested blocks likewise."""
    for tf, facts in fields.items():
        record = recorded.get(tf) or {}
        one = record.get("maxItemsOne")
        if facts.get("type") in {"list", "set"} and one is not None and one != flattened(facts):
            facts["max_items_one"] = one
        nested = (record.get("elem") or {}).get("fields")
        if nested and "fields" in facts:
            project(facts["fields"], nested)


def pulumi_names(fields: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Re-key fields by their Pulumi (camelCase) names; nested blocks likewise."""
    out = {}
    for tf, facts in fields.items():
        facts = dict(facts)
        facts["tf"] = tf
        for key in ("conflicts_with", "exactly_one_of", "at_least_one_of", "required_with"):
            if key in facts:
                facts[key] = [_camel(n.split(".")[-1]) for n in facts[key]]
        if "fields" in facts:
            facts["fields"] = pulumi_names(facts["fields"])
        out[pulumi_name(tf, facts)] = facts
    return out


def check_tokens(pulumi_dir: str) -> tuple[str, set[str]]:
    """The commit of pulumi-alicloud read, after checking every token's Terraform name, and the
    tokens whose ``name`` field resources.go configures itself (so no auto-naming)."""
    text = subprocess.run(
        ["git", "--git-dir", pulumi_dir, "show", "HEAD:provider/resources.go"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    renamed: set[str] = set()
    for token, (tf_name, _) in RESOURCES.items():
        module, _, cls = token.split(":")[1].partition("/")[0], "", token.split(":")[2]
        m = re.search(rf'"{tf_name}":\s*{{\s*Tok:\s*resource\((\w+)Mod,\s*"(\w+)"\)', text)
        if not m or m.group(1) != module or m.group(2) != cls:
            raise SystemExit(f"{token}: provider/resources.go does not map {tf_name} to it")
        entry_end = text.find('\n\t\t\t"alicloud_', m.end())
        if re.search(r'"name":\s*\{', text[m.start() : entry_end]):
            renamed.add(token)
    commit = subprocess.run(
        ["git", "--git-dir", pulumi_dir, "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return commit, renamed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("terraform_clone")
    parser.add_argument("--tag", default="v1.289.0")
    parser.add_argument("--pulumi-clone")
    args = parser.parse_args(argv)
    source = Source(args.terraform_clone, args.tag)
    load_constants(source)
    out: dict[str, Any] = {
        "provider": {
            "repository": "aliyun/terraform-provider-alicloud",
            "tag": args.tag,
            "commit": source.commit(),
            "why_this_tag": (
                "the newest release readable here; the pulumi-alicloud 4.0.0 SDK is built from "
                "a slightly newer upstream (a few of its inputs are not in this tag: see "
                "tests/test_provider_facts.py), so this is the nearest"
            ),
        },
        "resources": {},
    }
    renamed: set[str] = set()
    projection: dict[str, Any] = {}
    if args.pulumi_clone:
        out["provider"]["pulumi_alicloud_commit"], renamed = check_tokens(args.pulumi_clone)
        projection = bridge_projection(args.pulumi_clone)
    for token, (tf_name, extra) in sorted(RESOURCES.items()):
        func, found, fields = resource_schema(tf_name, source)
        funcs = functions([found] + [Found(source.read(p), p) for p in extra])
        add_helpers(funcs, source)
        scopes = scopes_of(func, found, funcs)
        for name, facts in fields.items():
            facts.update(code_facts(name, facts, scopes))
        project(fields, (projection.get(tf_name) or {}).get("fields") or {})
        name = fields.get("name", {})
        named = name.get("type") == "string" and not name.get("removed")
        out["resources"][token] = {
            # The bridge fills a missing `name` (SetAutonaming) unless resources.go overrides it.
            "autoname": bool(
                named and (name.get("optional") or name.get("required")) and token not in renamed
            ),
            "terraform": tf_name,
            "source": found.path,
            "inputs": pulumi_names(fields),
        }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
