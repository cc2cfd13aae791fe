"""Pure planning: decide names, CIDRs, NAT layout, firewall rules and RAM documents.

Nothing in this package imports Pulumi. The components register exactly what a plan says, so a
plan can be tested on its own (including with property tests) and a bad plan fails before the
first resource exists.
"""
