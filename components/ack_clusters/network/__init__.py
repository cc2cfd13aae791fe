"""The cluster network: VPC, vSwitches, NAT gateways with EIP and SNAT, per-zone routes."""
