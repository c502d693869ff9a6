"""Deploy the reference stack to a local AWS emulator (moto server) with the stock, pinned CDK CLI.

    .venv/bin/python scripts/deploy_local.py              # what `make deploy-local` runs
    .venv/bin/python scripts/deploy_local.py --keep       # leave stack and emulator up; Ctrl-C stops it

Steps: start moto (with ``scripts/moto_patches.py``) on 127.0.0.1 at a free port → ``cdk bootstrap
aws://123456789012/us-east-1`` → ``cdk deploy --require-approval never`` of the reference stack and of a
stack with the AWS Config rule (``AdminPortGuardConfigRule``; this file is the CDK app, ``app``) → live
audit (``python -m constructs_lib.guard --live``) → the Config rule: its handler, invoked in this process as
AWS Config would (moto's Lambda never runs code), evaluates every deployed security group and the
evaluations it put are read back → the remediation drill (``remediation_drill``: SSH opened by hand, the
notify rule plans, the automatic remediation's SSM document rendered and its payload given to the handler,
SSH closed, HTTP kept, COMPLIANT again) → ``cdk destroy --force``; the emulator is stopped by its PID even when a
step fails. Exit status: the first failing step's, else the audit's, else the rule's (0 all COMPLIANT).

Nothing leaves 127.0.0.1: every AWS endpoint is the emulator; the CLI's notices, telemetry and version
check are off, and a dead local proxy catches any other HTTP(S) request. The S3 URL in
``AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION`` is only parsed by moto, never connected to.

``python scripts/deploy_local.py serve`` is the emulator process itself (prints ``PORT <n>``);
``python scripts/deploy_local.py app`` is the CDK app (``cdk --app``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "AdminPortGuardReference"
RULE_STACK = "AdminPortGuardConfigRuleLocal"
DEFAULT_ADMIN_CIDR = "203.0.113.10/32"
START_TIMEOUT = 30.0


def serve() -> None:
    """Run the patched moto server on 127.0.0.1 at a free port until SIGTERM/SIGINT."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import moto_patches
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    moto_patches.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(f"PORT {server.get_host_and_port()[1]}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop()


class LocalAws:
    """The emulator as a context manager: ``with LocalAws() as aws: subprocess.run(..., env=aws.env)``."""

    def __init__(self, log_path: Path | None = None):
        self.log_path = log_path
        self.process: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.endpoint_url = ""
        self.env: dict[str, str] = {}

    def start(self) -> LocalAws:
        stderr = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**_base_env(), "MOTO_ACCOUNT_ID": ACCOUNT},
        )
        line = _read_line(self.process, START_TIMEOUT)
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the emulator did not start (got {line!r}; see {self.log_path or 'its stderr'})")
        self.port = int(line.split()[1])
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.env = emulator_env(self.endpoint_url)
        return self

    def stop(self) -> None:
        """Stop the emulator by its PID: SIGTERM, then SIGKILL after 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return result[0].strip() if result else ""


def _base_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def emulator_env(endpoint_url: str) -> dict[str, str]:
    """Environment for the CDK CLI, boto3 and the guard: every AWS call goes to ``endpoint_url``."""
    return {
        **_base_env(),
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION": f"https://s3.{REGION}.amazonaws.com",  # parsed only, never fetched
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        # Any HTTP(S) request that is not for the emulator goes to a closed local port and fails.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def app() -> None:
    """The CDK app deployed here: the reference stack, checked as ``app.py`` checks it, and the Config rule."""
    sys.path.insert(0, str(ROOT))
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns
    from cdk_nag import AwsSolutionsChecks

    from constructs_lib import AdminPortGuardConfigRule, Remediation, add_admin_port_guard
    from stacks import ReferenceStack, admin_cidrs_from_context

    application = cdk.App()
    cdk.Validations.of(application).add_plugins(AwsSolutionsChecks(application))
    add_admin_port_guard(application)
    ReferenceStack(application, STACK, admin_cidrs=admin_cidrs_from_context(application))
    stack = cdk.Stack(application, RULE_STACK, description="AdminPortGuard AWS Config rule on the local emulator")
    key = kms.Key(stack, "AlertsKey", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    rule = AdminPortGuardConfigRule(stack, "AdminPortGuard", notification_topic=sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True),
                                    remediation=Remediation.automatic(retries=3, retry_seconds=60))
    cdk.CfnOutput(stack, "RuleName", value=rule.rule_name)
    cdk.CfnOutput(stack, "FunctionName", value=rule.function.function_name)
    notify = AdminPortGuardConfigRule(stack, "AdminPortGuardNotify", remediation=Remediation.notify())
    cdk.CfnOutput(stack, "NotifyRuleName", value=notify.rule_name)
    cdk.CfnOutput(stack, "NotifyFunctionName", value=notify.function.function_name)
    application.synth()


def cdk_command(*arguments: str, output_dir: Path) -> list[str]:
    """The pinned CDK CLI (``npx cdk`` from ``node_modules``), never asking and never fetching notices."""
    return ["npx", "--no-install", "cdk", *arguments, "--no-notices", "--output", str(output_dir)]


def _app_option() -> list[str]:
    return ["--app", f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__).resolve()))} app"]


def steps(admin_cidr: str, output_dir: Path) -> list[tuple[str, list[str]]]:
    context = ["-c", f"admin_cidr={admin_cidr}"]
    return [
        ("bootstrap", cdk_command("bootstrap", f"aws://{ACCOUNT}/{REGION}", *context, output_dir=output_dir)),
        ("deploy", cdk_command("deploy", STACK, RULE_STACK, *_app_option(), "--require-approval", "never", *context, output_dir=output_dir)),
    ]


def audit_command(endpoint_url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "constructs_lib.guard", "--live", "--region", REGION, "--endpoint-url", endpoint_url, *extra]


def destroy_command(admin_cidr: str, output_dir: Path) -> list[str]:
    """Destroy both stacks; from the cloud assembly the deploy wrote, when there is one (no second synth)."""
    if (output_dir / "manifest.json").is_file():
        return ["npx", "--no-install", "cdk", "destroy", STACK, RULE_STACK, "--app", str(output_dir), "--force", "--no-notices"]
    return cdk_command("destroy", STACK, RULE_STACK, *_app_option(), "--force", "-c", f"admin_cidr={admin_cidr}", output_dir=output_dir)


def _clients(endpoint_url: str):  # noqa: ANN202 - a boto3 client factory
    import boto3

    return lambda service: boto3.client(service, endpoint_url=endpoint_url, region_name=REGION,
                                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _deployed_rule(client: Any, rule: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deployed rule named by the rule stack's output ``<rule>RuleName`` and its function, checked to run this handler."""
    from constructs_lib.config_rule import handler

    stack = client("cloudformation").describe_stacks(StackName=RULE_STACK)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    [deployed] = client("config").describe_config_rules(ConfigRuleNames=[outputs[f"{rule}RuleName"]])["ConfigRules"]
    function = client("lambda").get_function(FunctionName=outputs[f"{rule}FunctionName"])["Configuration"]
    if deployed["Source"]["SourceIdentifier"] != function["FunctionArn"] or function["Handler"] != f"{handler.__name__}.handler":
        raise RuntimeError(f"the deployed rule does not run this handler: {deployed['Source']}, {function['Handler']}")
    return deployed, function


def evaluate_config_rule(endpoint_url: str, rule: str = "", log: list[dict[str, Any]] | None = None) -> dict[str, tuple[str, str | None]]:
    """Play AWS Config: invoke the deployed rule's handler (``rule``: ``""`` the main rule, ``"Notify"`` the notify
    one) in this process with a periodic event (every security group of the region), then read back what it put:
    ``{group id: (compliance, annotation)}``. ``log`` receives the remediation records the handler logged."""
    sys.path.insert(0, str(ROOT))
    import moto_patches

    from constructs_lib.config_rule import handler

    client = _clients(endpoint_url)
    deployed, _ = _deployed_rule(client, rule)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        handler.evaluate_event({
            "invokingEvent": json.dumps({"awsAccountId": ACCOUNT, "notificationCreationTime": now,
                                         "messageType": handler.SCHEDULED, "recordVersion": "1.0"}),
            "ruleParameters": deployed.get("InputParameters", "{}"),
            "resultToken": moto_patches.result_token(deployed["ConfigRuleName"]),
            "eventLeftScope": False,
            "configRuleName": deployed["ConfigRuleName"],
            "configRuleArn": deployed["ConfigRuleArn"],
            "configRuleId": deployed["ConfigRuleId"],
            "accountId": ACCOUNT,
            "version": "1.0",
        }, client)
    if log is not None:
        log += _records(output.getvalue())
    results = {}
    for page in client("config").get_paginator("get_compliance_details_by_config_rule").paginate(ConfigRuleName=deployed["ConfigRuleName"]):
        for result in page["EvaluationResults"]:
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            results[qualifier["ResourceId"]] = (result["ComplianceType"], result.get("Annotation"))
    return results


def remediate_config_rule(endpoint_url: str, started: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Play AWS Config's remediation of the main rule: for each NON_COMPLIANT result when the remediation is
    automatic, and for the groups in ``started`` (``start-remediation-execution``), run the rule's SSM
    Automation document as SSM would: render its one ``aws:invokeLambdaFunction`` step with the remediation's
    parameters and give the payload to the handler in this process (moto runs neither SSM nor Lambda code).
    Returns the change records the function returned."""
    sys.path.insert(0, str(ROOT))
    from constructs_lib.config_rule import remediate

    client = _clients(endpoint_url)
    deployed, function = _deployed_rule(client, "")
    config = client("config")
    [remediation] = config.describe_remediation_configurations(ConfigRuleNames=[deployed["ConfigRuleName"]])["RemediationConfigurations"]
    content = json.loads(client("ssm").get_document(Name=remediation["TargetId"])["Content"])
    [step] = content["mainSteps"]
    if (content["schemaVersion"], step["action"], step["inputs"]["FunctionName"]) != ("0.3", "aws:invokeLambdaFunction", function["FunctionArn"]):
        raise RuntimeError(f"the remediation document does not invoke the rule's function: {step}")
    role = remediation["Parameters"]["AutomationAssumeRole"]["StaticValue"]["Values"][0]
    trust = client("iam").get_role(RoleName=role.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
    if "ssm.amazonaws.com" not in json.dumps(trust):
        raise RuntimeError(f"SSM Automation cannot assume the remediation's role {role}")
    groups = list(started)
    if remediation["Automatic"]:
        pages = config.get_paginator("get_compliance_details_by_config_rule").paginate(
            ConfigRuleName=deployed["ConfigRuleName"], ComplianceTypes=["NON_COMPLIANT"])
        groups += [r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"] for page in pages for r in page["EvaluationResults"]]
    records = []
    for group_id in dict.fromkeys(groups):
        values = {"GroupId": group_id, "AutomationAssumeRole": role}
        payload = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda match: values[match.group(1)], step["inputs"]["Payload"])
        with contextlib.redirect_stdout(io.StringIO()):
            records.append(remediate.remediate(json.loads(payload), client))
    return records


def _records(output: str) -> list[dict[str, Any]]:
    """The remediation records in the handler's log lines."""
    return [json.loads(line)["adminPortGuardRemediation"] for line in output.splitlines() if line.startswith('{"adminPortGuardRemediation"')]


def _check_config_rule(endpoint_url: str) -> int:
    print("\n==> config rule: the handler evaluates every security group (ScheduledNotification)", flush=True)
    try:
        results = evaluate_config_rule(endpoint_url)
    except Exception as error:  # noqa: BLE001 - any failure of the step is reported and fails the run
        print(f"==> config rule: failed: {type(error).__name__}: {error}", flush=True)
        return 1
    for group_id, (compliance, annotation) in sorted(results.items()):
        print(f"    {group_id} {compliance}{': ' + annotation if annotation else ''}")
    failing = sum(compliance != "COMPLIANT" for compliance, _ in results.values())
    print(f"==> config rule: {len(results)} evaluations, {failing} not COMPLIANT", flush=True)
    return 1 if failing or not results else 0


def remediation_drill(endpoint_url: str) -> list[str]:
    """The drift scenario: SSH opened to the world by hand on the web server's group; the notify rule plans and
    changes nothing; the main rule marks it NON_COMPLIANT, its remediation closes SSH, HTTP(S) stays, the next
    evaluation is COMPLIANT. Returns what went wrong (nothing: ``[]``); SSH is closed again in any case."""
    client = _clients(endpoint_url)
    ec2 = client("ec2")
    outputs = client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    [web] = [output["OutputValue"] for output in outputs if output["OutputKey"] == "WebSecurityGroupId"]
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}

    def world_ports() -> set[int]:
        [group] = ec2.describe_security_groups(GroupIds=[web])["SecurityGroups"]
        return {p.get("FromPort") for p in group["IpPermissions"] if any(r.get("CidrIp") == "0.0.0.0/0" for r in p.get("IpRanges", []))}

    problems = []
    served = world_ports()  # HTTP and HTTPS
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[ssh])  # as a console user would
    try:
        log: list[dict[str, Any]] = []
        if evaluate_config_rule(endpoint_url, "Notify", log)[web][0] != "NON_COMPLIANT":
            problems.append("the notify rule did not find SSH from 0.0.0.0/0 NON_COMPLIANT")
        planned = [r for r in log if r["action"] == "planned" and r["groupId"] == web]
        if not planned or planned[0]["revoke"] != [ssh] or 22 not in world_ports():
            problems.append(f"notify mode should plan to revoke {ssh} and change nothing: {planned}")
        if evaluate_config_rule(endpoint_url)[web][0] != "NON_COMPLIANT":
            problems.append("the rule did not find SSH from 0.0.0.0/0 NON_COMPLIANT")
        records = [r for r in remediate_config_rule(endpoint_url) if r["groupId"] == web]
        if not records or records[0]["action"] != "remediated" or records[0]["revoke"] != [ssh]:
            problems.append(f"the remediation did not revoke exactly SSH from 0.0.0.0/0: {records}")
        if 80 not in served or world_ports() != served:
            problems.append(f"after remediation the web group admits from 0.0.0.0/0 ports {sorted(world_ports())}, not {sorted(served)}")
        if evaluate_config_rule(endpoint_url)[web] != ("COMPLIANT", None):
            problems.append("the evaluation after the remediation is not COMPLIANT")
    finally:
        if 22 in world_ports():
            ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=[ssh])
    return problems


def _check_remediation(endpoint_url: str) -> int:
    print("\n==> remediation: SSH opened by hand on the web group; notify plans, the automatic remediation closes it", flush=True)
    try:
        problems = remediation_drill(endpoint_url)
    except Exception as error:  # noqa: BLE001 - any failure of the step is reported and fails the run
        problems = [f"{type(error).__name__}: {error}"]
    for problem in problems:
        print(f"    {problem}")
    print(f"==> remediation: {'failed' if problems else 'SSH closed, HTTP kept, COMPLIANT again'}", flush=True)
    return 1 if problems else 0


def _run(title: str, command: Sequence[str], env: dict[str, str]) -> int:
    print(f"\n==> {title}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    print(f"==> {title}: exit {status} in {time.monotonic() - started:.1f}s", flush=True)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=("run", "serve", "app"), default="run")
    parser.add_argument("--admin-cidr", default=os.environ.get("ADMIN_CIDR") or DEFAULT_ADMIN_CIDR)
    parser.add_argument("--keep", action="store_true", help="skip destroy; keep the emulator up until Ctrl-C")
    arguments = parser.parse_args(argv)
    if arguments.command == "serve":
        serve()
        return 0
    if arguments.command == "app":
        app()
        return 0

    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so the emulator is still stopped below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="deploy-local-") as temp:
        log = Path(temp) / "moto.log"
        output_dir = Path(temp) / "cdk.out"
        aws = LocalAws(log_path=log)
        try:
            aws.start()
            print(f"Local AWS emulator (moto, pid {aws.process.pid}) at {aws.endpoint_url}", flush=True)  # type: ignore[union-attr]
            status = 0
            for title, command in steps(arguments.admin_cidr, output_dir):
                status = _run(title, command, aws.env)
                if status:
                    break
            if status == 0:
                status = _run("live audit", audit_command(aws.endpoint_url), aws.env)
                status = status or _check_config_rule(aws.endpoint_url)
                status = status or _check_remediation(aws.endpoint_url)
            if arguments.keep:
                print(f"\nKept: endpoint {aws.endpoint_url}; press Ctrl-C to stop the emulator.", flush=True)
                try:
                    while aws.process and aws.process.poll() is None:
                        time.sleep(1)
                except KeyboardInterrupt:
                    pass
                return status
            destroyed = _run("destroy", destroy_command(arguments.admin_cidr, output_dir), aws.env)
            status = status or destroyed
        finally:
            aws.stop()
            print(f"Emulator stopped. Total {time.monotonic() - started:.1f}s.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
