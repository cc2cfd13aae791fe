"""Test your own programs the way this project tests itself: a fake Alibaba Cloud for Pulumi's
mock engine, a recorder of everything the engine would see, and change-safety helpers.

A small public front over the offline engine (:mod:`ack_offline`), which holds the parts.
"""

from ack_offline.fake_cloud import FakeAlibabaCloud, UnknownInvokeError
from ack_offline.imports import executed_service_packages
from ack_offline.recorder import ProgramRun, RecordedResource, RecordingMonitor, run_program
from ack_offline.stability import create_only_changes

__all__ = [
    "FakeAlibabaCloud",
    "ProgramRun",
    "RecordedResource",
    "RecordingMonitor",
    "UnknownInvokeError",
    "create_only_changes",
    "executed_service_packages",
    "run_program",
]
