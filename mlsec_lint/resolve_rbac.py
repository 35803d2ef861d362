"""RBAC resolution: what each Role and ClusterRole grants, and which workloads get it.

Runs after :mod:`mlsec_lint.resolve_kubernetes` (container contexts are filled). Fills
``context`` of ``k8s-object`` facts in place:

* Role / ClusterRole: ``grants[*]`` (one per rule item and power: ``power``
  (``read-secrets``, ``create-pods``, ``exec-pods``, ``wildcard``, ``escalate``),
  ``what``, pointing at the rule item), and the binding summary below.
* RoleBinding / ClusterRoleBinding: ``default_subjects[*].name`` (subjects that are a
  namespace's ``default`` ServiceAccount, ``namespace/default``), ``role_grants[*]``
  (powers of the role it references, when scanned), and the binding summary below.

Binding summary (both): ``bound`` (some binding gives it to a subject), ``workloads[*]``
(``Kind/name`` of the scanned workloads whose pods run as a bound ServiceAccount),
``model_server`` (one of them runs a model server), ``exposed`` (one of them is reachable
from outside the cluster), ``scope`` (``the whole cluster`` when a ClusterRoleBinding
gives it, else the namespace), ``bound_to`` (a clause for messages, no final period).

Subjects are ServiceAccounts (the binding's namespace when none is given), and the
groups ``system:serviceaccounts`` and ``system:serviceaccounts:<namespace>``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mlsec_lint.facts import Fact
from mlsec_lint.model import Span
from mlsec_lint.records import Struct, field
from mlsec_lint.resolve_k8s_index import ns_of, sa_name
from mlsec_lint.resolve_k8s_usage import BORROWED_ACCOUNT
from mlsec_lint.tree import PDict, PList

ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")
RBAC_GROUP = "rbac.authorization.k8s.io"

_READ = frozenset({"get", "list", "watch", "*"})
_CREATE = frozenset({"create", "*"})
_EXEC_RESOURCES = frozenset({"pods/exec", "pods/attach", "pods/portforward"})
_ESCALATE = frozenset({"escalate", "bind", "impersonate"})
_MAX_WORKLOADS = 5


class Usage(Struct):
    """The scanned workloads that run as one ServiceAccount."""

    workloads: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    """The workloads among them that run a model server."""
    model_server: bool = False
    exposed: bool = False

    def add(self, workload: str, model_server: bool, exposed: bool) -> None:
        if workload not in self.workloads:
            self.workloads.append(workload)
        if model_server and workload not in self.servers:
            self.servers.append(workload)
        self.model_server = self.model_server or model_server
        self.exposed = self.exposed or exposed


class Binding(Struct):
    fact: Fact
    kind: str
    name: str
    ns: str
    role_kind: str
    role_name: str
    subjects: list[str] = field(default_factory=list)
    """``ns/name`` of ServiceAccounts, ``ns/*`` for a namespace group, ``*/*`` for all."""
    spans: list[Span] = field(default_factory=list)
    """Where each subject is written."""


def _strs(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int))]
    return []


def _grants(obj: PDict, span: Span) -> PList:
    """What the rules of a Role/ClusterRole allow, one entry per rule and power."""
    out = PList(span)
    rules = obj.get("rules")
    if not isinstance(rules, PList):
        return out
    for i, rule in enumerate(rules):
        if not isinstance(rule, PDict):
            continue
        rspan = rules.item_span(i)
        verbs = {v.lower() for v in _strs(rule.get("verbs"))}
        resources = {r.lower() for r in _strs(rule.get("resources"))}
        groups = set(_strs(rule.get("apiGroups")))
        core = not groups or bool(groups & {"", "*"})
        powers: list[tuple[str, str]] = []
        if "*" in verbs or "*" in resources or "*" in groups:
            which = [w for w, s in (("verbs", verbs), ("resources", resources)) if "*" in s]
            if "*" in groups and not which:
                which = ["apiGroups"]
            powers.append(("wildcard", f"'*' in {' and '.join(which)}"))
        # `get` limited by resourceNames reads only the named Secrets (least privilege);
        # `list` and `watch` still return every Secret's value
        named_only = bool(_strs(rule.get("resourceNames"))) and not (verbs & (_READ - {"get"}))
        if core and verbs & _READ and resources & {"secrets", "*"} and not named_only:
            powers.append(("read-secrets", f"{', '.join(sorted(verbs & _READ))} on secrets"))
        if core and verbs & _CREATE and resources & {"pods", "*"}:
            powers.append(("create-pods", "create on pods"))
        exec_res = resources & _EXEC_RESOURCES
        if core and exec_res and verbs & (_CREATE | {"get"}):
            powers.append(("exec-pods", f"{', '.join(sorted(exec_res))}"))
        if verbs & _ESCALATE:
            powers.append(("escalate", f"{', '.join(sorted(verbs & _ESCALATE))}"))
        for power, what in powers:
            rec = PDict(rspan)
            rec.put("power", power, rspan, rspan)
            rec.put("what", what, rspan, rspan)
            rec.put("rule", i + 1, rspan, rspan)
            out.push(rec, rspan)
    return out


def _usage(containers: Iterable[Fact]) -> dict[tuple[str, str], Usage]:
    out: dict[tuple[str, str], Usage] = defaultdict(Usage)
    for c in containers:
        data = c.data
        if data.get("source") != "kubernetes" or data.get("component") in BORROWED_ACCOUNT:
            continue
        wl = data.get("workload")
        if not isinstance(wl, dict):
            continue
        ctx = data.get("context")
        exposed = isinstance(ctx, dict) and ctx.get("exposed") is True
        out[(ns_of(wl.get("namespace")), sa_name(c))].add(
            f"{wl.get('kind')}/{wl.get('name')}", bool(data.get("model_server")), exposed
        )
    return out


def _bindings(facts: Iterable[Fact]) -> list[Binding]:
    out = []
    for f in facts:
        obj = f.data.get("object")
        if not isinstance(obj, PDict):
            continue
        ref = obj.get("roleRef")
        ref = ref if isinstance(ref, dict) else {}
        ns = ns_of(f.data.get("namespace"))
        b = Binding(
            f,
            str(f.data.get("kind")),
            str(f.data.get("name") or ""),
            ns,
            str(ref.get("kind") or ""),
            str(ref.get("name") or ""),
        )
        subjects = obj.get("subjects")
        items = subjects if isinstance(subjects, PList) else []
        for i, s in enumerate(items):
            if not isinstance(s, dict):
                continue
            kind, name = s.get("kind"), str(s.get("name") or "")
            if kind == "ServiceAccount" and name:
                subject = f"{ns_of(s.get('namespace') or ns)}/{name}"
            elif kind == "Group" and name == "system:serviceaccounts":
                subject = "*/*"
            elif kind == "Group" and name.startswith("system:serviceaccounts:"):
                subject = f"{name.rsplit(':', 1)[1]}/*"
            else:
                continue
            b.subjects.append(subject)
            b.spans.append(items.item_span(i) if isinstance(items, PList) else f.anchor)
        out.append(b)
    return out


def _users(subjects: list[str], usage: dict[tuple[str, str], Usage]) -> Usage:
    total = Usage()
    for subject in subjects:
        ns, _, name = subject.partition("/")
        for (uns, uname), u in usage.items():
            if (ns in ("*", uns)) and (name in ("*", uname)):
                for w in u.workloads:
                    total.add(w, w in u.servers, False)
                total.exposed = total.exposed or u.exposed
    return total


def _phrase(bindings: list[Binding], users: Usage) -> str:
    if not bindings:
        return "No binding to it is in the scanned files"
    via = ", ".join(f"{b.kind} '{b.name}'" for b in bindings[:3])
    subjects = sorted({s for b in bindings for s in b.subjects})
    who = ", ".join(f"ServiceAccount '{s}'" for s in subjects[:3]) or "its subjects"
    if not users.workloads:
        return f"{via} gives it to {who}; no scanned workload runs as it"
    # model servers first: they are why the power matters
    ordered = users.servers + [w for w in users.workloads if w not in users.servers]
    names = [f"{w} (model server)" if w in users.servers else w for w in ordered[:_MAX_WORKLOADS]]
    extra = len(ordered) - len(names)
    more = f" and {extra} more" if extra > 0 else ""
    return f"{via} gives it to {who}; pods of {', '.join(names)}{more} run as it"


def _summary(ctx: PDict, span: Span, bindings: list[Binding], users: Usage) -> None:
    cluster = any(b.kind == "ClusterRoleBinding" for b in bindings)
    namespaces = sorted({b.ns for b in bindings if b.kind == "RoleBinding"})
    if cluster:
        scope = "the whole cluster"
    elif len(namespaces) == 1:
        scope = f"namespace '{namespaces[0]}'"
    else:
        scope = "the namespaces it is bound in"
    ctx.put("scope", scope, span, span)
    ctx.put("bound", bool(bindings), span, span)
    wl = PList(span)
    for w in users.workloads:
        wl.push(w, span)
    ctx.put("workloads", wl, span, span)
    ctx.put("model_server", users.model_server, span, span)
    ctx.put("exposed", users.exposed, span, span)
    ctx.put("bound_to", _phrase(bindings, users), span, span)


def resolve(by_kind: dict[str, list[Fact]]) -> None:
    objects = [
        f
        for f in by_kind.get("k8s-object", [])
        if str(f.data.get("apiVersion") or "").startswith(RBAC_GROUP)
        or f.data.get("kind") == "ServiceAccount"
    ]
    rbac = [f for f in objects if f.data.get("kind") in ROLE_KINDS + BINDING_KINDS]
    if not rbac:
        return
    usage = _usage(by_kind.get("container", []))
    bindings = _bindings(f for f in rbac if f.data.get("kind") in BINDING_KINDS)
    by_role: dict[tuple[str, str, str], list[Binding]] = defaultdict(list)
    for b in bindings:
        # a RoleBinding may grant a ClusterRole inside its own namespace
        key_ns = b.ns if b.role_kind == "Role" else ""
        by_role[(b.role_kind, key_ns, b.role_name)].append(b)
    roles: dict[tuple[str, str, str], PList] = {}
    for f in rbac:
        kind = str(f.data.get("kind"))
        if kind not in ROLE_KINDS:
            continue
        ctx = f.data.get("context")
        obj = f.data.get("object")
        if not isinstance(ctx, PDict) or not isinstance(obj, PDict):
            continue
        span = f.anchor
        grants = _grants(obj, span)
        ctx.put("grants", grants, span, span)
        ns = ns_of(f.data.get("namespace")) if kind == "Role" else ""
        key = (kind, ns, str(f.data.get("name") or ""))
        roles[key] = grants
        mine = by_role.get(key, [])
        _summary(ctx, span, mine, _users([s for b in mine for s in b.subjects], usage))
    for b in bindings:
        ctx = b.fact.data.get("context")
        if not isinstance(ctx, PDict):
            continue
        span = b.fact.anchor
        defaults = PList(span)
        for s, where in zip(b.subjects, b.spans, strict=True):
            if s.endswith("/default"):
                rec = PDict(where)
                rec.put("name", s, where, where)
                defaults.push(rec, where)
        ctx.put("default_subjects", defaults, span, span)
        key_ns = b.ns if b.role_kind == "Role" else ""
        found = roles.get((b.role_kind, key_ns, b.role_name))
        powers = PList(span)
        for g in found if found is not None else []:
            if isinstance(g, dict) and g.get("power") not in powers:
                powers.push(g.get("power"), span)
        ctx.put("role_grants", powers, span, span)
        ctx.put("role_found", found is not None, span, span)
        _summary(ctx, span, [b], _users(b.subjects, usage))
