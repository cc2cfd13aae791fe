"""What teams build around a cluster: access grants, app subnets, private zones."""
