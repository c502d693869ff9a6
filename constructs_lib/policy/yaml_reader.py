"""YAML templates, read the way CloudFormation reads them (imported only for YAML input: PyYAML is slow to load).

CloudFormation's short forms (``!Ref``, ``!GetAtt`` ...) become their long forms. What CloudFormation
refuses is read as far as possible and kept as a problem with its line: a duplicate key, a tag that is
not a short form, an alias (``*name``) or a merge key (``<<``), which CloudFormation's YAML parser does
not accept. Plain scalars that look like dates stay strings, as CloudFormation reads them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

import yaml

from .templates import SHORT_FORMS, TemplateError, TooDeep

#: The pure-Python loader: libyaml's C parser crashes the process (SIGSEGV) on deeply nested input,
#: where this one raises ``RecursionError``. Templates are at most 1 MB, so its speed is enough.
_Base = yaml.SafeLoader


class _CloudFormationLoader(_Base):
    """A safe loader that records what CloudFormation would refuse instead of silently resolving it."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[tuple[tuple[int, int], str]] = []  # (line, column) of the node, message
        self.reported_aliases: set[yaml.Node] = set()

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(((node.start_mark.line, node.start_mark.column), message))

    # YAML separates tokens on a line with spaces or tabs (https://yaml.org/spec/1.1/#s-white); PyYAML refuses a
    # tab there ("Encrypted: True<TAB># note"), CloudFormation does not. A tab in indentation stays an error.
    def scan_plain_spaces(self, indent: int, start_mark: Any) -> Any:
        length = 0
        while self.peek(length) in " \t":
            length += 1
        if "\t" not in self.prefix(length):
            return super().scan_plain_spaces(indent, start_mark)
        whitespace = self.prefix(length)
        self.forward(length)
        if self.peek() in "\0\r\n\x85\u2028\u2029":  # white space before a line break: folded as usual
            return super().scan_plain_spaces(indent, start_mark)
        return [whitespace]  # before a comment (which ends the scalar) or inside the scalar

    def scan_to_next_token(self) -> None:
        super().scan_to_next_token()
        while self.peek() == "\t" and self.buffer[self.pointer - self.column:self.pointer].strip(" "):
            while self.peek() in " \t":
                self.forward()
            super().scan_to_next_token()

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A node constructed a second time is reached through an alias (*name).
        if node in self.constructed_objects and node not in self.reported_aliases:
            self.reported_aliases.add(node)
            self.problem(node, "a YAML alias (*name) repeats this node; CloudFormation does not accept aliases")
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)  # type: ignore[attr-defined]  # the stubs give only Node subclasses an id
        if any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value):
            self.problem(node, "a YAML merge key (<<) is used; CloudFormation does not accept merge keys")
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Deep: a mapping or sequence built lazily is still empty here, and the message would show it so.
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in mapping
            except TypeError:
                self.problem(key_node, f"the mapping key {key!r} is not a string")
                continue
            if duplicate:
                self.problem(key_node, f"duplicate key {key!r}: CloudFormation refuses it, and readers disagree on which value counts")
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


def _construct_tag(loader: _CloudFormationLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix not in SHORT_FORMS:
        loader.problem(node, f"!{tag_suffix} is not a CloudFormation short form (!Ref, !GetAtt, !Sub ...)")
        return {f"Fn::!{tag_suffix}": value}  # unknown function: the core treats its value as unknown
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


def _refuse_tag(loader: _CloudFormationLoader, tag: str, node: yaml.Node) -> Any:
    loader.problem(node, f"the YAML tag {tag} is not one CloudFormation reads")
    if isinstance(node, yaml.ScalarNode):
        return {"Fn::!tag": loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {"Fn::!tag": loader.construct_sequence(node, deep=True)}
    return {"Fn::!tag": loader.construct_mapping(node, deep=True)}


_CloudFormationLoader.add_multi_constructor("!", _construct_tag)
for _tag in ("binary", "set", "omap", "pairs"):
    _CloudFormationLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", lambda loader, node: _refuse_tag(loader, node.tag, node))  # type: ignore[arg-type]  # stubs: see below
#: The stubs type a constructor's loader as a type variable bound to PyYAML's own loaders, not the class it is added to.
_CloudFormationLoader.add_constructor("tag:yaml.org,2002:timestamp", _Base.construct_yaml_str)  # type: ignore[type-var]
_CloudFormationLoader.add_constructor(None, lambda loader, node: _refuse_tag(loader, node.tag, node))  # type: ignore[arg-type]


def parse(text: str, source: str) -> tuple[Any, list[tuple[str, str]]]:
    """The YAML document in ``text`` and the problems found while reading it."""
    loader = _CloudFormationLoader(text)
    try:
        body = loader.get_single_data()
    except yaml.YAMLError as error:
        raise TemplateError(f"{source} is neither valid JSON nor valid YAML: {error}") from None
    except RecursionError:
        raise TooDeep(f"{source} is nested too deeply to be a CloudFormation template") from None
    finally:
        loader.dispose()
    # PyYAML builds nested values lazily, so problems arrive out of order: report them in document order.
    ordered = sorted(loader.problems, key=lambda problem: problem[0])
    return body, [(f"line {line + 1}", message) for (line, _column), message in ordered]
