"""Loading a CloudFormation/SAM template: YAML with the short intrinsic tags, as long-form dicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# Short tag -> long form key. `!GetAtt A.B` is special-cased to the list form.
_SHORT_TAGS = (
    "Ref",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Equals",
    "Select",
    "Split",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Condition",
    "Cidr",
    "Length",
    "ToJsonString",
)


class TemplateLoader(yaml.SafeLoader):
    """A SafeLoader that turns `!Ref X` into `{"Ref": "X"}`, `!Sub s` into `{"Fn::Sub": s}`, ..."""


def _long_key(tag: str) -> str:
    return tag if tag in ("Ref", "Condition") else f"Fn::{tag}"


def _construct(tag: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                resource, _, attribute = value.partition(".")
                value = [resource, attribute]
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - yaml has only these three node kinds
            raise yaml.constructor.ConstructorError(
                None, None, f"unexpected node for !{tag}", node.start_mark
            )
        return {_long_key(tag): value}

    return construct


for _tag in _SHORT_TAGS:
    TemplateLoader.add_constructor(f"!{_tag}", _construct(_tag))


def parse_template(text: str) -> dict[str, Any]:
    data = yaml.load(text, Loader=TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise ValueError("not a CloudFormation template: no Resources mapping")
    return data


def load_template(path: Path) -> dict[str, Any]:
    """The template as plain data (YAML or JSON); intrinsics in their long form."""
    return parse_template(path.read_text(encoding="utf-8"))
