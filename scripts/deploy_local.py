"""Deploy the reference stack to a local AWS emulator (moto server) with the stock, pinned CDK CLI.

    .venv/bin/python scripts/deploy_local.py              # what `make deploy-local` runs
    .venv/bin/python scripts/deploy_local.py --keep       # leave stack and emulator up; Ctrl-C stops it

Steps: start moto (with ``scripts/moto_patches.py``) on 127.0.0.1 at a free port → ``cdk bootstrap
aws://123456789012/us-east-1`` → ``cdk deploy --require-approval never`` of the reference stack and of a
stack with the AWS Config rule (``AdminPortGuardConfigRule``; this file is the CDK app, ``app``) → live
audit (``python -m constructs_lib.guard --live``) → the Config rule: its handler, invoked in this process as
AWS Config would (moto's Lambda never runs code), evaluates every deployed security group and the
evaluations it put are read back → ``cdk destroy --force``; the emulator is stopped by its PID even when a
step fails. Exit status: the first failing step's, else the audit's, else the rule's (0 all COMPLIANT).

Nothing leaves 127.0.0.1: every AWS endpoint is the emulator; the CLI's notices, telemetry and version
check are off, and a dead local proxy catches any other HTTP(S) request. The S3 URL in
``AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION`` is only parsed by moto, never connected to.

``python scripts/deploy_local.py serve`` is the emulator process itself (prints ``PORT <n>``);
``python scripts/deploy_local.py app`` is the CDK app (``cdk --app``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

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

    from constructs_lib import AdminPortGuardConfigRule, add_admin_port_guard
    from stacks import ReferenceStack, admin_cidrs_from_context

    application = cdk.App()
    cdk.Validations.of(application).add_plugins(AwsSolutionsChecks(application))
    add_admin_port_guard(application)
    ReferenceStack(application, STACK, admin_cidrs=admin_cidrs_from_context(application))
    stack = cdk.Stack(application, RULE_STACK, description="AdminPortGuard AWS Config rule on the local emulator")
    key = kms.Key(stack, "AlertsKey", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY)
    rule = AdminPortGuardConfigRule(stack, "AdminPortGuard", notification_topic=sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True))
    cdk.CfnOutput(stack, "RuleName", value=rule.rule_name)
    cdk.CfnOutput(stack, "FunctionName", value=rule.function.function_name)
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


def evaluate_config_rule(endpoint_url: str) -> dict[str, tuple[str, str | None]]:
    """Play AWS Config: invoke the deployed rule's handler in this process with a periodic event (every security
    group of the region), then read back what it put: ``{group id: (compliance, annotation)}``."""
    sys.path.insert(0, str(ROOT))
    import boto3
    import moto_patches

    from constructs_lib.config_rule import handler

    def client(service: str) -> object:
        return boto3.client(service, endpoint_url=endpoint_url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    stack = client("cloudformation").describe_stacks(StackName=RULE_STACK)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    config = client("config")
    [rule] = config.describe_config_rules(ConfigRuleNames=[outputs["RuleName"]])["ConfigRules"]
    function = client("lambda").get_function(FunctionName=outputs["FunctionName"])["Configuration"]
    if rule["Source"]["SourceIdentifier"] != function["FunctionArn"] or function["Handler"] != f"{handler.__name__}.handler":
        raise RuntimeError(f"the deployed rule does not run this handler: {rule['Source']}, {function['Handler']}")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    handler.evaluate_event({
        "invokingEvent": json.dumps({"awsAccountId": ACCOUNT, "notificationCreationTime": now,
                                     "messageType": handler.SCHEDULED, "recordVersion": "1.0"}),
        "ruleParameters": rule.get("InputParameters", "{}"),
        "resultToken": moto_patches.result_token(rule["ConfigRuleName"]),
        "eventLeftScope": False,
        "configRuleName": rule["ConfigRuleName"],
        "configRuleArn": rule["ConfigRuleArn"],
        "configRuleId": rule["ConfigRuleId"],
        "accountId": ACCOUNT,
        "version": "1.0",
    }, client)
    results = {}
    for page in config.get_paginator("get_compliance_details_by_config_rule").paginate(ConfigRuleName=rule["ConfigRuleName"]):
        for result in page["EvaluationResults"]:
            qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
            results[qualifier["ResourceId"]] = (result["ComplianceType"], result.get("Annotation"))
    return results


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
