"""Two cores without a framework: run one call in a forked child process while this one goes on.

Used where the single-machine flow has two independent pieces of about equal work: reading the firm
table while the parcel layer is read (:func:`parkland.pipeline.assess`), and writing the lists while the
parcel layer and the map are written (:mod:`parkland.report.output`). A fork shares the parent's memory
copy-on-write, so nothing is copied up front; the child's result comes back pickled through a pipe.

Forking is used only when it is safe and useful (:func:`can_fork`): POSIX, two or more cores, and no
other thread in the process (a fork copies only the calling thread, so a dask client's or a notebook
kernel's threads would be lost in the child). ``PARKLAND_JOBS=1`` turns it off.
"""

from __future__ import annotations

import os
import pickle
import threading
import traceback
from collections.abc import Callable
from typing import Any


def can_fork() -> bool:
    """True when a forked helper process is safe and useful here (see the module text)."""
    if os.environ.get("PARKLAND_JOBS", "").strip() == "1" or not hasattr(os, "fork"):
        return False
    if (os.cpu_count() or 1) < 2:
        return False
    others = [t for t in threading.enumerate() if t is not threading.current_thread()
              and type(t).__name__ != "TMonitor"]  # tqdm's idle monitor thread is harmless
    return not others


class Forked:
    """A call running in a forked child; :meth:`result` waits for it and returns its value (or raises
    ``ChildFailed`` with the child's traceback)."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child; its result is checked by the parent
            os.close(r)
            code = 0
            try:
                payload = pickle.dumps(("ok", fn()), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                code = 1
                payload = pickle.dumps(("error", traceback.format_exc()[-4000:]))
            try:
                with os.fdopen(w, "wb") as fh:
                    fh.write(payload)
            finally:
                os._exit(code)
        os.close(w)
        self._pid, self._fd, self._done = pid, r, False
        self._value: Any = None

    def result(self) -> Any:
        if not self._done:
            with os.fdopen(self._fd, "rb") as fh:
                data = fh.read()
            _, status = os.waitpid(self._pid, 0)
            self._done = True
            code = os.waitstatus_to_exitcode(status)
            try:
                kind, value = pickle.loads(data)
            except Exception:  # the child died before it could say (killed, out of memory)
                kind, value = "error", f"the child process ended with exit code {code} and no result"
            if kind != "ok":
                raise ChildFailed(value)
            self._value = value
        return self._value


    def __del__(self) -> None:  # an error in the parent before the result was asked for: no stray child
        import contextlib

        with contextlib.suppress(Exception):  # interpreter shutdown
            self.cancel()

    def cancel(self) -> None:
        """Stop the child (when its result is no longer wanted, e.g. after an error here)."""
        if not self._done:
            import contextlib
            import signal

            with contextlib.suppress(ProcessLookupError):  # it had just ended
                os.kill(self._pid, signal.SIGKILL)
            os.close(self._fd)
            os.waitpid(self._pid, 0)
            self._done = True


class ChildFailed(RuntimeError):
    """The forked call raised; the message is the child's traceback."""


def fork_call(fn: Callable[[], Any]) -> Forked:
    """Start ``fn()`` in a forked child process; ``.result()`` gives its return value."""
    return Forked(fn)
