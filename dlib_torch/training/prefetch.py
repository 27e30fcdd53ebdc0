"""Training batches prepared off the critical path: a background thread draws the next batches ahead.

The thread draws from its own copy of the data random state, in the order the main thread would, so the
batches are the same. Each batch carries the random state as of its draw; when the training loop takes a
batch, the caller's random state is set to that one. A checkpoint therefore holds the state as of the next
batch the model consumes, not as advanced by batches drawn ahead, and a resumed run draws what an uninterrupted
one draws. On CUDA the thread copies each batch from pinned memory to the device on its own stream, without
blocking; the training loop's stream waits for that copy only. An exception in the thread is raised by the
next `next()` in the main thread; leaving the context stops and joins the thread.
"""
import queue
import threading
import time

from absl import logging
import numpy as np
import torch

from dlib_torch.training import batches

_PUT_POLL_SECONDS = 0.05
_JOIN_SECONDS = 60.0


def batch_stream(source, random_state, prefetch_batches):
    """The batches of `source` drawn with `random_state`: a Prefetcher when `prefetch_batches` > 0, else drawn
    in the calling thread. Use as a context manager; `next()` returns one batch."""
    if prefetch_batches > 0:
        return Prefetcher(source, random_state, prefetch_batches)
    return InlineBatches(source, random_state)


class InlineBatches:
    """Batches drawn in the calling thread when asked for (prefetch off)."""

    def __init__(self, source, random_state):
        self.source, self.random_state = source, random_state

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def next(self):
        started = time.perf_counter()
        batch = self.source.draw(self.random_state)
        self.source.wait_seconds += time.perf_counter() - started
        self.source.batches_taken += 1
        return batch


class Prefetcher:
    """Draws up to `depth` batches ahead of the training loop in a background thread (see the module docstring)."""

    def __init__(self, source, random_state, depth):
        self.source, self.random_state = source, random_state
        self._thread_state = np.random.RandomState()
        self._thread_state.set_state(random_state.get_state())
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error = None
        self._stream = torch.cuda.Stream(source.device) if source.device.type == "cuda" else None
        self._thread = threading.Thread(target=self._run, name="dtl-prefetch", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def next(self):
        """The next batch, on the device; raises what the thread raised."""
        if self._error is not None:  # the thread has ended
            raise self._error
        started = time.perf_counter()
        batch, state, copied, error = self._queue.get()
        if error is not None:
            self._error = error
            raise error
        if copied is not None:
            stream = torch.cuda.current_stream(self.source.device)
            stream.wait_event(copied)
            batches.map_tensors(lambda t: t.record_stream(stream), batch)  # the allocator keeps it until used
        self.random_state.set_state(state)
        batch = self.source.finish(batch)
        self.source.wait_seconds += time.perf_counter() - started
        self.source.batches_taken += 1
        return batch

    def close(self):
        """Stops the thread (it finishes the draw under way) and waits for it."""
        self._stop.set()
        while True:  # unblock a thread waiting to put its batch
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._thread.is_alive():
            self._thread.join(_JOIN_SECONDS)
            if self._thread.is_alive():
                logging.warning("The batch prefetch thread did not stop within %.0f s; leaving it (a daemon thread)",
                                _JOIN_SECONDS)

    def _run(self):
        try:
            while not self._stop.is_set():
                batch = self.source.draw_host(self._thread_state)
                state = self._thread_state.get_state()
                copied = None
                if self._stream is not None:
                    batch = batches.map_tensors(lambda t: t.pin_memory(), batch)
                    with torch.cuda.stream(self._stream):
                        batch = self.source.to_device(batch, non_blocking=True)
                        copied = torch.cuda.Event()
                        copied.record(self._stream)
                else:
                    batch = self.source.to_device(batch)
                if not self._put((batch, state, copied, None)):
                    return
        except BaseException as e:  # pylint: disable=broad-except (raised again in the main thread)
            self._put((None, None, None, e))

    def _put(self, item):
        """Queues `item` unless the prefetcher is closed first; True if queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_PUT_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False
