"""Pulumi program for every stack in this folder: the stack's config says which cluster."""

from ack_clusters.program import main

main()
