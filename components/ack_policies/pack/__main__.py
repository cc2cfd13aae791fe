"""Entry point the Pulumi engine runs: it only builds the pack. Rules live in ack_policies."""

from pulumi_policy import EnforcementLevel, PolicyPack

from ack_policies import PACK_DESCRIPTION, PACK_NAME, all_policies
from ack_policies.narrow import install as refuse_weakening
from ack_policies.seen import install as record_inputs
from ack_policies.speed import install

install()  # pulumi-policy's analysis, each resource converted once (ack_policies/speed.py)
record_inputs()  # each resource's inputs, for the stack rules (ack_policies/seen.py)
refuse_weakening()  # policy config may only narrow the pack (ack_policies/narrow.py)

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=all_policies(),
)
