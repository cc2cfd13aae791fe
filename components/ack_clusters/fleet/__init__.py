"""Fleets: the address plan of many clusters across stacks (pure planning in :mod:`.plan`)."""
