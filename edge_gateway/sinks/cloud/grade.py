"""The grade the regulator published (分级定榜), fetched from the cloud and kept only once it verifies.

With ``cloud.public_key`` configured, one thread asks ``GET {url}/api/v1/grade``
(the gateway's token) when the gateway starts and every
``cloud.grade_poll_seconds``. The answer is a statement the cloud signed
(``sebiao_common.grade_statement``). It is kept in ``grade_statements``, and
so shown on the display, only when:

- its signature verifies with the configured public key (``signature``,
  ``key``: another key signed it),
- it is about this workshop (``workshop``: another workshop's statement),
- it is newer than the newest one kept (``older``: an older statement
  replayed, or another statement under a seq already kept),
- it was not signed over an hour after this gateway's clock (``clock``: the
  gateway's clock is behind, so it could not judge how fresh the grade is).

The kept statement signed again later (same ``seq``, grade and date, a newer
``issued_at``) replaces its copy: ``issued_at`` is then when the cloud last
confirmed the grade, and the display stops showing a grade the cloud has not
confirmed for ``display.grade_max_age_hours`` (a gateway cut off from the
cloud cannot go on showing a grade the regulator has since lowered).

Anything else is refused, counted in ``sebiao_grade_statements_refused``
(by reason), logged and shown as the worker's ``last_error`` on ``/healthz``
until a good answer comes; the display goes on showing the last verified
grade (or none). The write goes through the pipeline (the store's single
writer), whose commit also tells the live display to redraw.

The cloud's 404 (its JSON error) is "nothing published yet": nothing changes;
a 404 of another server (an older cloud without the endpoint, a wrong url) is
an error. No answer, or another status, is an error shown on ``/healthz``.
After an answer (a refusal too) the next fetch is at the next poll; after an
outage (no answer, 429, 5xx) sooner, backing off from a quarter second to
``retry_max_seconds`` (never past the poll; a Retry-After is a floor). The
body is read up to ``MAX_ANSWER`` bytes within ``timeout_seconds`` in all.
The thread is the worker's own: the pipeline only runs the short write.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable

import urllib3
from prometheus_client import CollectorRegistry, Counter

from edge_gateway.core.engine import Engine, Outcome
from edge_gateway.core.pipeline import Pipeline
from edge_gateway.sinks.cloud.config import CloudSettings
from sebiao_common import strict_json
from sebiao_common.errors import SebiaoError
from sebiao_common.grade_statement import GradeStatement, StatementRefused, verify
from sebiao_common.http_answers import RETRY, backoff, classify, parse_retry_after, sink_pool

log = logging.getLogger(__name__)
MAX_ANSWER = 16 * 1024  # a statement is a few hundred bytes
CLOCK_SLACK_MS = 3600 * 1000  # how far a statement may be signed ahead of this gateway's clock (a clock's drift)


class GradeFetcher:
    def __init__(self, settings: CloudSettings, workshop: str, keep: Callable[[GradeStatement, str], str],
                 registry: CollectorRegistry) -> None:
        """``keep(statement, text)``: stores a verified statement unless an as new one is kept; answers
        ``stored``, ``confirmed`` (the kept one, signed again later), ``same`` or ``older``."""
        assert settings.public_key is not None
        self.settings, self.workshop, self.keep = settings, workshop, keep
        self.key = settings.public_key
        self.http = sink_pool(settings.timeout_seconds)
        self.headers = {"Authorization": f"Bearer {settings.token}", "Accept": "application/json"}
        self.refused = Counter("sebiao_grade_statements_refused", "Grade statements from the cloud refused, by "
                               "reason (signature, key, workshop, older, clock, malformed)", ["reason"],
                               registry=registry)
        self.verified = Counter("sebiao_grade_statements_verified", "Grade statements from the cloud that "
                                "verified and were newer than the newest kept", registry=registry)
        self.last_error: str | None = None
        self._outage: float | None = None  # set by fetch when the cloud did not answer, or answered 429/5xx:
        # its Retry-After (0: none)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sebiao-grade", daemon=True)

    # -- SinkStatus, for /healthz -------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def depth(self) -> int:
        return 0  # nothing waits to be sent

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.http.clear()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._outage = None
            try:
                self.last_error = self.fetch()
            except SebiaoError as exc:  # the store could not keep it: told, tried again at the next poll
                self.last_error = f"grade: {exc}"
            if self.last_error:
                log.warning("%s", self.last_error)
            failures = failures + 1 if self._outage is not None else 0
            self._stop.wait(self._next_wait(failures))

    def _next_wait(self, failures: int) -> float:
        """Seconds to the next fetch: the poll after an answer (a refusal too: asking again sooner would not
        change it); after an outage, sooner, backing off (``retry_max_seconds`` at most, a Retry-After as a
        floor), so a gateway started while the cloud was away shows the grade soon after it is back."""
        poll = self.settings.grade_poll_seconds
        if not failures:
            return poll
        return backoff(failures=failures - 1, cap=min(poll, self.settings.retry_max_seconds),
                       retry_after=self._outage or None)

    # -- one fetch ----------------------------------------------------------------------

    def fetch(self) -> str | None:
        """One request; the error to show on /healthz, or None."""
        try:
            answer = self.http.request("GET", self.settings.grade_url, headers=self.headers,
                                       preload_content=False)
            complete = False
            try:
                body = self._read(answer)
                complete = len(body) <= MAX_ANSWER
            finally:
                if not complete:  # the rest of the answer unread: this connection is not for the next request
                    answer.close()
                answer.release_conn()
        except (urllib3.exceptions.HTTPError, TimeoutError) as exc:
            self._outage = 0.0
            return f"grade: the cloud did not answer: {type(exc).__name__}: {exc}"[:500]
        if classify(answer.status) == RETRY:  # 429, 5xx: the cloud is there but cannot answer now
            self._outage = parse_retry_after(answer.headers.get("Retry-After")) or 0.0
        if answer.status == 404:  # the cloud's own "nothing published yet"; another 404 is not the cloud's
            return None if _cloud_error(body) else (
                f"grade: {self.settings.grade_url} is not found: is the cloud older than this gateway, or the url "
                "wrong?")
        if answer.status != 200:
            return f"grade: the cloud answered {answer.status}: {body[:300].decode('utf-8', 'replace')}"
        try:
            if len(body) > MAX_ANSWER:
                raise StatementRefused("malformed", f"the answer is over {MAX_ANSWER} bytes")
            try:
                doc = strict_json.loads(body)
            except strict_json.JsonError as exc:
                raise StatementRefused("malformed", f"not JSON: {exc}") from exc
            statement = verify(doc, self.key, self.workshop)
            done = self._keep(statement, strict_json.dumps(doc, separators=(",", ":")))
            if done == "older":
                raise StatementRefused("older", f"statement {statement.seq} is not newer than the one kept: "
                                                "an older statement replayed")
            if done == "clock":
                raise StatementRefused("clock", f"the statement was signed at {statement.issued_at} ms, over "
                                                f"{CLOCK_SLACK_MS // 60000} min after this gateway's clock: is the "
                                                "gateway's clock right? (a grade is shown only while it is fresh)")
        except StatementRefused as exc:
            self.refused.labels(exc.reason).inc()
            return f"grade statement refused ({exc.reason}): {exc}"
        if done == "stored":
            self.verified.inc()
            log.info("grade %s (effective %s) verified, statement %d", statement.grade, statement.effective,
                     statement.seq)
        return None

    def _read(self, answer: urllib3.BaseHTTPResponse) -> bytes:
        """At most ``MAX_ANSWER + 1`` bytes of the body, within ``timeout_seconds`` in all: a server trickling
        its answer a byte at a time (each byte within the read timeout) is cut off, not waited for for hours."""
        deadline = time.monotonic() + self.settings.timeout_seconds
        body = b""
        while len(body) <= MAX_ANSWER:
            chunk = answer.read1(MAX_ANSWER + 1 - len(body))
            if not chunk:
                return body
            body += chunk
            if time.monotonic() > deadline:
                raise TimeoutError(f"the answer took over {self.settings.timeout_seconds:g} s")
        return body

    def _keep(self, statement: GradeStatement, text: str) -> str:
        try:
            return self.keep(statement, text)
        except FutureTimeout as exc:
            raise SebiaoError("the store did not answer within 30 s") from exc


def _cloud_error(body: bytes) -> bool:
    """Whether a body is the cloud's error answer (``{"error": "中文 / English"}``)."""
    try:
        doc = strict_json.loads(body)
    except strict_json.JsonError:
        return False
    return isinstance(doc, dict) and isinstance(doc.get("error"), str)


def keep_in_store(pipeline: Pipeline) -> Callable[[GradeStatement, str], str]:
    """``keep`` through the pipeline, the store's single writer (its commit redraws the live display); the
    time received is the pipeline's clock."""
    def keep(statement: GradeStatement, text: str) -> str:
        def action(engine: Engine, now: int, out: Outcome) -> str:
            if statement.issued_at > now + CLOCK_SLACK_MS:  # its freshness could not be judged
                return "clock"
            newest = engine.store.newest_grade_seq(statement.workshop)
            if newest is not None and statement.seq < newest[0]:
                return "older"
            if newest is not None and statement.seq == newest[0]:
                # the one kept, signed again; the same seq saying something else is a forgery or a replay
                if (statement.grade, statement.effective) != newest[1:3]:
                    return "older"
                if statement.issued_at <= newest[3]:
                    return "same"  # an older copy replayed: it confirms nothing new
                engine.store.confirm_grade_statement(seq=statement.seq, issued_at=statement.issued_at,
                                                     received_at=now, statement=text)
                out.changed = True  # the display's "confirmed" date moves on
                return "confirmed"
            engine.store.save_grade_statement(seq=statement.seq, workshop=statement.workshop,
                                              grade=statement.grade, effective=statement.effective,
                                              issued_at=statement.issued_at, received_at=now, statement=text)
            out.changed = True
            return "stored"
        return pipeline.call(action).result(timeout=30)
    return keep


def start_grade_fetcher(settings: CloudSettings | None, pipeline: Pipeline, workshop: str,
                        registry: CollectorRegistry) -> GradeFetcher | None:
    """The worker for ``cloud.public_key`` (None without it: no grade is fetched, none shown), started."""
    if settings is None or settings.public_key is None:
        return None
    fetcher = GradeFetcher(settings, workshop, keep_in_store(pipeline), registry)
    fetcher.start()
    return fetcher
