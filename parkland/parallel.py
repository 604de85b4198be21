"""Two cores without a framework: run one call in a forked child process while this one goes on.

Used where the single-machine flow has two independent pieces of about equal work: reading the firm
table while the parcel layer is read (:func:`parkland.pipeline.assess`), and writing the lists while the
parcel layer and the map are written (:mod:`parkland.report.output`). A fork shares the parent's memory
copy-on-write, so nothing is copied up front; the child's result comes back pickled through a pipe.

Forking is used only when it is safe and useful (:func:`can_fork`): Linux, two or more cores, and no
other Python thread in the process (a fork copies only the calling thread, so a dask client's or a
notebook kernel's threads would be lost in the child). ``PARKLAND_JOBS=1`` turns it off. When the fork
itself fails (no memory, a process limit) the caller runs the work here instead (:class:`ForkFailed`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
import traceback
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any


def can_fork(*, check_cpus: bool = True) -> bool:
    """True when a forked helper process is safe (and, with ``check_cpus``, useful) here."""
    if os.environ.get("PARKLAND_JOBS", "").strip() == "1" or not hasattr(os, "fork"):
        return False
    if not sys.platform.startswith("linux"):  # macOS: fork without exec is unsafe after system frameworks
        return False
    if check_cpus and (os.cpu_count() or 1) < 2:
        return False
    others = [t for t in threading.enumerate() if t is not threading.current_thread()
              and type(t).__name__ != "TMonitor"]  # tqdm's idle monitor thread is harmless
    return not others


class ChildFailed(RuntimeError):
    """The forked call failed and its exception could not be brought back; the message is the child's
    traceback."""


class ForkFailed(OSError):
    """``os.fork`` itself failed: run the work in this process instead."""


def _child(fn: Callable[[], Any], w: int) -> None:  # pragma: no cover - runs in the child
    code = 1
    try:
        try:
            result, payload = fn(), None
        except Exception as err:
            text = traceback.format_exc()[-4000:]
            try:
                payload = pickle.dumps(("error", err, text), protocol=pickle.HIGHEST_PROTOCOL)
                pickle.loads(payload)  # an exception that cannot be rebuilt travels as text
            except Exception:
                payload = pickle.dumps(("error", None, text))
        sink = _PipeSink(w)
        if payload is not None:
            sink.write(payload)
        else:
            try:
                pickle.dump(("ok", result), sink, protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            except Exception:  # a result that cannot be pickled: the stream is cut short here
                sys.stderr.write(traceback.format_exc()[-4000:])
                code = _UNSENDABLE
        sink.close()
    except BaseException:  # KeyboardInterrupt, SystemExit: the child simply ends (the parent sees no result)
        code = code or 1
    finally:
        os._exit(code)  # never back into the parent's code: no finally blocks, atexit or stdio flush here


#: buffer of the parent's end of the result pipe
_PIPE_BUFFER = 1 << 20


class _PipeSink:
    """The child's end of the result pipe, for ``pickle.dump``: what the pipe takes now is written at
    once, the rest is kept here until the parent reads, so the child pickles at full speed whether the
    parent is already waiting (then it unpickles the frames as they come) or still busy (then it finds
    the whole result ready). The pipe's own buffer (64 KiB) alone would hold the child back."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.chunks: deque[bytes] = deque()
        self.offset = 0  # of the first chunk, already written
        os.set_blocking(fd, False)

    def write(self, data: Any) -> int:
        chunk = bytes(data)  # bytes, a memoryview or a PickleBuffer of an array's memory: copied as it is now
        self.chunks.append(chunk)
        self._drain()
        return len(chunk)

    def _drain(self) -> None:
        while self.chunks:
            head = self.chunks[0]
            try:
                n = os.write(self.fd, memoryview(head)[self.offset:])
            except BlockingIOError:
                return  # the pipe is full: the parent has not read yet
            self.offset += n
            if self.offset == len(head):
                self.chunks.popleft()
                self.offset = 0

    def close(self) -> None:
        """Write what is left, waiting for the parent to read it, and close the pipe."""
        os.set_blocking(self.fd, True)
        try:
            self._drain()
        finally:
            os.close(self.fd)
#: exit code of a child whose result could not be pickled (its traceback went to stderr)
_UNSENDABLE = 3


class Forked:
    """A call running in a forked child; :meth:`result` waits for it and returns its value or raises its
    exception (the same type, with the child's traceback as a note; :class:`ChildFailed` when the
    exception could not travel or the child died)."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        r, w = os.pipe()
        # the objects that exist now are frozen out of the garbage collector's reach, so that neither
        # process writes to all of their pages when it collects (each such write copies a shared page);
        # a program that froze objects itself keeps its freeze
        freeze = gc.get_freeze_count() == 0
        pid = -1
        try:
            if freeze:
                gc.freeze()
            with warnings.catch_warnings():
                # Python 3.12+ warns on fork when native threads exist (pyarrow's allocator, OpenBLAS):
                # those register fork handlers, and can_fork() has ruled out Python threads
                warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
                pid = os.fork()
        except OSError as err:
            os.close(r)
            os.close(w)
            raise ForkFailed(err.errno, f"fork failed: {err.strerror}") from err
        finally:
            if freeze and pid != 0:
                gc.unfreeze()
        if pid == 0:  # pragma: no cover - the child
            os.close(r)
            _child(fn, w)
        os.close(w)
        self._pid: int | None = pid
        self._fd: int | None = r
        self._outcome: tuple | None = None

    def _wait(self) -> tuple:
        if self._outcome is None:
            outcome = None
            try:
                fd, self._fd = self._fd, None
                with os.fdopen(fd, "rb", buffering=_PIPE_BUFFER) as fh:  # closes the pipe, also when interrupted
                    try:
                        outcome = pickle.load(fh)  # as the child writes it
                    except Exception:  # killed, out of memory: nothing (or half) was written
                        outcome = None
            finally:
                pid, self._pid = self._pid, None
                _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if outcome is None:
                why = " (its result could not be pickled; see its traceback above)" if code == _UNSENDABLE else ""
                outcome = ("error", None, f"the child process ended with exit code {code} and no result{why}")
            self._outcome = outcome
        return self._outcome

    def result(self) -> Any:
        outcome = self._wait()
        if outcome[0] == "ok":
            return outcome[1]
        _, err, text = outcome
        if isinstance(err, BaseException):
            err.add_note(f"(raised in a forked parkland process)\n{text}")
            raise err
        raise ChildFailed(text)

    def cancel(self) -> None:
        """Stop the child and reap it (when its result is no longer wanted, e.g. after an error here)."""
        if self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):  # it had just ended
            os.kill(self._pid, signal.SIGKILL)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        os.waitpid(self._pid, 0)
        self._pid = None
        self._outcome = ("error", None, "cancelled")

    def __del__(self) -> None:  # no stray child when the parent drops the job without asking
        with contextlib.suppress(Exception):
            self.cancel()


def fork_call(fn: Callable[[], Any]) -> Forked:
    """Start ``fn()`` in a forked child process; ``.result()`` gives its return value. Raises
    :class:`ForkFailed` when the OS cannot fork."""
    return Forked(fn)


def read_key(what: str, path: Any, *options: Any) -> tuple:
    """The key under which a reader's call on ``path`` is prefetched and claimed."""
    return (what, os.path.realpath(os.fspath(path)), *options)


#: calls started ahead of time by :func:`prefetch`, by key, until :func:`claim` takes them
_PREFETCHED: dict[tuple, Forked] = {}


def prefetch(key: tuple, fn: Callable[[], Any]) -> bool:
    """Start ``fn()`` in a forked child now, for :func:`claim` with the same ``key`` to take later (the
    command starts reading the firm table before it has imported the vector stack). False when nothing
    was started: forking is not safe here (:func:`can_fork`), or it failed."""
    if key in _PREFETCHED or not can_fork():
        return False
    try:
        _PREFETCHED[key] = fork_call(fn)
    except ForkFailed:
        return False
    return True


def claim(key: tuple) -> Forked | None:
    """The call :func:`prefetch` started under ``key`` (now the caller's to wait for or cancel), or None."""
    return _PREFETCHED.pop(key, None)


def drop_prefetched() -> None:
    """Stop and reap every prefetched call nobody claimed (a run that failed before reading its input)."""
    while _PREFETCHED:
        _, job = _PREFETCHED.popitem()
        job.cancel()
