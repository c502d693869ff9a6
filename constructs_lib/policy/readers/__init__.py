"""Readers: one per resource type (or family), registered in ``READERS``; the dispatcher that runs them.

A reader turns one resource into the core's normalized form (``model.py``): the groups it defines,
the permissions that admit traffic to them, and the attachments that put groups together on one
network interface. Adding a resource type is one reader function decorated with ``@reads(type)``,
its cases in ``tests/guard_cases.py`` and a row in RULES.md.

The contract every reader keeps:

1. **Total.** It accepts any value of any shape. What CloudFormation would refuse is
   ``resource.malformed(...)``; it never raises (an exception is still contained by the dispatcher,
   but reported as ``ValidationFailed``: a crash in a reader is a bug, never a pass).
2. **Every value it may deploy as.** Every property goes through ``resource.resolver``
   (``candidates``/``strings``/``lists``), and every candidate counts: both ``Fn::If`` branches
   that can be taken, every ``AllowedValues`` entry.
3. **Unknown is not safe.** A value that cannot be known at synth time becomes an unknown source
   (``Source("unknown", why)``), an unknown port range (``certain=False``) or
   ``resource.unverifiable(...)``; it is never skipped. The rules decide whether it matters.
4. **Defaults count.** A property that is absent opens what the service opens by default (an EKS
   node group with an SSH key and no source groups opens port 22 to the world).
5. **Say what opened it.** Permissions carry the resource as ``origin`` and the property as
   ``rule_label`` (``RemoteAccess.Ec2SshKey``); service-made groups carry the fix that applies.

The dispatcher checks what all resources share (their condition, an intrinsic in place of
``Properties``, ``Fn::ForEach``, unknown transforms) before a reader sees the resource. Readers
registered ``late`` run after all others, over all templates (a load balancer's listener needs the
rules of the load balancer's security groups).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from ..config import METADATA_KEY, SSH_PROMISE
from ..findings import Finding, Location, Rule
from ..intrinsics import NO_VALUE, Resolver, ResourceRef, Unknown, describe, resolvers_for
from ..model import Attachment, Group, Inventory, Permission, Source
from ..templates import Template

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: ``{resource type: reader}``; filled by ``@reads`` in the reader modules imported at the end.
READERS: dict[str, Callable[[Resource], None]] = {}
#: Types whose readers run after every other resource is read (they build on what the others found).
LATE: set[str] = set()
#: Resource types whose readers define groups (read in a first pass, so references resolve in any order).
GROUP_TYPES = {"AWS::EC2::SecurityGroup"}
#: Transforms that do not add or change what may reach a network interface.
KNOWN_TRANSFORMS = frozenset({"AWS::Serverless-2016-10-31", "AWS::LanguageExtensions", "AWS::SecretsManager-2020-07-23"})


def reads(*resource_types: str, late: bool = False) -> Callable[[Callable[[Resource], None]], Callable[[Resource], None]]:
    """Register the decorated function as the reader of ``resource_types`` (``late``: after all others)."""

    def register(function: Callable[[Resource], None]) -> Callable[[Resource], None]:
        for resource_type in resource_types:
            if resource_type in READERS:
                raise ValueError(f"{resource_type} already has a reader: {READERS[resource_type].__name__}")
            READERS[resource_type] = function
            if late:
                LATE.add(resource_type)
        return function

    return register


class Context:
    """What readers share across templates: every template's resolver, group names, and the inventory."""

    def __init__(self, templates: Sequence[Template], inventory: Inventory) -> None:
        self.inventory = inventory
        self.templates = {template.name: (template, resolver) for template, resolver in zip(templates, resolvers_for(templates))}
        self.group_names: dict[str, dict[str, str]] = {template.name: {} for template in templates}
        #: The assignment of conditions the resource being read is read under, as permissions record it.
        self.assumption: tuple[tuple[tuple[str, str], bool], ...] = ()
        inventory.possible = self.possible

    def possible(self, assignment: dict[tuple[str, str], bool]) -> bool:
        """Whether conditions of the templates may take these truth values together."""
        by_template: dict[str, dict[str, bool]] = {}
        for (template, condition), truth in assignment.items():
            by_template.setdefault(template, {})[condition] = truth
        return all(self.templates[template][1].possible(part) for template, part in by_template.items())


class Resource:
    """One resource of one template, as a reader sees it, with the ways a reader reports what it finds."""

    __slots__ = ("template", "logical_id", "key", "type", "body", "properties", "location", "resolver", "context")

    def __init__(self, template: Template, logical_id: str, body: dict[str, Any], context: Context) -> None:
        self.template = template
        self.logical_id = logical_id
        self.key = f"{template.name}:{logical_id}"  # its key in the inventory
        self.type: str = body["Type"]  # _resources reads only resources whose Type is a string
        self.body = body
        properties = body.get("Properties", {})
        self.properties: dict[str, Any] = properties if isinstance(properties, dict) else {}
        self.location = location_of(template, logical_id, body)
        self.resolver: Resolver = context.templates[template.name][1]
        self.context = context

    @property
    def name(self) -> str:
        """A short name for messages: the construct id (``WebServer``), a ``Name`` tag, or the logical id."""
        path = self.location.construct_path
        if path:
            parts = path.split("/")
            if len(parts) > 1 and parts[-1] in ("Resource", "Default"):
                parts = parts[:-1]
            return parts[-1]
        tags = self.properties.get("Tags")
        for tag in tags if isinstance(tags, list) else ():
            if isinstance(tag, dict) and tag.get("Key") == "Name" and isinstance(tag.get("Value"), str) and tag["Value"]:
                return tag["Value"].rstrip("/").split("/")[-1] or self.logical_id
        return self.logical_id

    # --- reporting -------------------------------------------------------------------------------

    def malformed(self, message: str) -> None:
        self.context.inventory.findings.append(Finding(self.location, Rule.MALFORMED_INGRESS, message))

    def unverifiable(self, message: str) -> None:
        self.context.inventory.findings.append(Finding(self.location, Rule.UNVERIFIABLE_INGRESS, message))

    def define_group(self, kind: str = "security group", fix: str | None = None, ssh_from_groups: bool = False) -> str:
        """Define this resource as a group (a security group, or a firewall a service makes); return its key."""
        self.context.inventory.groups[self.key] = Group(self.key, self.location, True, kind, fix, ssh_from_groups)
        return self.key

    def refer_group(self, key: str) -> str:
        """Note a group known only by reference (literal id, import from outside, name); return its key."""
        if key not in self.context.inventory.groups:
            self.context.inventory.groups[key] = Group(key, self.location, False)
        return key

    def permit(self, group: str, protocol: str, ports: tuple[int, int] | None, source: Source, label: str, certain: bool = True) -> None:
        permission = (group, protocol, ports, source, self.location, label, certain, self.context.assumption)
        self.context.inventory.permissions.append(_new_tuple(Permission, permission))

    def attach(self, kind: str, name: str, groups: Sequence[str], unresolved: Sequence[str] = (), suffix: str = "") -> None:
        """Record a network interface (or template of them) on which ``groups`` sit together."""
        key = self.key + suffix
        self.context.inventory.attachments.append(
            Attachment(key, self.location, kind, name, tuple(groups), tuple(unresolved), self.context.assumption))

    # --- values ----------------------------------------------------------------------------------

    def group_key(self, value: Any, field: str) -> str:
        """The inventory key of the group a resolved ``GroupId``/``GroupName`` value designates."""
        return group_key(value, field, self.context.group_names.get(self.template.name, {}))

    def group_keys(self, node: Any, field: str) -> tuple[list[str], list[str]]:
        """The groups a list-valued property may name (every candidate), and why some are unknown."""
        keys: list[str] = []
        unresolved: list[str] = []
        if node is None:
            return keys, unresolved
        for values in self.resolver.lists(node):
            if isinstance(values, Unknown):
                unresolved.append(values.reason)
                continue
            for value in values:
                if isinstance(value, Unknown):
                    unresolved.append(value.reason)
                elif isinstance(value, dict) and len(value) == 1 and "GroupId" in value:  # SpotFleet: [{GroupId: ...}]
                    for inner in self.resolver.candidates(value["GroupId"]):
                        if isinstance(inner, Unknown):
                            unresolved.append(inner.reason)
                        elif inner is not NO_VALUE:
                            _append_new(keys, self.refer_group(self.group_key(inner, field)))
                elif value is not NO_VALUE:
                    _append_new(keys, self.refer_group(self.group_key(value, field)))
        return keys, unresolved

    def each(self, node: Any, what: str, kind: type) -> Iterator[Any]:
        """Every value ``node`` may deploy as that is a ``kind`` (``list`` or ``dict``); an unknown one is
        unverifiable, one of another shape malformed."""
        for value in self.resolver.candidates(node):
            if value is NO_VALUE:
                continue
            if isinstance(value, Unknown):
                self.unverifiable(f"{what} is unknown at synth time: {value.reason}")
            elif not isinstance(value, kind):
                self.malformed(f"{what} is not {'a list' if kind is list else 'an object'}")
            else:
                yield value

    def lookup(self, *path: str) -> Any:
        """The raw property at ``path`` (``lookup("RemoteAccess", "Ec2SshKey")``), or ``None``."""
        node: Any = self.properties
        for step in path:
            if not isinstance(node, dict):
                return None
            node = node.get(step)
        return node


def _append_new(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def group_key(value: Any, field: str, group_names: dict[str, str] | None = None) -> str:
    """``Stack:LogicalId`` for a group of the analysed templates, ``id:sg-...``/``name:...`` otherwise.

    ``field`` is ``GroupId`` or ``GroupName`` (how the value names the group); a literal ``sg-`` value
    is an id whatever the field.
    """
    if isinstance(value, ResourceRef):
        attribute = value.attribute if value.attribute not in (None, "GroupId") else ""
        return f"{value.template}:{value.logical_id}" + (f".{attribute}" if attribute else "")
    if isinstance(value, str):
        if field == "GroupName" and not value.startswith("sg-"):
            return (group_names or {}).get(value, f"name:{value}")
        return f"id:{value}"
    import json

    return f"unresolved:{json.dumps(value, sort_keys=True, default=str)}"  # a literal of the template


#: Builds a namedtuple from all its fields without the generated ``__new__`` (twice as fast: one per rule).
_new_tuple = tuple.__new__


def location_of(template: Template, logical_id: str, resource: Any) -> Location:
    """Where a resource is: its template, logical id, CDK construct path (if recorded) and file."""
    metadata = resource.get("Metadata") if isinstance(resource, dict) else None
    path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
    if not isinstance(path, str):
        path = template.construct_paths.get(logical_id)
    return _new_tuple(Location, (template.name, logical_id, path, template.path))


# --- the dispatcher ------------------------------------------------------------------------------


def read_inventory(templates: Sequence[Template]) -> Inventory:
    """Normalize every group, permission and attachment of ``templates`` (analysed together).

    Never raises for a template's content: what goes wrong while reading a template is a
    ``ValidationFailed`` finding on it (a bug in the guard, reported, never a pass).
    """
    inventory = Inventory()
    inventory.templates = len(templates)
    try:
        context = Context(templates, inventory)
    except Exception as error:  # noqa: BLE001 - e.g. an export name nested beyond recursion
        for template in templates:
            _crashed(inventory, template, error)
        return inventory
    readable = []
    for template in templates:
        try:
            readable.append((template, list(_resources(template, context))))
        except Exception as error:  # noqa: BLE001
            _crashed(inventory, template, error)
    for template, resources in readable:  # groups first: references to them resolve in any order
        for resource in resources:
            if resource.type in GROUP_TYPES:
                _define_security_group(resource)
    for template, resources in readable:
        for resource in resources:
            if resource.type not in LATE:
                _read(resource)
    for template, resources in readable:
        for resource in resources:
            if resource.type in LATE:
                _read(resource)
        try:
            _report_template_problems(template, context)
        except Exception as error:  # noqa: BLE001
            _crashed(inventory, template, error)
    return inventory


def _crashed(inventory: Inventory, template: Template, error: Exception) -> None:
    inventory.findings.append(Finding(
        Location(template.name, "(template)", None, template.path),
        Rule.VALIDATION_FAILED,
        f"the guard could not read this template ({type(error).__name__}: {error}); this is a bug in the guard, "
        "please report it; the template is unchecked",
    ))


def _resources(template: Template, context: Context) -> Iterator[Resource]:
    """The resources a reader should see: of a type with a reader, whose condition can hold (every resource's
    condition is evaluated: one that names no condition is a problem wherever it is)."""
    body = template.body
    resolver = context.templates[template.name][1]
    _check_transforms(template, context)
    resources = body.get("Resources")
    for logical_id, body_of in resources.items() if isinstance(resources, dict) else ():
        if isinstance(logical_id, str) and logical_id.startswith("Fn::ForEach::"):
            if _loop_may_create_read_type(body_of):
                _finding(context, Location(template.name, logical_id, None, template.path), Rule.UNVERIFIABLE_INGRESS,
                         "Fn::ForEach resources are expanded only at deploy time")
            continue
        if not isinstance(body_of, dict) or not isinstance(body_of.get("Type"), str):
            continue  # a structure problem, reported from template.problems
        condition = body_of.get("Condition")
        if condition is not None and True not in resolver.condition(condition, f"Resources.{logical_id}.Condition"):
            continue  # CloudFormation never creates it
        if reader_of(body_of["Type"]) is not None:
            yield Resource(template, str(logical_id), body_of, context)


def _loop_may_create_read_type(loop: Any) -> bool:
    """Whether a ``Fn::ForEach`` loop (``[identifier, collection, fragment]``) may create a resource some reader
    reads: its fragment names such a type, a type it cannot tell, or is not a fragment at all."""
    if not (type(loop) is list and len(loop) == 3 and type(loop[2]) is dict):
        return True
    for key, body in loop[2].items():
        if isinstance(key, str) and key.startswith("Fn::ForEach::"):
            if _loop_may_create_read_type(body):
                return True
        elif type(body) is not dict or type(body.get("Type")) is not str or body["Type"] in READERS:
            return True
    return False


def _define_security_group(resource: Resource) -> None:
    key = resource.define_group(ssh_from_groups=_promises_ssh_from_groups(resource))
    name = resource.properties.get("GroupName")
    if isinstance(name, str):
        resource.context.group_names[resource.template.name][name] = key


def _promises_ssh_from_groups(resource: Resource) -> bool:
    """Whether the group's ``Metadata`` promises SSH (tcp/22) only from security groups, as a
    ``WebServerSecurityGroup`` writes it: ``admin-port-guard: {sshFrom: security-groups}`` (``SSH_PROMISE``). A promise of
    another value is malformed, and still holds (the rules judge what it set out to promise)."""
    metadata = resource.body.get("Metadata")
    declared = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    ((field, promised),) = SSH_PROMISE.items()
    if not isinstance(declared, dict) or field not in declared:
        return False
    if declared[field] != promised:
        resource.malformed(f"Metadata.{METADATA_KEY}.{field} must be {promised} (SSH only from security groups), "
                           f"not {describe(declared[field])}")
    return True


def reader_of(resource_type: str) -> Callable[[Resource], None] | None:
    """The reader of ``resource_type``: registered for it, or for its prefix (``Custom::*``) or suffix (``*::MODULE``)."""
    reader = READERS.get(resource_type)
    if reader is None and resource_type.startswith("Custom::"):
        return READERS.get("Custom::*")
    if reader is None and resource_type.endswith("::MODULE"):
        return READERS.get("*::MODULE")
    return reader


def _read(resource: Resource) -> None:
    """Run the resource's reader once, or once per assignment of the conditions that decide it (its own
    ``Condition``, true, and those its ``Fn::If`` choose by) and value of the parameters with ``AllowedValues``
    its values come from, so values chosen by one condition or parameter pair up."""
    reader = reader_of(resource.type)
    if reader is None:
        return
    properties = resource.body.get("Properties", {})
    if not isinstance(properties, dict):
        return  # a structure problem, reported from template.problems
    resolver, context, inventory = resource.resolver, resource.context, resource.context.inventory
    marks = (len(inventory.permissions), len(inventory.attachments), len(inventory.findings), inventory.rules_read)
    resolver.consulted, resolver.consulted_parameters = set(), set()
    _read_properties(resource, reader, properties)  # every value at once: which conditions and parameters matter?
    condition = resource.body.get("Condition")
    condition = condition if type(condition) is str and condition in resolver.conditions else None
    names = resolver.consulted | ({condition} if condition is not None else set())
    readings = resolver.readings(names, resolver.consulted_parameters, condition)
    if not readings:
        return  # nothing to pair, or too much to enumerate: every value at once stays (it can only over-report)
    del inventory.permissions[marks[0]:], inventory.attachments[marks[1]:], inventory.findings[marks[2]:]
    start, rules_before, rules = marks[2], marks[3], 0
    inventory.rules_read = rules_before
    for assignment, values in readings:
        resolver.assumed, resolver.fixed = assignment, values
        context.assumption = tuple(((resource.template.name, name), truth) for name, truth in assignment.items())
        try:
            _read_properties(resource, reader, properties)
        finally:
            resolver.assumed, resolver.fixed, context.assumption = {}, {}, ()
        rules, inventory.rules_read = max(rules, inventory.rules_read - rules_before), rules_before
    inventory.rules_read += rules  # the rules of the resource, not of each assignment
    for found, mark in ((inventory.permissions, marks[0]), (inventory.attachments, marks[1]), (inventory.findings, start)):
        found[mark:] = dict.fromkeys(found[mark:])  # type: ignore[arg-type]  # each list into itself; what several readings find alike, once


def _read_properties(resource: Resource, reader: Callable[[Resource], None], properties: dict[str, Any]) -> None:
    """Read each value ``Properties`` may deploy as (both literal branches of a ``Fn::If``)."""
    branches = resource.resolver.candidates(properties) if len(properties) == 1 and "Fn::If" in properties else (properties,)
    for branch in branches:
        if branch is NO_VALUE:
            branch = {}
        if type(branch) is not dict or any(type(key) is str and key[:4] == "Fn::" for key in branch):
            resource.unverifiable("its Properties are produced at deploy time (an intrinsic or a transform)")
            continue
        resource.properties = branch
        try:
            reader(resource)
        except Exception as error:  # noqa: BLE001 - contract 1: a reader bug is reported, never a pass
            _finding(resource.context, resource.location, Rule.VALIDATION_FAILED,
                     f"the guard could not read this {resource.type} ({type(error).__name__}: {error}); this is a bug in "
                     "the guard, please report it; the resource is unchecked")


def _check_transforms(template: Template, context: Context) -> None:
    """Macros other than AWS's own transforms may rewrite any resource before it deploys."""
    names = template.body.get("Transform", [])
    for entry in names if isinstance(names, list) else [names]:
        name = entry.get("Name") if isinstance(entry, dict) else entry  # {Name: AWS::Include, Parameters: ...}
        if not isinstance(name, str) or name not in KNOWN_TRANSFORMS:
            _finding(context, Location(template.name, "Transform", None, template.path), Rule.UNVERIFIABLE_INGRESS,
                     f"the template transform {name!r} may rewrite its resources at deploy time")


def _report_template_problems(template: Template, context: Context) -> None:
    """``MalformedTemplate`` findings for what CloudFormation would refuse, anchored at the resource they are in."""
    resolver = context.templates[template.name][1]
    for place, message in dict.fromkeys(template.problems + resolver.problems):
        logical_id = place
        if place.startswith("Resources.") and len(place) > len("Resources."):
            logical_id = place[len("Resources."):].split(".")[0].split("[")[0]
        where = "" if place in (logical_id, f"Resources.{logical_id}") else f"{place}: "
        location = Location(template.name, logical_id, template.construct_paths.get(logical_id), template.path)
        _finding(context, location, Rule.MALFORMED_TEMPLATE, where + message)


def _finding(context: Context, location: Location, rule: Rule, message: str) -> None:
    context.inventory.findings.append(Finding(location, rule, message))


# The reader modules register themselves when imported.
from . import attachments, custom_resources, ec2, load_balancers, services, stacks  # noqa: E402, F401
