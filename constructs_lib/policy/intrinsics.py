"""Evaluate CloudFormation intrinsic functions to the set of values they may take at deploy time.

``Resolver.candidates(node)`` returns every value ``node`` can deploy as: each ``Fn::If`` branch,
every ``Default``/``AllowedValues`` of a referenced parameter, every entry of a mapping whose key is
not known. What cannot be known at synth time becomes an ``Unknown`` carrying the reason, never a
guess. References to resources become ``ResourceRef`` values, so callers can tell "the security group
``WebSG``" from a string.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .templates import Template

#: Above this many combinations a value is reported as unknown instead of enumerated.
MAX_CANDIDATES = 64


@dataclass(frozen=True)
class Unknown:
    """A value that cannot be determined from the templates alone."""

    reason: str


@dataclass(frozen=True)
class ResourceRef:
    """``Ref``/``Fn::GetAtt`` of a resource in one of the analysed templates."""

    template: str
    logical_id: str
    attribute: str | None = None


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


#: ``Ref: AWS::NoValue``: the property is removed.
NO_VALUE = _NoValue()

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def _product(options: list[list[Any]], combine: Callable[[tuple], Any]) -> list[Any]:
    """Combine one candidate from each option list, or give up as ``Unknown`` when there are too many."""
    for option in options:
        unknown = next((value for value in option if isinstance(value, Unknown)), None)
        if unknown is not None:
            return [unknown]
    count = 1
    for option in options:
        count *= len(option)
    if count > MAX_CANDIDATES:
        return [Unknown(f"more than {MAX_CANDIDATES} combinations of conditional values")]
    return [combine(choice) for choice in itertools.product(*options)]


def _as_string(value: Any) -> str | Unknown:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return Unknown(f"{json.dumps(value) if not isinstance(value, ResourceRef) else value} is not a string")
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, ResourceRef):
        return Unknown(f"the physical id of resource {value.logical_id} is only known at deploy time")
    return value if isinstance(value, Unknown) else Unknown(f"{value!r} is not a string")


class Resolver:
    """Evaluates intrinsic functions within one template.

    ``exports`` maps export names to the ``(resolver, value node)`` that produces them, across every
    template under analysis, so ``Fn::ImportValue`` follows cross-stack references.
    """

    def __init__(self, name: str, template: Mapping[str, Any], exports: Mapping[str, tuple[Resolver, Any]]):
        self.name = name
        self.parameters: Mapping[str, Any] = _mapping(template.get("Parameters"))
        self.mappings: Mapping[str, Any] = _mapping(template.get("Mappings"))
        self.resources: Mapping[str, Any] = _mapping(template.get("Resources"))
        self.exports = exports
        self._functions: dict[str, Callable[[Any], list[Any]]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::If": self._if,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Sub": self._sub,
            "Fn::ImportValue": self._import_value,
            "Fn::Cidr": self._cidr,
        }

    def candidates(self, node: Any) -> list[Any]:
        """Every value ``node`` may take: literals, ``ResourceRef``, ``NO_VALUE`` or ``Unknown``."""
        if isinstance(node, dict) and len(node) == 1:
            (key, argument), = node.items()
            function = self._functions.get(key)
            if function is not None:
                return function(argument)
            if key.startswith("Fn::"):
                return [Unknown(f"{key} is evaluated only at deploy time")]
        return [node]

    def strings(self, node: Any) -> list[str | Unknown]:
        """Candidates of ``node`` as strings (numbers are converted); anything else is ``Unknown``."""
        return [_as_string(value) for value in self.candidates(node)]

    def lists(self, node: Any) -> list[list[Any] | Unknown]:
        """Candidates of a list-valued ``node``, each element itself resolved."""
        result: list[list[Any] | Unknown] = []
        for value in self.candidates(node):
            if isinstance(value, Unknown):
                result.append(value)
            elif not isinstance(value, list):
                result.append(Unknown(f"{json.dumps(value, default=str)} is not a list"))
            else:
                elements = [[item for item in self.candidates(element) if item is not NO_VALUE] for element in value]
                result.extend(_product(elements, list))
        return result

    def _ref(self, name: Any) -> list[Any]:
        if not isinstance(name, str):
            return [Unknown(f"Ref to {json.dumps(name)} is malformed")]
        if name == "AWS::NoValue":
            return [NO_VALUE]
        if name in self.parameters:
            return self._parameter(name, _mapping(self.parameters[name]))
        if name in self.resources:
            return [ResourceRef(self.name, name)]
        if name.startswith("AWS::"):
            return [Unknown(f"pseudo parameter {name} is known only at deploy time")]
        return [Unknown(f"Ref to {name!r}, which is neither a parameter nor a resource of this template")]

    def _parameter(self, name: str, spec: Mapping[str, Any]) -> list[Any]:
        kind = str(spec.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter::Value"):
            return [Unknown(f"parameter {name} is read from SSM Parameter Store at deploy time")]
        values = []
        if "Default" in spec:
            values.append(spec["Default"])
        values.extend(value for value in spec.get("AllowedValues") or [] if value not in values)
        if not values:
            return [Unknown(f"parameter {name} has no Default and no AllowedValues")]
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            return [value.split(",") if isinstance(value, str) else value for value in values]
        return values

    def _get_att(self, argument: Any) -> list[Any]:
        if isinstance(argument, str) and "." in argument:
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            return [Unknown(f"Fn::GetAtt {json.dumps(argument)} is malformed")]
        logical_id, attribute = argument
        resource = _mapping(self.resources.get(logical_id))
        if not resource:
            return [Unknown(f"Fn::GetAtt of {logical_id!r}, which is not a resource of this template")]
        if resource.get("Type") == "AWS::EC2::VPC" and attribute == "CidrBlock":
            return self.candidates(_mapping(resource.get("Properties")).get("CidrBlock", Unknown("VPC CIDR from IPAM")))
        return [ResourceRef(self.name, logical_id, attribute if isinstance(attribute, str) else None)]

    def _if(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) == 3):
            return [Unknown(f"Fn::If {json.dumps(argument)} is malformed")]
        return self.candidates(argument[1]) + self.candidates(argument[2])

    def _join(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            return [Unknown(f"Fn::Join {json.dumps(argument)} is malformed")]
        delimiter = argument[0]
        joined: list[Any] = []
        for parts in self.lists(argument[1]):
            if isinstance(parts, Unknown):
                joined.append(parts)
                continue
            strings = [_as_string(part) for part in parts]
            unknown = next((part for part in strings if isinstance(part, Unknown)), None)
            joined.append(unknown if unknown is not None else delimiter.join(strings))
        return joined

    def _select(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) == 2):
            return [Unknown(f"Fn::Select {json.dumps(argument)} is malformed")]
        indexes = self.strings(argument[0])
        lists = self.lists(argument[1])
        selected: list[Any] = []
        for index, items in itertools.product(indexes, lists):
            if isinstance(index, Unknown) or isinstance(items, Unknown):
                selected.append(index if isinstance(index, Unknown) else items)
            elif not index.isdigit() or int(index) >= len(items):
                selected.append(Unknown(f"Fn::Select index {index} is outside the list"))
            else:
                selected.append(items[int(index)])
        return selected

    def _split(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str) and argument[0]):
            return [Unknown(f"Fn::Split {json.dumps(argument)} is malformed")]
        return [
            value if isinstance(value, Unknown) else value.split(argument[0]) for value in self.strings(argument[1])
        ]

    def _find_in_map(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            return [Unknown(f"Fn::FindInMap {json.dumps(argument)} is malformed")]
        default = _mapping(argument[3]).get("DefaultValue") if len(argument) == 4 else None
        levels: list[Any] = [self.mappings]
        for key_node in argument[:3]:
            next_levels: list[Any] = []
            for level in levels:
                if isinstance(level, Unknown):
                    next_levels.append(level)
                    continue
                level = _mapping(level)
                for key in self.strings(key_node):
                    if isinstance(key, Unknown):
                        next_levels.extend(level.values())  # the key is one of these, we do not know which
                    elif key in level:
                        next_levels.append(level[key])
                    elif default is not None:
                        next_levels.append(None)  # replaced by the default below
                    else:
                        next_levels.append(Unknown(f"Fn::FindInMap key {key!r} is not in the mapping"))
            levels = next_levels
        values: list[Any] = []
        for level in levels:
            values.extend(self.candidates(default) if level is None else self.candidates(level))
        return values or [Unknown("Fn::FindInMap found no value")]

    def _sub(self, argument: Any) -> list[Any]:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], _mapping(argument[1])
        else:
            return [Unknown(f"Fn::Sub {json.dumps(argument)} is malformed")]
        pieces: list[list[Any]] = []
        position = 0
        for match in _SUB_PLACEHOLDER.finditer(text):
            pieces.append([text[position : match.start()]])
            name = match.group(1)
            if name.startswith("!"):
                pieces.append(["${" + name[1:] + "}"])
            elif name in variables:
                pieces.append(self.strings(variables[name]))
            elif "." in name and name.split(".", 1)[0] in self.resources:
                pieces.append([_as_string(value) for value in self._get_att(name)])
            else:
                pieces.append(self.strings({"Ref": name}))
            position = match.end()
        pieces.append([text[position:]])
        return _product(pieces, "".join)

    def _cidr(self, argument: Any) -> list[Any]:
        """``Fn::Cidr [block, count, host bits]``: the first ``count`` subnets with ``host bits`` host bits."""
        if not (isinstance(argument, list) and len(argument) == 3):
            return [Unknown(f"Fn::Cidr {json.dumps(argument)} is malformed")]
        options = [self.strings(node) for node in argument]
        return _product(options, self._subnets)

    @staticmethod
    def _subnets(choice: tuple[str, str, str]) -> list[str] | Unknown:
        block, count, host_bits = choice
        try:
            network = ipaddress.ip_network(block, strict=True)
            prefix = network.max_prefixlen - int(host_bits)
            subnets = itertools.islice(network.subnets(new_prefix=prefix), int(count))
            return [str(subnet) for subnet in subnets]
        except ValueError as error:
            return Unknown(f"Fn::Cidr {list(choice)} is invalid: {error}")

    def _import_value(self, argument: Any) -> list[Any]:
        values: list[Any] = []
        for name in self.strings(argument):
            if isinstance(name, Unknown):
                values.append(name)
            elif name in self.exports:
                exporter, node = self.exports[name]
                values.extend(exporter.candidates(node))
            else:
                values.append(Unknown(f"Fn::ImportValue {name!r} comes from a stack outside this input"))
        return values


def resolvers_for(templates: Sequence[Template]) -> list[Resolver]:
    """One resolver per template, all sharing the templates' exports, so ``Fn::ImportValue`` crosses stacks."""
    exports: dict[str, tuple[Resolver, Any]] = {}
    resolvers = [Resolver(template.name, template.body, exports) for template in templates]
    for template, resolver in zip(templates, resolvers):
        outputs = template.body.get("Outputs")
        for output in outputs.values() if isinstance(outputs, dict) else ():
            export = output.get("Export") if isinstance(output, dict) else None
            if isinstance(export, dict) and "Value" in output:
                for name in resolver.strings(export.get("Name")):
                    if isinstance(name, str):
                        exports[name] = (resolver, output["Value"])
    return resolvers


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
