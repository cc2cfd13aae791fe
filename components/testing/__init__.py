"""Offline test support: a fake Alibaba Cloud for Pulumi's mock engine, and a recorder.

Shipped in the package so that users can test their own programs that use these components
exactly the way this project tests itself.
"""

from .fake_cloud import FakeAlibabaCloud, UnknownInvokeError
from .imports import executed_service_packages
from .recorder import RecordedResource, RecordingMonitor, run_program

__all__ = [
    "FakeAlibabaCloud",
    "RecordedResource",
    "RecordingMonitor",
    "UnknownInvokeError",
    "executed_service_packages",
    "run_program",
]
