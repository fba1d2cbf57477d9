"""The loop of the cloud's background worker threads (``influx.drain``, ``notify.worker``).

A worker is one daemon thread per cloud process, started and stopped by the app's lifespan. Its ``round()``
does one batch and returns how long to wait before the next (0: go on at once). A ``StorageError`` (the
database is away) does not end the thread: it is logged, kept as the worker's last error (``failed``, for
/healthz) and the round is tried again a second later. A worker whose thread must outlive its own defects
(``SURVIVES_DEFECTS``) gets the same for any other exception, logged with its trace, after ``DEFECT_PAUSE``.
The wait is on the stop event, so ``stop()`` ends a worker at once, not after its back-off.
"""

from __future__ import annotations

import logging
import threading
from typing import ClassVar, Self

from cloud_ingest.errors import StorageError

STORAGE_PAUSE = 1.0
DEFECT_PAUSE = 5.0


class RoundWorker:
    """The thread, its stop and its loop; a worker names its thread, its log's subject and its round."""

    THREAD: ClassVar[str]  # the thread's name
    SUBJECT: ClassVar[str]  # what a storage failure is logged of ("notify outbox")
    NAME: ClassVar[str]  # what a defect is logged of ("notify worker")
    SURVIVES_DEFECTS: ClassVar[bool] = False

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.THREAD, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.close()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def round(self) -> float:
        """One batch: how long to wait before the next (0 = go on at once)."""
        raise NotImplementedError

    def failed(self, error: str) -> None:
        """A round's failure, kept for /healthz."""
        raise NotImplementedError

    def close(self) -> None:
        """What the worker holds (its HTTP pool), released once its thread is stopped."""

    def _run(self) -> None:
        log = logging.getLogger(type(self).__module__)  # the worker's own logger, as before the loop was shared
        while not self._stop.is_set():
            try:
                delay = self.round()
            except StorageError as exc:  # the database is away: reported, tried again
                self.failed(str(exc))
                log.error("%s: %s", self.SUBJECT, exc)
                delay = STORAGE_PAUSE
            except Exception as exc:  # noqa: BLE001 - re-raised unless the worker must outlive a defect
                if not self.SURVIVES_DEFECTS:
                    raise
                self.failed(f"{type(exc).__name__}: {exc}"[:300])
                log.exception("%s round failed; trying again", self.NAME)
                delay = DEFECT_PAUSE
            if delay:
                self._stop.wait(delay)
