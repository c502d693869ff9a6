"""Nested stacks: ``AWS::CloudFormation::Stack`` whose template is not part of the input is unverifiable.

CDK nested stacks are read with their parent (``templates.load`` follows ``aws:asset:path``), under
the name ``Parent/LogicalId``; any other nested stack may hold anything.
"""

from __future__ import annotations

from . import Resource, reads


@reads("AWS::CloudFormation::Stack")
def nested_stack(resource: Resource) -> None:
    if f"{resource.template.name}/{resource.logical_id}" not in resource.context.templates:
        resource.unverifiable("its nested stack template is not part of the input")
