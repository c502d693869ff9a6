"""Port-scan harness: the exposure report checked against nftables and nmap in network namespaces."""
