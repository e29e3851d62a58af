"""Run a generator one step ahead in a forked process, so reading and writing overlap.

A big import spends about half its time reading and validating the file and half writing it
to the store (benchmarks/bench_import.py). Both are CPU-bound Python, so a thread would only
take turns with the writer under the GIL; a forked reader process runs on the other core.

The child inherits the generator as it stands at the fork (an open file, a parsed header) and
sends each item down a pipe. A pipe holds one item at a time, so the reader is at most one
item ahead and memory stays bounded. An exception in the reader is re-raised in the parent
after the items before it, exactly where the plain generator would have raised it.

The child never touches the parent's database connections, and never keeps them alive: the
store's engines forget their pools in a forked child (`store.make_engine`, SQLAlchemy's
`dispose(close=False)`), and the child closes every inherited socket first thing, without a
word to the server. Otherwise a parent killed with SIGKILL leaves its PostgreSQL session open
through the child, "idle in transaction" with its row locks held, and every later import waits.
The child dies with its parent (`PR_SET_PDEATHSIG` on Linux; elsewhere the pipe breaks on its
next item, since the child holds no copy of the receiving end), and leaves with `os._exit`
through multiprocessing, without running the parent's cleanup.

Fork is only safe in a program with one thread: `can_run_ahead` says when to use it (the
command line and benchmarks; never the Streamlit server, whose uploads are small anyway).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import stat
import sys
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Below this a file is read in a second or two; a reader process is not worth starting.
MIN_BYTES = 16 * 1024 * 1024


class ReaderStopped(RuntimeError):
    """The reader process ended without finishing (killed, or out of memory)."""


def can_run_ahead(path: str | Path, min_bytes: int | None = None) -> bool:
    """Whether a file is worth a reader process and this program may fork one."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return False
    return (
        size >= (MIN_BYTES if min_bytes is None else min_bytes)
        and (os.cpu_count() or 1) >= 2
        and threading.active_count() == 1
        and "fork" in multiprocessing.get_all_start_methods()
    )


def run_ahead(items: Iterator[T]) -> Generator[T, None, None]:
    """Yield what `items` yields, produced in a forked child process one item ahead."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_produce, args=(items, sender, receiver, os.getpid()), name="import-reader", daemon=True
    )
    child.start()
    sender.close()  # the parent only receives; EOF then means the child is gone
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                child.join(timeout=5)
                raise ReaderStopped(
                    f"Proses pembaca berkas berhenti tiba-tiba (kode keluar {child.exitcode})."
                ) from None
            if kind == "item":
                yield payload
            elif kind == "error":
                raise payload
            else:
                return
    finally:
        receiver.close()
        child.join(timeout=5)
        if child.is_alive():  # the parent stopped early (an error while writing): stop reading
            child.terminate()
            child.join(timeout=5)


def _produce(items: Iterator[Any], sender: Any, receiver: Any, parent: int) -> None:
    receiver.close()  # only the parent may hold the receiving end: its death then breaks the pipe
    _die_with_parent(parent)
    _close_inherited_sockets(keep={sender.fileno()})
    try:
        for item in items:
            sender.send(("item", item))
        sender.send(("done", None))
    except OSError:
        pass  # the parent stopped listening (it failed or was interrupted): nothing to tell
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent to raise
        try:
            sender.send(("error", _portable(exc)))
        except OSError:
            pass
    finally:
        sender.close()


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the broken pipe still stops the reader at its next item
    if os.getppid() != parent:  # the parent died between the fork and the prctl
        os._exit(1)


def _close_inherited_sockets(keep: set[int]) -> None:
    """Close the sockets this forked child inherited (the parent's database connections).

    Closing a copy of a descriptor sends nothing to the server (no shutdown, no protocol
    message); the parent's connection goes on, and only the parent now holds it open.
    """
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd < 3 or fd in keep:
            continue
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
        except OSError:
            continue


def _portable(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling both ways, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any failure to round-trip
        return RuntimeError(f"{exc.__class__.__name__}: {exc}")
    return exc
