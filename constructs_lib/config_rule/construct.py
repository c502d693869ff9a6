"""``AdminPortGuardConfigRule``: the guard as an AWS Config custom rule, for every change to a security group.

One Lambda function (``handler``, bundled by ``asset``) backs an ``AWS::Config::ConfigRule`` in the stack's
account and region, or, with ``organization=``, an ``AWS::Config::OrganizationConfigRule`` that AWS Config
creates in every account of the organization (the documented way to run one custom Lambda rule across
accounts: ``PutOrganizationConfigRule`` with ``OrganizationCustomRuleMetadata``; the function stays in the
management or delegated-administrator account and assumes a role in each member account, which
``AdminPortGuardMemberRole`` creates).

Least privilege: the function may read security groups, network interfaces and prefix lists, read a
configuration item's history (oversized items), read the rule's results and put evaluations, and write its
own log group; AWS Config may invoke it only from the named accounts (``SourceAccount``). The L2 ``aws_config.CustomRule`` is
not used because it attaches the broad managed policy ``AWSConfigRulesExecutionRole`` to the function.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_config as config
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..plugin import guard_policy
from ..policy import Thresholds
from .asset import HANDLER, build_asset
from .handler import CHANGE, MEMBER_ROLE_ENV, OVERSIZED, SCHEDULED, SECURITY_GROUP
from .remediate import OPT_OUT_TAG, OPT_OUT_VALUE

#: Pinned: the newest Python runtime this aws-cdk-lib knows (cdk-nag's AwsSolutions-L1 asks for it).
RUNTIME = lambda_.Runtime.PYTHON_3_14
DEFAULT_MEMBER_ROLE_NAME = "AdminPortGuardConfigRuleMember"
DEFAULT_ORGANIZATION_RULE_NAME = "admin-port-guard"
#: ``InputParameters`` limits of ``PutConfigRule`` and ``PutOrganizationConfigRule``.
INPUT_LIMIT, ORGANIZATION_INPUT_LIMIT = 1024, 2048
_FREQUENCIES = {
    "ONE_HOUR": "One_Hour", "THREE_HOURS": "Three_Hours", "SIX_HOURS": "Six_Hours",
    "TWELVE_HOURS": "Twelve_Hours", "TWENTY_FOUR_HOURS": "TwentyFour_Hours",
}
#: What the function does in the account it evaluates.
_EVALUATION_ACTIONS = (
    "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces", "ec2:DescribeManagedPrefixLists",
    "ec2:GetManagedPrefixListEntries", "config:GetResourceConfigHistory", "config:PutEvaluations",
    "config:GetComplianceDetailsByConfigRule",
)
_WILDCARD_REASON = (
    "ec2:Describe* and config:PutEvaluations/GetResourceConfigHistory support no resource-level permissions; prefix "
    "lists may be shared from any account; the rule's own ARN cannot be named (the rule depends on this policy, and "
    "AWS Config names an organization rule in each member account)"
)


class OrganizationOptions(NamedTuple):
    """Deploy the rule to the organization's accounts (from the management or a delegated administrator account).

    ``member_accounts``: the accounts whose AWS Config may invoke the function (one ``SourceAccount``
    permission each); each needs ``AdminPortGuardMemberRole`` named ``member_role_name``. ``excluded_accounts``:
    accounts AWS Config creates no rule in.
    """

    member_accounts: Sequence[str]
    member_role_name: str = DEFAULT_MEMBER_ROLE_NAME
    excluded_accounts: Sequence[str] = ()


class Remediation:
    """What the rule does about a NON_COMPLIANT group (``AdminPortGuardConfigRule(remediation=...)``).

    * ``Remediation.notify()``: the function logs the change it would make (``"action": "planned"``) for each
      NON_COMPLIANT group it evaluates, and changes nothing; the function gets no write permission.
    * ``Remediation.manual()``: also an ``AWS::Config::RemediationConfiguration`` (not automatic) that runs the
      project's SSM Automation document, which invokes the same function to apply the change: an operator
      starts it from the Config console or with ``aws configservice start-remediation-execution``.
    * ``Remediation.automatic(retries=5, retry_seconds=60)``: the same, run by AWS Config for every
      NON_COMPLIANT result; ``retries`` (1-25) attempts per resource within ``retry_seconds`` (1-2678000).
    """

    __slots__ = ("mode", "retries", "retry_seconds")

    def __init__(self, mode: str, retries: int | None = None, retry_seconds: int | None = None) -> None:
        self.mode, self.retries, self.retry_seconds = mode, retries, retry_seconds

    @classmethod
    def notify(cls) -> Remediation:
        return cls("notify")

    @classmethod
    def manual(cls) -> Remediation:
        return cls("manual")

    @classmethod
    def automatic(cls, retries: int = 5, retry_seconds: int = 60) -> Remediation:
        return cls("automatic", retries, retry_seconds)

    def problems(self) -> list[str]:
        """What is wrong with these settings (AWS Config's limits for MaximumAutomaticAttempts and RetryAttemptSeconds)."""
        found = []
        if self.mode == "automatic":
            if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 1 <= self.retries <= 25:
                found.append(f"remediation retries {self.retries!r} must be a whole number from 1 to 25")
            if isinstance(self.retry_seconds, bool) or not isinstance(self.retry_seconds, int) or not 1 <= self.retry_seconds <= 2678000:
                found.append(f"remediation retry_seconds {self.retry_seconds!r} must be a whole number from 1 to 2678000")
        return found


def _grant_evaluation(role: iam.Role) -> None:
    """The actions an evaluation needs (in the account being evaluated), acknowledged for cdk-nag with why."""
    role.add_to_policy(iam.PolicyStatement(actions=list(_EVALUATION_ACTIONS), resources=["*"]))
    Validations.of(role).acknowledge(Acknowledgment(id="AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason=_WILDCARD_REASON))


class AdminPortGuardConfigRule(Construct):
    """An AWS Config custom rule that runs the admin-port guard on every security-group change and periodically.

    :param admin_ports: TCP ports and port profiles treated as admin ports. Default: the ``admin-port-guard`` context, else
        22, 23, 3389, 5900, 5985, 5986.
    :param broad_sources: ``False`` turns ``BroadAdminSource`` off, a ``Thresholds`` sets its limits, ``True``
        the default limits. Default: the context's.
    :param trusted_prefix_lists: ``{"pl-...": "reason"}``, added to the context's declarations.
    :param maximum_execution_frequency: how often every group (and every network interface with several
        groups) is re-evaluated. Default: every 24 hours.
    :param config_rule_name: the rule's name. Default: generated; ``admin-port-guard`` for an organization rule.
    :param notification_topic: SNS topic that gets an EventBridge event whenever a group turns NON_COMPLIANT.
    :param notification_targets: more EventBridge targets for those events.
    :param organization: deploy to the organization's accounts instead of this one (``OrganizationOptions``).
    :param remediation: ``Remediation.notify()``, ``.manual()`` or ``.automatic(...)``. Default: none (the rule
        only evaluates). Not with ``organization`` (AWS Config has no remediation for organization rules).
    :raises ValueError: listing every problem of the props. ``PolicyError`` for a malformed policy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        admin_ports: Iterable[int | str] | Mapping[int, str] | str | None = None,
        broad_sources: bool | Thresholds | None = None,
        trusted_prefix_lists: Mapping[str, str] | None = None,
        maximum_execution_frequency: config.MaximumExecutionFrequency = config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS,
        config_rule_name: str | None = None,
        notification_topic: sns.ITopic | None = None,
        notification_targets: Sequence[events.IRuleTarget] = (),
        organization: OrganizationOptions | None = None,
        remediation: Remediation | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.policy = guard_policy(scope, admin_ports=admin_ports, broad_sources=broad_sources, trusted_prefix_lists=trusted_prefix_lists)
        parameters = {"policy": json.dumps(self.policy.to_mapping(), sort_keys=True, separators=(",", ":"))}
        if isinstance(remediation, Remediation):
            parameters["remediation"] = remediation.mode
        _check_props(construct_id, parameters, notification_topic, notification_targets, organization, remediation)
        frequency = _FREQUENCIES[maximum_execution_frequency.name]
        stack = Stack.of(self)

        self.function_role = iam.Role(
            self, "FunctionRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="AdminPortGuard AWS Config rule: reads security groups, puts evaluations",
        )
        _grant_evaluation(self.function_role)
        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_YEAR)
        self.function = lambda_.Function(
            self, "Function",
            runtime=RUNTIME,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(build_asset())),
            role=self.function_role,
            timeout=Duration.minutes(5),
            memory_size=256,
            log_group=log_group,
            description="AdminPortGuard: evaluates security groups for AWS Config with the guard's policy core",
            environment={MEMBER_ROLE_ENV: organization.member_role_name} if organization else None,
        )
        log_group.grant_write(self.function_role)

        accounts = [stack.account, *(organization.member_accounts if organization else ())]
        invocations = [
            lambda_.CfnPermission(
                self, "ConfigInvoke" if index == 0 else f"ConfigInvoke{account}",
                action="lambda:InvokeFunction", function_name=self.function.function_arn,
                principal="config.amazonaws.com", source_account=account,
            )
            for index, account in enumerate(accounts)
        ]
        if organization is None:
            self.config_rule: config.CfnConfigRule | config.CfnOrganizationConfigRule = config.CfnConfigRule(
                self, "Rule",
                config_rule_name=config_rule_name,
                description="AdminPortGuard: no admin port (SSH, RDP, ...) of a security group is open to the internet",
                input_parameters=parameters,
                scope=config.CfnConfigRule.ScopeProperty(compliance_resource_types=[SECURITY_GROUP]),
                source=config.CfnConfigRule.SourceProperty(
                    owner="CUSTOM_LAMBDA",
                    source_identifier=self.function.function_arn,
                    source_details=[
                        config.CfnConfigRule.SourceDetailProperty(
                            event_source="aws.config", message_type=message_type,
                            maximum_execution_frequency=frequency if message_type == SCHEDULED else None,
                        )
                        for message_type in (CHANGE, OVERSIZED, SCHEDULED)
                    ],
                ),
            )
        else:
            self.function_role.add_to_policy(iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[f"arn:{stack.partition}:iam::{account}:role/{organization.member_role_name}" for account in organization.member_accounts],
            ))
            self.config_rule = config.CfnOrganizationConfigRule(
                self, "Rule",
                organization_config_rule_name=config_rule_name or DEFAULT_ORGANIZATION_RULE_NAME,
                excluded_accounts=list(organization.excluded_accounts) or None,
                organization_custom_rule_metadata=config.CfnOrganizationConfigRule.OrganizationCustomRuleMetadataProperty(
                    lambda_function_arn=self.function.function_arn,
                    organization_config_rule_trigger_types=[CHANGE, OVERSIZED, SCHEDULED],
                    resource_types_scope=[SECURITY_GROUP],
                    maximum_execution_frequency=frequency,
                    input_parameters=json.dumps(parameters),
                    description="AdminPortGuard: no admin port (SSH, RDP, ...) of a security group is open to the internet",
                ),
            )
        for invocation in invocations:  # Config checks at creation that it may invoke the function
            self.config_rule.node.add_dependency(invocation)
        #: The rule's name (a token); for an organization rule, the name given to PutOrganizationConfigRule.
        self.rule_name: str = self.config_rule.ref

        self.non_compliant_events: events.Rule | None = None
        if notification_topic is not None or notification_targets:
            self.non_compliant_events = events.Rule(
                self, "NonCompliant",
                description="AdminPortGuard AWS Config rule: a security group turned NON_COMPLIANT",
                event_pattern=events.EventPattern(
                    source=["aws.config"],
                    detail_type=["Config Rules Compliance Change"],
                    detail={"configRuleName": [self.rule_name], "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}},
                ),
                targets=[*([targets.SnsTopic(notification_topic)] if notification_topic is not None else []), *notification_targets],
            )

        self.remediation_document: ssm.CfnDocument | None = None
        self.remediation_configuration: config.CfnRemediationConfiguration | None = None
        self.automation_role: iam.Role | None = None
        if remediation is not None and remediation.mode != "notify":
            self._add_remediation(remediation)

    def _add_remediation(self, remediation: Remediation) -> None:
        """The function may change ingress rules of security groups that are not opted out; an SSM Automation
        document invokes it; a Config remediation runs the document (manually or automatically)."""
        stack = Stack.of(self)
        self.function_role.add_to_policy(iam.PolicyStatement(
            actions=["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            resources=[f"arn:{stack.partition}:ec2:{stack.region}:{stack.account}:security-group/*"],
            conditions={"StringNotEquals": {f"aws:ResourceTag/{OPT_OUT_TAG}": OPT_OUT_VALUE}},
        ))
        self.function_role.add_to_policy(iam.PolicyStatement(actions=["config:DescribeConfigRules"], resources=["*"]))
        Validations.of(self.function_role).acknowledge(Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*]",
            reason="remediation may change any security group of this account and region that AWS Config finds NON_COMPLIANT "
                   f"(none is known at deploy time), except those tagged {OPT_OUT_TAG}={OPT_OUT_VALUE} (the condition)",
        ))
        self.automation_role = iam.Role(
            self, "AutomationRole",
            assumed_by=iam.ServicePrincipal("ssm.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}),
            description="AdminPortGuard remediation: SSM Automation invokes the rule's function",
        )
        self.automation_role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.function.function_arn]))
        payload = json.dumps({"remediate": {"groupId": "{{ GroupId }}", "configRuleName": "RULE_NAME"}}).replace("RULE_NAME", self.rule_name)
        self.remediation_document = ssm.CfnDocument(
            self, "RemediationDocument",
            document_type="Automation",
            document_format="JSON",
            content={
                "schemaVersion": "0.3",
                "description": "AdminPortGuard: close the admin ports the AWS Config rule found open on one security group "
                               "(the rule's function plans the smallest change and applies it)",
                "assumeRole": "{{ AutomationAssumeRole }}",
                "parameters": {
                    "GroupId": {"type": "String", "description": "The NON_COMPLIANT security group", "allowedPattern": "^sg-[0-9a-f]{8}([0-9a-f]{9})?$"},
                    "AutomationAssumeRole": {"type": "String", "description": "The role SSM Automation assumes to invoke the function"},
                },
                "mainSteps": [{
                    "name": "CloseAdminPorts",
                    "action": "aws:invokeLambdaFunction",
                    "maxAttempts": 1,
                    "timeoutSeconds": 300,
                    "onFailure": "Abort",
                    "inputs": {"FunctionName": self.function.function_arn, "InvocationType": "RequestResponse", "Payload": payload},
                }],
            },
        )
        self.remediation_configuration = config.CfnRemediationConfiguration(
            self, "Remediation",
            config_rule_name=self.rule_name,
            target_type="SSM_DOCUMENT",
            target_id=self.remediation_document.ref,
            resource_type=SECURITY_GROUP,
            automatic=remediation.mode == "automatic",
            maximum_automatic_attempts=remediation.retries,
            retry_attempt_seconds=remediation.retry_seconds,
            parameters={
                "GroupId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
                "AutomationAssumeRole": {"StaticValue": {"Values": [self.automation_role.role_arn]}},
            },
        )


class AdminPortGuardMemberRole(Construct):
    """The role an organization rule's function assumes in a member account (deploy it to every member
    account, e.g. with a CloudFormation StackSet of a stack holding it).

    :param evaluator_role_arn: ARN of the function's role in the management or delegated-administrator
        account (``AdminPortGuardConfigRule.function_role.role_arn``).
    :param role_name: must equal ``OrganizationOptions.member_role_name``. Default: ``AdminPortGuardConfigRuleMember``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, evaluator_role_arn: str, role_name: str = DEFAULT_MEMBER_ROLE_NAME) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self, "Role", role_name=role_name, assumed_by=iam.ArnPrincipal(evaluator_role_arn),
            description="AdminPortGuard organization Config rule: reads security groups, puts evaluations",
        )
        _grant_evaluation(self.role)


def _check_props(
    construct_id: str,
    parameters: Mapping[str, str],
    topic: sns.ITopic | None,
    notification_targets: Sequence[events.IRuleTarget],
    organization: OrganizationOptions | None,
    remediation: Remediation | None = None,
) -> None:
    """Raise one ``ValueError`` listing every problem."""
    problems = []
    if remediation is not None:
        if not isinstance(remediation, Remediation):
            problems.append(f"remediation must be Remediation.notify(), .manual() or .automatic(...), not {remediation!r}")  # type: ignore[unreachable]  # an untyped caller's value
        else:
            problems += remediation.problems()
            if organization is not None and remediation.mode != "notify":
                problems.append("remediation is per account: AWS Config runs no remediation for an organization rule "
                                "(PutRemediationConfigurations); deploy the rule per account to remediate")
    limit = ORGANIZATION_INPUT_LIMIT if organization else INPUT_LIMIT
    size = len(json.dumps(parameters))
    if size > limit:
        problems.append(
            f"the policy takes {size} characters as rule parameters, more than AWS Config's {limit}: "
            "shorten the trusted prefix lists' reasons or declare fewer admin ports"
        )
    if organization is not None:
        members = [] if isinstance(organization.member_accounts, str) else list(organization.member_accounts)
        if not members:
            problems.append("organization.member_accounts must list the member account ids whose AWS Config may invoke the function")
        for account in [*members, *organization.excluded_accounts]:
            if not (isinstance(account, str) and len(account) == 12 and account.isdigit()):
                problems.append(f"account {account!r} is not a 12-digit AWS account id")
        if topic is not None or notification_targets:
            problems.append(
                "notifications are per account: an organization rule's compliance events arise in each member account "
                "(use an AWS Config aggregator, or forward the events to this account's event bus)"
            )
    if problems:
        raise ValueError(f"AdminPortGuardConfigRule {construct_id!r}: {len(problems)} problem{'s' if len(problems) > 1 else ''}:\n"
                         + "\n".join(f"  - {problem}" for problem in problems))
