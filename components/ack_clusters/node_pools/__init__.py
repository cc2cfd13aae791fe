"""ACK node pools, which own the ESS scaling groups of ECS workers."""
