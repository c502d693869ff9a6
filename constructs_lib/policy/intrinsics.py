"""Evaluate CloudFormation intrinsic functions to the set of values they may take at deploy time.

``Resolver.candidates(node)`` returns every value ``node`` can deploy as: each ``Fn::If`` branch whose
condition can hold, every ``Default``/``AllowedValues`` of a referenced parameter, every entry of a
mapping whose key is not known. What cannot be known at synth time becomes an ``Unknown`` carrying the
reason, never a guess. References to resources become ``ResourceRef`` values, so callers can tell "the
security group ``WebSG``" from a string.

``Resolver.condition(name)`` is the set of truth values a condition of the ``Conditions`` section may
take (``{True}``, ``{False}`` or both). Inside conditions a parameter without ``AllowedValues`` may be
anything. The parameters with ``AllowedValues`` a condition uses are enumerated together (up to
``MAX_CANDIDATES`` combinations), so ``Env`` cannot be both ``dev`` and ``test`` at once; beyond that,
sub-conditions are treated as independent, which can only add possibilities. A condition is never
decided "false" unless no parameter value makes it true.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter

from .cidr import BITS, format_address, parse_cidr
from .templates import passed_parameters

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .templates import Template

#: Above this many combinations a value is reported as unknown instead of enumerated.
MAX_CANDIDATES = 64
#: At most this many conditions are enumerated together for one resource (64 assignments).
MAX_ASSUMED = 6


class Unknown:
    """A value that cannot be determined from the templates alone; ``reason`` says why."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(("Unknown", self.reason))

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


class ResourceRef(tuple[str, str, str | None]):
    """``Ref``/``Fn::GetAtt`` of a resource in one of the analysed templates: ``(template, logical_id, attribute)``."""

    __slots__ = ()

    def __new__(cls, template: str, logical_id: str, attribute: str | None = None) -> ResourceRef:
        return tuple.__new__(cls, (template, logical_id, attribute))

    template = property(itemgetter(0))
    logical_id = property(itemgetter(1))
    attribute = property(itemgetter(2))

    def __repr__(self) -> str:
        return f"ResourceRef{tuple(self)!r}"


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


#: ``Ref: AWS::NoValue``: the property is removed.
NO_VALUE = _NoValue()


def describe(value: Any) -> str:
    """A resolved value as a message shows it: template text (JSON), never the guard's own objects."""
    return json.dumps(_as_template(value), default=str)


def _as_template(value: Any) -> Any:
    if isinstance(value, ResourceRef):
        return {"Fn::GetAtt": [value.logical_id, value.attribute]} if value.attribute else {"Ref": value.logical_id}
    if isinstance(value, Unknown):
        return f"(unknown at synth time: {value.reason})"
    if value is NO_VALUE:
        return {"Ref": "AWS::NoValue"}
    if isinstance(value, dict):
        return {str(key): _as_template(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_template(item) for item in value]
    return value


def _product(options: list[list[Any]], combine: Callable[[tuple[Any, ...]], Any], *, keep_unknown: bool = False) -> list[Any]:
    """Combine one candidate from each option list, or give up as ``Unknown`` when there are too many.

    An ``Unknown`` candidate makes the result that ``Unknown`` (a string with an unknown part is unknown),
    unless ``keep_unknown``: a list keeps its known elements beside an unknown one.
    """
    for option in options if not keep_unknown else ():
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
        return Unknown(f"{describe(value)} is not a string")
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, ResourceRef):
        return Unknown(f"the physical id of resource {value.logical_id} is only known at deploy time")
    return value if isinstance(value, Unknown) else Unknown(f"{describe(value)} is not a string")


class Resolver:
    """Evaluates intrinsic functions within one template.

    ``exports`` maps export names, and ``(stack name, output name)`` pairs, to the ``(resolver, value node)``
    that produces them, across every template under analysis, so ``Fn::ImportValue`` and
    ``Fn::GetStackOutput`` follow cross-stack references. ``problems`` collects
    ``(path, message)`` for malformed conditions (CloudFormation would refuse the template).
    """

    def __init__(self, name: str, template: Mapping[str, Any], exports: Mapping[Any, tuple[Resolver, Any]]):
        self.name = name
        self.parameters: Mapping[str, Any] = _mapping(template.get("Parameters"))
        self.mappings: Mapping[str, Any] = _mapping(template.get("Mappings"))
        self.resources: Mapping[str, Any] = _mapping(template.get("Resources"))
        self.conditions: Mapping[str, Any] = _mapping(template.get("Conditions"))
        self.exports = exports
        self.problems: list[tuple[str, str]] = []
        self.passed: tuple[Resolver, Mapping[str, Any]] | None = None  # a nested stack's parameters, as its parent passes them
        self._truths: dict[str, frozenset[bool]] = {}
        self._free_parameters = False  # inside a condition, a parameter without AllowedValues may be anything
        self._bindings: dict[str, Any] = {}  # parameter values fixed while a condition is enumerated
        #: Conditions fixed while one resource is read for one assignment (``assignments``): ``Fn::If`` takes their
        #: branch, and a parameter value they rule out is not deployed with them.
        self.assumed: dict[str, bool] = {}
        self.consulted: set[str] = set()  # the conditions of this template ``Fn::If`` chose by (while a resource is read)
        #: Parameters with several ``AllowedValues`` a resource's values came from, and their values fixed for one
        #: reading: a parameter has one value in a deployment, so ``FromPort`` and ``ToPort`` from it agree.
        self.consulted_parameters: set[str] = set()
        self.fixed: dict[str, Any] = {}
        self._possible: dict[frozenset[tuple[str, bool]], bool] = {}
        self._parameters_of: dict[str, frozenset[str]] = {}
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
            "Fn::GetStackOutput": self._get_stack_output,
            "Fn::Cidr": self._cidr,
        }

    def candidates(self, node: Any) -> list[Any]:
        """Every value ``node`` may take: literals, ``ResourceRef``, ``NO_VALUE`` or ``Unknown``."""
        if type(node) is dict and len(node) == 1:
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
        """Candidates of a list-valued ``node``, each element itself resolved (an element unknown at synth time stays
        in the list as an ``Unknown``: the known elements still count)."""
        result: list[list[Any] | Unknown] = []
        for value in self.candidates(node):
            if isinstance(value, Unknown):
                result.append(value)
            elif not isinstance(value, list):
                result.append(Unknown(f"{describe(value)} is not a list"))
            else:
                elements = [[item for item in self.candidates(element) if item is not NO_VALUE] for element in value]
                result.extend(_product([option or [NO_VALUE] for option in elements], _without_no_value, keep_unknown=True))
        return result

    # --- conditions ------------------------------------------------------------------------------

    def condition(self, name: Any, path: str = "Conditions") -> frozenset[bool]:
        """The truth values condition ``name`` may take; an undefined name is a problem and may be either."""
        if not isinstance(name, str) or name not in self.conditions:
            self.problems.append((path, f"condition {json.dumps(name, default=str)} is not defined in Conditions"))
            return BOTH
        if name in self.assumed and not self._free_parameters and not self._bindings:
            return _TRUTH[self.assumed[name]]
        if self._bindings:  # inside an enumeration: decide under the bound parameters, not from the memo
            return self._truth(self.conditions[name], f"Conditions.{name}")
        if name not in self._truths:
            self._truths[name] = BOTH  # a cycle through this name decides nothing
            free, self._free_parameters = self._free_parameters, True
            try:
                self._truths[name] = self._enumerated(name)
            finally:
                self._free_parameters = free
        return self._truths[name]

    def _enumerated(self, name: str) -> frozenset[bool]:
        """Decide ``name`` for every combination of the values its parameters with ``AllowedValues`` may take."""
        domains = {
            parameter: self._parameter(parameter, _mapping(self.parameters[parameter]))
            for parameter in sorted(self._condition_parameters(name, set()))
            if isinstance(_mapping(self.parameters[parameter]).get("AllowedValues"), list)
        }
        combinations = 1
        for values in domains.values():
            combinations *= len(values)
        if not domains or combinations > MAX_CANDIDATES:
            return self._truth(self.conditions[name], f"Conditions.{name}")
        outcomes: set[bool] = set()
        for assignment in itertools.product(*domains.values()):
            self._bindings = dict(zip(domains, assignment))
            try:
                outcomes |= self._truth(self.conditions[name], f"Conditions.{name}")
            finally:
                self._bindings = {}
        return frozenset(outcomes)

    # --- assignments of conditions ----------------------------------------------------------------

    def assignments(self, names: set[str], required: Any = None) -> list[dict[str, bool]]:
        """Every assignment of truth values to ``names`` that can hold together (``required`` true), to read a
        resource once per assignment; ``[{}]`` (every branch at once) beyond ``MAX_ASSUMED`` conditions."""
        ordered = sorted(names)
        if len(ordered) > MAX_ASSUMED:
            return [{}]
        result = []
        for values in itertools.product((True, False), repeat=len(ordered)):
            assignment = dict(zip(ordered, values))
            if assignment.get(required) is not False and self.possible(assignment):
                result.append(assignment)
        return result or [{}]

    def readings(self, names: set[str], parameters: set[str], required: Any = None) -> list[tuple[dict[str, bool], dict[str, Any]]]:
        """The ``(assignment of conditions, values of parameters)`` to read a resource under, one per deployment
        that can differ (a parameter's values are those the assignment leaves); ``[]`` when there is nothing to
        pair or more than ``MAX_CANDIDATES`` readings (then every value at once counts)."""
        if len(names) > MAX_ASSUMED:
            names = set()
        if not names and not parameters:
            return []
        ordered = sorted(parameters)
        result: list[tuple[dict[str, bool], dict[str, Any]]] = []
        for assignment in self.assignments(names, required) if names else [{}]:
            self.assumed = assignment
            try:
                domains = [self._parameter_values(name, _mapping(self.parameters[name])) for name in ordered]
            finally:
                self.assumed = {}
            count = 1
            for values in domains:
                count *= len(values)
            if len(result) + count > MAX_CANDIDATES:
                return []
            result.extend((assignment, dict(zip(ordered, values))) for values in itertools.product(*domains))
        return result

    def possible(self, assignment: Mapping[str, bool]) -> bool:
        """Whether the conditions may take these truth values together: for some combination of the values of
        the parameters with ``AllowedValues`` they use (others may be anything, so they decide nothing)."""
        key = frozenset(assignment.items())
        if key not in self._possible:
            self._possible[key] = self._jointly(assignment)
        return self._possible[key]

    def _jointly(self, assignment: Mapping[str, bool]) -> bool:
        if any(value not in self.condition(name) for name, value in assignment.items()):
            return False
        parameters = sorted(set().union(*(self._parameters_of_condition(name) for name in assignment)))
        free, self._free_parameters = self._free_parameters, True
        try:
            names = [name for name in parameters if isinstance(_mapping(self.parameters[name]).get("AllowedValues"), list)]
            domains = [self._parameter(name, _mapping(self.parameters[name])) for name in names]
            combinations = 1
            values: Sequence[Any]
            for values in domains:
                combinations *= len(values)
            if not domains or combinations > MAX_CANDIDATES:
                return True
            for values in itertools.product(*domains):
                if self._hold(assignment, dict(zip(names, values))):
                    return True
            return False
        finally:
            self._free_parameters = free

    def _hold(self, assignment: Mapping[str, bool], bindings: dict[str, Any]) -> bool:
        """Whether every condition of ``assignment`` may have its value with the parameters ``bindings`` fix."""
        self._bindings = bindings
        try:
            return all(value in self._truth(self.conditions[name], f"Conditions.{name}") for name, value in assignment.items())
        finally:
            self._bindings = {}

    def _parameters_of_condition(self, name: str) -> frozenset[str]:
        if name not in self._parameters_of:
            self._parameters_of[name] = frozenset(self._condition_parameters(name, set()))
        return self._parameters_of[name]

    def _allowed_here(self, name: str, spec: Mapping[str, Any], values: list[Any]) -> list[Any]:
        """The values of parameter ``name`` the assumed conditions leave. A ``Default`` they rule out is not what
        deploys with them: without ``AllowedValues`` the value is then whatever is passed at deploy time."""
        deciding = {condition: value for condition, value in self.assumed.items() if name in self._parameters_of_condition(condition)}
        if not deciding:
            return values
        free, self._free_parameters = self._free_parameters, True
        try:
            kept = [value for value in values if self._hold(deciding, {name: value})]
        finally:
            self._free_parameters = free
        if len(kept) < len(values) and not isinstance(spec.get("AllowedValues"), list):
            condition, truth = next(iter(deciding.items()))
            kept.append(Unknown(f"parameter {name} is passed at deploy time: its Default {describe(spec.get('Default'))} "
                                f"is ruled out where condition {condition} is {str(truth).lower()}"))
        return kept or [Unknown(f"no value of parameter {name} fits the conditions it is used under")]

    def _condition_parameters(self, name: str, seen: set[str]) -> set[str]:
        """The parameters condition ``name`` refers to, through the conditions it refers to."""
        if name in seen or name not in self.conditions:
            return set()
        seen.add(name)
        found: set[str] = set()
        stack = [self.conditions[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "Ref" and isinstance(value, str) and value in self.parameters:
                        found.add(value)
                    elif key == "Condition" and isinstance(value, str):
                        found |= self._condition_parameters(value, seen)
                    else:
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)
        return found

    def _truth(self, node: Any, path: str) -> frozenset[bool]:
        if not (type(node) is dict and len(node) == 1):
            self.problems.append((path, f"{json.dumps(node, default=str)} is not a condition function"))
            return BOTH
        (key, argument), = node.items()
        if key == "Condition":
            return self.condition(argument, path)
        if key == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
            return frozenset(not value for value in self._truth(argument[0], f"{path}.Fn::Not"))
        if key in ("Fn::And", "Fn::Or") and isinstance(argument, list) and 2 <= len(argument) <= 10:
            parts = [self._truth(item, f"{path}.{key}[{index}]") for index, item in enumerate(argument)]
            decisive = key == "Fn::Or"  # Or: one True decides; And: one False decides
            result = set()
            if any(decisive in part for part in parts):
                result.add(decisive)
            if all((not decisive) in part for part in parts):
                result.add(not decisive)
            return frozenset(result)
        if key == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
            return self._equals(argument[0], argument[1])
        self.problems.append((path, f"{key} {json.dumps(argument, default=str)} is not a valid condition function"))
        return BOTH

    def _equals(self, left: Any, right: Any) -> frozenset[bool]:
        lefts, rights = self.candidates(left), self.candidates(right)
        if len(lefts) * len(rights) > MAX_CANDIDATES:
            return BOTH
        result = set()
        for a, b in itertools.product(lefts, rights):
            a, b = _comparable(a), _comparable(b)
            if a is None or b is None:
                return BOTH
            result.add(a == b)
        return frozenset(result)

    # --- functions -------------------------------------------------------------------------------

    def _ref(self, name: Any) -> list[Any]:
        if not isinstance(name, str):
            return [Unknown(f"Ref to {json.dumps(name, default=str)} is malformed")]
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
        if name in self._bindings:
            return [self._bindings[name]]
        if self.passed is not None and name in self.passed[1]:
            return self.passed[0].candidates(self.passed[1][name])  # what the parent stack passes
        kind = str(spec.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter::Value"):
            return [Unknown(f"parameter {name} is read from SSM Parameter Store at deploy time")]
        if name in self.fixed:
            values = [self.fixed[name]]
        else:
            values = self._parameter_values(name, spec)
            if len(values) > 1 and not self._free_parameters and isinstance(spec.get("AllowedValues"), list):
                self.consulted_parameters.add(name)
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            return [value.split(",") if isinstance(value, str) else value for value in values]
        return values

    def _parameter_values(self, name: str, spec: Mapping[str, Any]) -> list[Any]:
        """``Default`` and ``AllowedValues`` of a parameter (those the assumed conditions leave), or why unknown."""
        allowed = spec.get("AllowedValues")
        if self._free_parameters and not isinstance(allowed, list):
            return [Unknown(f"parameter {name} has no AllowedValues: any value may be passed at deploy time")]
        values = []
        if "Default" in spec:
            values.append(spec["Default"])
        values.extend(value for value in (allowed if isinstance(allowed, list) else []) if value not in values)
        if not values:
            return [Unknown(f"parameter {name} has no Default and no AllowedValues")]
        if self.assumed and not self._free_parameters:
            values = self._allowed_here(name, spec, values)
        return values

    def _get_att(self, argument: Any) -> list[Any]:
        if isinstance(argument, str) and "." in argument:
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            return [Unknown(f"Fn::GetAtt {json.dumps(argument, default=str)} is malformed")]
        logical_id, attribute = argument
        resource = _mapping(self.resources.get(logical_id))
        if not resource:
            return [Unknown(f"Fn::GetAtt of {logical_id!r}, which is not a resource of this template")]
        if resource.get("Type") == "AWS::EC2::VPC" and attribute == "CidrBlock":
            return self.candidates(_mapping(resource.get("Properties")).get("CidrBlock", Unknown("VPC CIDR from IPAM")))
        return [ResourceRef(self.name, logical_id, attribute if isinstance(attribute, str) else None)]

    def _if(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) == 3):
            return [Unknown(f"Fn::If {json.dumps(argument, default=str)} is malformed")]
        truths = self.condition(argument[0], "Fn::If")
        if type(argument[0]) is str and argument[0] in self.conditions:
            self.consulted.add(argument[0])
        values = self.candidates(argument[1]) if True in truths else []
        return values + self.candidates(argument[2]) if False in truths else values

    def _join(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            return [Unknown(f"Fn::Join {json.dumps(argument, default=str)} is malformed")]
        delimiter = argument[0]
        joined: list[Any] = []
        for parts in self.lists(argument[1]):
            if isinstance(parts, Unknown):
                joined.append(parts)
                continue
            strings = [_as_string(part) for part in parts]
            unknown = next((part for part in strings if isinstance(part, Unknown)), None)
            joined.append(unknown if unknown is not None else delimiter.join(strings))  # type: ignore[arg-type]  # no Unknown in strings here
        return joined

    def _select(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) == 2):
            return [Unknown(f"Fn::Select {json.dumps(argument, default=str)} is malformed")]
        selected: list[Any] = []
        for index, items in itertools.product(self.strings(argument[0]), self.lists(argument[1])):
            if isinstance(index, Unknown) or isinstance(items, Unknown):
                selected.append(index if isinstance(index, Unknown) else items)
            elif not (index.isascii() and index.isdigit()) or int(index) >= len(items):
                selected.append(Unknown(f"Fn::Select index {index} is outside the list"))
            else:
                selected.append(items[int(index)])
        return selected

    def _split(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str) and argument[0]):
            return [Unknown(f"Fn::Split {json.dumps(argument, default=str)} is malformed")]
        return [
            value if isinstance(value, Unknown) else value.split(argument[0]) for value in self.strings(argument[1])
        ]

    def _find_in_map(self, argument: Any) -> list[Any]:
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            return [Unknown(f"Fn::FindInMap {json.dumps(argument, default=str)} is malformed")]
        default = _mapping(argument[3]).get("DefaultValue") if len(argument) == 4 else None
        levels: list[Any] = [self.mappings]
        for key_node in argument[:3]:
            next_levels: list[Any] = []
            for level in levels:
                if isinstance(level, Unknown) or level is None:
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
        variables: Mapping[str, Any]
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], _mapping(argument[1])
        else:
            return [Unknown(f"Fn::Sub {json.dumps(argument, default=str)} is malformed")]
        pieces: list[list[Any]] = []
        position = 0
        while True:
            start = text.find("${", position)
            end = text.find("}", start + 2) if start >= 0 else -1
            if end < 0:
                break
            pieces.append([text[position:start]])
            name = text[start + 2 : end]
            if name.startswith("!"):
                pieces.append(["${" + name[1:] + "}"])
            elif name in variables:
                pieces.append(self.strings(variables[name]))
            elif "." in name and name.split(".", 1)[0] in self.resources:
                pieces.append([_as_string(value) for value in self._get_att(name)])
            else:
                pieces.append(self.strings({"Ref": name}))
            position = end + 1
        pieces.append([text[position:]])
        return _product(pieces, "".join)

    def _cidr(self, argument: Any) -> list[Any]:
        """``Fn::Cidr [block, count, host bits]``: the first ``count`` subnets with ``host bits`` host bits."""
        if not (isinstance(argument, list) and len(argument) == 3):
            return [Unknown(f"Fn::Cidr {json.dumps(argument, default=str)} is malformed")]
        options = [self.strings(node) for node in argument]
        return _product(options, _subnets)

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

    def _get_stack_output(self, argument: Any) -> list[Any]:
        """``Fn::GetStackOutput {StackName, OutputName, Region}``: an output of another analysed stack (CDK's
        "weak" cross-stack references)."""
        if not isinstance(argument, dict) or "StackName" not in argument or "OutputName" not in argument:
            return [Unknown(f"Fn::GetStackOutput {json.dumps(argument, default=str)} is malformed")]
        values: list[Any] = []
        for stack, output in itertools.product(self.strings(argument["StackName"]), self.strings(argument["OutputName"])):
            if isinstance(stack, Unknown) or isinstance(output, Unknown):
                values.append(stack if isinstance(stack, Unknown) else output)
            elif (stack, output) in self.exports:
                exporter, node = self.exports[(stack, output)]
                values.extend(exporter.candidates(node))
            else:
                values.append(Unknown(f"Fn::GetStackOutput of output {output!r} of stack {stack!r}, which is not part of this input"))
        return values


#: Both truth values: a condition that cannot be decided.
BOTH = frozenset((True, False))
_TRUTH = {True: frozenset((True,)), False: frozenset((False,))}


def _comparable(value: Any) -> str | tuple[Any, ...] | None:
    """A value as ``Fn::Equals`` compares it (strings; lists element-wise), ``None`` if unknown."""
    if isinstance(value, list):
        items = [_comparable(item) for item in value]
        return None if any(item is None for item in items) else tuple(items)
    text = _as_string(value)
    return None if isinstance(text, Unknown) else text


def _without_no_value(choice: tuple[Any, ...]) -> list[Any]:
    return [item for item in choice if item is not NO_VALUE]


def _subnets(choice: tuple[str, str, str]) -> list[str] | Unknown:
    block, count, host_bits = choice
    try:
        network = parse_cidr(block, exact=True)
    except ValueError as error:
        return Unknown(f"Fn::Cidr {describe(list(choice))} is invalid: {error}")
    if not (count.isascii() and count.isdigit() and host_bits.isascii() and host_bits.isdigit()):
        return Unknown(f"Fn::Cidr {describe(list(choice))} is invalid: count and host bits must be whole numbers")
    bits = BITS[network.version]
    prefix = bits - int(host_bits)
    if not network.prefixlen <= prefix <= bits or not 1 <= int(count) <= 256:
        return Unknown(f"Fn::Cidr {describe(list(choice))} is invalid: cannot cut /{prefix} subnets from {block}")
    step = 1 << (bits - prefix)
    available = network.num_addresses // step
    return [f"{format_address(network.version, network.first + index * step)}/{prefix}" for index in range(min(int(count), available))]


def resolvers_for(templates: Sequence[Template]) -> list[Resolver]:
    """One resolver per template, all sharing the templates' exports and outputs, so ``Fn::ImportValue`` and
    ``Fn::GetStackOutput`` cross stacks, and nested stacks see the parameters their parent passes."""
    exports: dict[Any, tuple[Resolver, Any]] = {}
    resolvers = [Resolver(template.name, template.body, exports) for template in templates]
    by_name = dict(zip((template.name for template in templates), resolvers))
    for template, resolver in zip(templates, resolvers):
        parent = by_name.get(template.parent[0]) if template.parent else None
        if parent is not None:
            resolver.passed = (parent, passed_parameters(parent.resources.get(template.parent[1])))  # type: ignore[index]  # parent is found only when template.parent is set
    for template, resolver in zip(templates, resolvers):
        outputs = template.body.get("Outputs")
        for output_name, output in outputs.items() if isinstance(outputs, dict) else ():
            if not isinstance(output, dict) or "Value" not in output:
                continue
            exports[(template.stack_name or template.name, output_name)] = (resolver, output["Value"])
            export = output.get("Export")
            if isinstance(export, dict):
                for name in resolver.strings(export.get("Name")):
                    if isinstance(name, str):
                        exports[name] = (resolver, output["Value"])
    return resolvers


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
