"""The engine's side of a program's run, served to a program in another process, as the Pulumi
engine serves it.

A program run by ``ack-preview`` lives in a process of its own and talks to this process the
way a program talks to the engine: its Pulumi SDK calls a resource monitor and an engine service,
registers resources, reads and invokes through them, and answers the monitor's calls of its
transforms. The messages are the engine's own (``pulumirpc`` protobufs), carried over a pipe
between the two processes rather than over gRPC: the program's process is forked, and gRPC
does not survive a fork of a process that used it. The monitor here is the recording monitor
with the fake cloud behind it (:mod:`ack_offline.recorder`), so what the gate judges is what
this process saw registered, never a report the program's process wrote: a program can send
nothing but calls of the monitor, and whatever it registers is judged.

Framing: each message is one ``send_bytes`` of a JSON header line and the protobuf bytes; the
header says what the message is (a call and its method, a reply, a callback and its token) and
carries the id that pairs a reply with its call.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent import futures
from multiprocessing.connection import Connection
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime.proto import callback_pb2, engine_pb2, resource_pb2

from .recorder import RecordingMonitor

#: What each call of the monitor and the engine answers with.
REPLIES: dict[str, Any] = {
    "RegisterResource": resource_pb2.RegisterResourceResponse,
    "RegisterResourceOutputs": empty_pb2.Empty,
    "ReadResource": resource_pb2.ReadResourceResponse,
    "Invoke": resource_pb2.ResourceInvokeResponse,
    "SupportsFeature": resource_pb2.SupportsFeatureResponse,
    "RegisterStackTransform": empty_pb2.Empty,
    "RegisterStackInvokeTransform": empty_pb2.Empty,
    "RegisterPackage": resource_pb2.RegisterPackageResponse,
    "RegisterResourceHook": empty_pb2.Empty,
    "RegisterErrorHook": empty_pb2.Empty,
    "GetDeploymentInfo": resource_pb2.DeploymentInfo,
    "SignalAndWaitForShutdown": empty_pb2.Empty,
    "Log": empty_pb2.Empty,
}
#: What each call carries.
REQUESTS: dict[str, Any] = {
    "RegisterResource": resource_pb2.RegisterResourceRequest,
    "RegisterResourceOutputs": resource_pb2.RegisterResourceOutputsRequest,
    "ReadResource": resource_pb2.ReadResourceRequest,
    "Invoke": resource_pb2.ResourceInvokeRequest,
    "SupportsFeature": resource_pb2.SupportsFeatureRequest,
    "RegisterStackTransform": callback_pb2.Callback,
    "RegisterStackInvokeTransform": callback_pb2.Callback,
    "RegisterPackage": resource_pb2.RegisterPackageRequest,
    "RegisterResourceHook": resource_pb2.RegisterResourceHookRequest,
    "RegisterErrorHook": resource_pb2.RegisterErrorHookRequest,
    "GetDeploymentInfo": empty_pb2.Empty,
    "SignalAndWaitForShutdown": empty_pb2.Empty,
    "Log": engine_pb2.LogRequest,
}


#: The calls a program may send without waiting for an answer.
ONE_WAY = frozenset({"Log"})


def _frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    return json.dumps(header).encode() + b"\n" + payload


def _unframe(message: bytes) -> tuple[dict[str, Any], bytes]:
    header, _, payload = message.partition(b"\n")
    decoded = json.loads(header)
    if not isinstance(decoded, dict):
        raise ValueError("a message header is a JSON object")
    return decoded, payload


class CallFailed(Exception):
    """A call the other side answered with an error."""


class _Peer:
    """One end of the pipe: sends calls and waits for their replies by id, and hands the calls
    it receives to `serve` (on a pool of threads, so that a call may wait for a call back)."""

    def __init__(self, conn: Connection, serve: Callable[[dict[str, Any], bytes], bytes]) -> None:
        self._conn = conn
        self._serve = serve
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[int, futures.Future[bytes]] = {}
        self._answering: set[futures.Future[None]] = set()
        #: Why the other side stopped being served (a message outside the protocol), if it did.
        self.broken: str | None = None
        #: Set once the other side's process has ended: what it wrote is all in the pipe, so
        #: the reader stops when the pipe is empty instead of waiting for its end to close (a
        #: process the program forked may hold a copy of that end open for as long as it runs).
        self._ended = threading.Event()
        self._pool = futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="ack-served")
        self._reader = threading.Thread(target=self._read, name="ack-served-reader", daemon=True)
        self._reader.start()

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        with self._send_lock:
            self._conn.send_bytes(_frame(header, payload))

    def call(self, header: dict[str, Any], payload: bytes) -> bytes:
        done: futures.Future[bytes] = futures.Future()
        call_id = next(self._ids)
        self._waiting[call_id] = done
        if not self._reader.is_alive():  # nothing will ever answer it
            self._waiting.pop(call_id, None)
            raise CallFailed(self.broken or "the other process is gone")
        self.send({**header, "id": call_id}, payload)
        return done.result()

    def _read(self) -> None:
        reason = "the other process is gone"
        try:
            while True:
                if not self._conn.poll(0.05):
                    if self._ended.is_set() and not self._conn.poll(0):
                        reason = "the other process has ended"
                        return
                    continue
                message = self._conn.recv_bytes()
                try:
                    self._take(message)
                except Exception as exc:  # the other side broke the protocol: stop serving it
                    self.broken = reason = f"a message outside the protocol ({exc!r})"
                    with contextlib.suppress(OSError):
                        self._conn.close()  # so that it fails now instead of waiting on us
                    return
        except (EOFError, OSError) as exc:
            reason = f"the other process is gone ({exc})"
            with contextlib.suppress(OSError):
                self._conn.close()  # a stream read past its frames serves nothing more
        finally:
            for waiting in list(self._waiting.values()):
                if not waiting.done():
                    waiting.set_exception(CallFailed(reason))

    def _take(self, message: bytes) -> None:
        header, payload = _unframe(message)
        if header.get("oneway"):
            # A call nobody waits for (the program's log lines): served here, in the order
            # sent, and never answered. Only the log may be sent so.
            if header.get("call") not in ONE_WAY:
                raise ValueError(f"{header.get('call')!r} cannot be sent one way")
            self._serve(header, payload)
            return
        if header.get("reply") is not None:
            waiting = self._waiting.pop(int(header["reply"]), None)
            if waiting is None or waiting.done():
                return
            if header.get("error"):
                waiting.set_exception(CallFailed(str(header["error"])))
            else:
                waiting.set_result(payload)
        else:
            answering = self._pool.submit(self._answer, header, payload)
            self._answering.add(answering)
            answering.add_done_callback(self._answering.discard)

    def _answer(self, header: dict[str, Any], payload: bytes) -> None:
        try:
            answer = self._serve(header, payload)
            reply: dict[str, Any] = {"reply": header.get("id")}
        except Exception as exc:
            answer, reply = (
                b"",
                {"reply": header.get("id"), "error": f"{type(exc).__name__}: {exc}"},
            )
        with contextlib.suppress(OSError, ValueError, TypeError):  # the other side is gone
            self.send(reply, answer)

    def drain(self, timeout: float) -> bool:
        """Once the other side's process has ended: wait until every message it wrote is read
        (or its end of the pipe closed) and every call it made is answered; whether that
        happened within `timeout` seconds (never longer)."""
        deadline = time.monotonic() + timeout
        self._ended.set()
        self._reader.join(timeout)
        if self._reader.is_alive():
            return False
        _, pending = futures.wait(
            list(self._answering), timeout=max(0.0, deadline - time.monotonic())
        )
        return not pending

    def close(self) -> None:
        self._conn.close()
        self._pool.shutdown(wait=False, cancel_futures=True)


class Served:
    """The monitor and engine a program in another process calls, over `conn`. Its log (the
    program's `pulumi.log` calls) is kept in order in :attr:`log`."""

    def __init__(self, conn: Connection, make_monitor: Callable[..., RecordingMonitor]) -> None:
        self.monitor = make_monitor(invoke_callback=self._invoke_callback)
        self.log: list[tuple[int, str]] = []
        self._peer = _Peer(conn, self._serve)

    def _serve(self, header: dict[str, Any], payload: bytes) -> bytes:
        method = str(header.get("call"))
        if method not in REQUESTS:
            raise CallFailed(f"the monitor has no method {method!r}")
        request = REQUESTS[method].FromString(payload)
        if method == "Log":
            self.log.append((_LEVELS.get(request.severity, logging.INFO), request.message))
            return b""
        answer = getattr(self.monitor, method)(request)
        if method == "SupportsFeature":
            answer = resource_pb2.SupportsFeatureResponse(hasSupport=bool(answer.hasSupport))
        data: bytes = answer.SerializeToString()
        return data

    def _invoke_callback(self, callback: Any, request: bytes) -> bytes:
        """Call a program's callback (a transform) in its process, as the engine does."""
        return self._peer.call({"callback": callback.token}, request)

    def drain(self, timeout: float) -> bool:
        """Once the program's process has ended: wait for each message it wrote to be read and
        each call it made to be answered (a registration the engine received counts, whenever
        the program ended); what a process it left behind writes later is not read."""
        return self._peer.drain(timeout)

    @property
    def broken(self) -> str | None:
        """Why the program stopped being served (it sent a message outside the protocol)."""
        return self._peer.broken

    def close(self) -> None:
        self._peer.close()


_LEVELS = {
    engine_pb2.DEBUG: logging.DEBUG,
    engine_pb2.INFO: logging.INFO,
    engine_pb2.WARNING: logging.WARNING,
    engine_pb2.ERROR: logging.ERROR,
}


# --- the program's side ------------------------------------------------------------------------


class _Remote:
    """The program's view of a service in the gate's process: each method sends the call and
    waits for the reply."""

    def __init__(self, peer: _Peer) -> None:
        self._peer = peer

    def _call(self, method: str, request: Any) -> Any:
        payload = request.SerializeToString()
        return REPLIES[method].FromString(self._peer.call({"call": method}, payload))


class RemoteMonitor(_Remote):
    def __getattr__(self, method: str) -> Callable[[Any], Any]:
        if method not in REQUESTS or method == "Log":
            raise AttributeError(method)
        return lambda request: self._call(method, request)


class RemoteEngine(_Remote):
    """The engine service: the log goes to the gate; the root resource stays here."""

    def __init__(self, peer: _Peer) -> None:
        super().__init__(peer)
        self._root = ""

    def Log(self, request: Any) -> Any:
        """Sent one way: the SDK logs each step of each registration (about five lines a
        resource) and waits for each line's empty reply; a round trip to the gate per line was
        most of a large program's time. The pipe keeps them in order, and ahead of whatever
        the program sends after them."""
        self._peer.send({"call": "Log", "oneway": True}, request.SerializeToString())
        return REPLIES["Log"]()

    def GetRootResource(self, request: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn=self._root)

    def SetRootResource(self, request: Any) -> Any:
        self._root = request.urn
        return engine_pb2.SetRootResourceResponse()


def connect(
    conn: Connection, loop: asyncio.AbstractEventLoop
) -> tuple[RemoteMonitor, RemoteEngine]:
    """The monitor and engine a program in this process calls, served by the gate's process
    over `conn`; the gate's calls of the program's callbacks run on `loop`."""
    from pulumi.runtime._callbacks import _CallbackServicer

    def serve(header: dict[str, Any], payload: bytes) -> bytes:
        token = str(header.get("callback"))
        for servicer in _CallbackServicer._servicers:
            found = servicer._callbacks.get(token)
            if found is not None:
                coroutine: Any = found(payload)
                answer: Any = asyncio.run_coroutine_threadsafe(coroutine, loop).result()
                data: bytes = answer.SerializeToString()
                return data
        raise CallFailed(f"no callback {token!r} in the program")

    peer = _Peer(conn, serve)
    return RemoteMonitor(peer), RemoteEngine(peer)
