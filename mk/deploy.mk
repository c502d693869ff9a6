# `make deploy-local`: cdk bootstrap + deploy of the reference stack and of the AWS Config rule
# (AdminPortGuardConfigRule) + live audit + the rule's handler over every deployed group (its evaluations
# read back) + destroy, against a local AWS emulator (moto server on 127.0.0.1, free port), with the pinned
# CDK CLI. No AWS account needed and no traffic leaves the machine. The emulator is stopped by its PID even
# when a step fails.
# `make audit-live`: the live audit against real AWS (your credentials; REGION=... optional).
# `make test-integration`: the pytest integration suite (emulator deploy, drift injection, destroy).

.PHONY: deploy-local audit-live test-integration

deploy-local: install
	$(VENV)/bin/python scripts/deploy_local.py $(if $(ADMIN_CIDR),--admin-cidr '$(ADMIN_CIDR)')

audit-live: install
	$(VENV)/bin/python -m constructs_lib.guard --live $(if $(REGION),--region $(REGION))

test-integration: install
	$(VENV)/bin/python -m pytest tests/integration -q
