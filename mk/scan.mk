# `make scan`: synthesize the reference stack and its naive variant (SSH open to 0.0.0.0/0 on the web
# server), write their exposure reports (the prediction, from the policy core's reading of the templates),
# deploy each to the local AWS emulator (moto, in-process) and check the prediction against nftables rules
# built from the deployed security groups, scanned by nmap in network namespaces on this machine (no
# traffic leaves them). Needs root and: apt-get install -y nmap nftables iproute2
# `make exposure`: the exposure report of cdk.out (after `make synth`) as markdown and JSON.

SCAN_DIR ?= build/scan
SCAN_ADMIN_CIDR ?= 203.0.113.10/32

.PHONY: scan exposure

scan: install
	@rm -rf $(SCAN_DIR)
	$(VENV)/bin/python -m scan.variants $(SCAN_DIR) --admin-cidr $(SCAN_ADMIN_CIDR)
	@for variant in naive reference; do \
	  $(VENV)/bin/python -m constructs_lib.exposure $(SCAN_DIR)/$$variant --format markdown --output $(SCAN_DIR)/$$variant-exposure.md || exit $$?; \
	  $(VENV)/bin/python -m constructs_lib.exposure $(SCAN_DIR)/$$variant --format json --output $(SCAN_DIR)/$$variant-exposure.json || exit $$?; \
	done
	@status=0; for variant in naive reference; do \
	  echo; echo "=== $$variant variant ==="; \
	  $(VENV)/bin/python -m scan.harness $(SCAN_DIR)/$$variant --nmap || status=$$?; \
	done; exit $$status

exposure: install
	$(VENV)/bin/python -m constructs_lib.exposure cdk.out --format markdown --output cdk.out/exposure.md
	$(VENV)/bin/python -m constructs_lib.exposure cdk.out --format json --output cdk.out/exposure.json
