"""Pulumi program for every stack in this folder: the stack's config says which cluster."""

from components.program import main

main()
