"""Templates a resource deploys as stacks of their own: nested stacks, StackSets, Service Catalog product versions;
and registry modules, whose resources CloudFormation takes from the registry.

``templates.load`` reads each such template the input holds with its parent (a CDK nested stack's or a
``ProductStack``'s file asset, a StackSet's ``TemplateBody``), under the name ``Parent/LogicalId``
(``templates.deployed_templates``); one the input does not hold may hold anything.
"""

from __future__ import annotations

from ..templates import deployed_templates
from . import Resource, reads

_WHAT = {
    "AWS::CloudFormation::Stack": "nested stack template",
    "AWS::CloudFormation::StackSet": "stack set template",
    "AWS::ServiceCatalog::CloudFormationProduct": "product version template",
}


@reads(*_WHAT)
def deployed_template(resource: Resource) -> None:
    for suffix, place, value in deployed_templates(resource.logical_id, resource.body):
        if f"{resource.template.name}/{suffix}" in resource.context.templates:
            continue
        if resource.type == "AWS::CloudFormation::Stack":
            resource.unverifiable("its nested stack template is not part of the input")
        elif place.endswith("ImportFromPhysicalId"):
            resource.unverifiable(f"its {place} takes the {_WHAT[resource.type]} from an existing stack, outside the input")
        else:
            resource.unverifiable(f"its {_WHAT[resource.type]} ({place}) is not part of the input")
    if resource.type == "AWS::CloudFormation::StackSet":
        _parameter_overrides(resource)


def _parameter_overrides(resource: Resource) -> None:
    """Stack instances may pass their own parameter values, which the template is not read with."""
    groups = resource.properties.get("StackInstancesGroup")
    for index, group in enumerate(groups if isinstance(groups, list) else []):
        overrides = group.get("ParameterOverrides") if isinstance(group, dict) else None
        if overrides:
            resource.unverifiable(f"StackInstancesGroup[{index}].ParameterOverrides give its stack instances parameter values "
                                  "the template is not read with")


@reads("*::MODULE")
def registry_module(resource: Resource) -> None:
    """A module (``Org::Service::Thing::MODULE``) expands into the resources of a template fragment registered in the
    CloudFormation registry (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/modules.html)."""
    resource.unverifiable(f"it is the registry module {resource.type}, whose resources are in the CloudFormation registry, "
                          "not in the template")
