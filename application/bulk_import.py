"""Bulk import of JSON lines (events and authorization requests) through the same use cases
as the API: :meth:`Tracker.record` for events, :meth:`Tracker.authorize` for requests.

How a file is imported
----------------------
1. **Index**: one pass over the file notes where each line starts and whose patient it is.
   Lines may come in any order across patients (claims feeds are sorted by date).
2. **Groups of patients**, in order of first appearance, each about ``batch_size * 4``
   lines: their lines are read, parsed by the entry point's parser (the API's own request
   models, so the same field-level reasons), and each patient's lines are put in clinical
   order (:func:`line_key`): by date, and on one date surgery/pathology, authorization
   requests, procedures, outcomes, voids (a void sits with what it voids). So an outcome
   may come before its procedure in the file, and an authorization request is decided on
   exactly what the patient's history says happened before its date of service, whatever the
   file's order.
3. **Waves**: the events of every patient of the group up to its next authorization request
   are recorded in transactions of at most ``batch_size`` events; then those requests are
   decided and recorded; and so on until the group is done.

A rejected line never stops the import: it is reported (line number, status, the same
field-level reasons the API gives) and the rest of its transaction is recorded without it.
Resending is idempotent: events already stored with the same content count as duplicates,
an authorization id already recorded as a duplicate (with other content: rejected, 409). A checkpoint (which groups are done,
and the counts so far) is written after every group, so a killed import resumes where it
stopped; a group cut short is simply redone, its stored events counting as duplicates.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol

from domain.catalog import CatalogError
from domain.commands import (
    Authorize,
    EventCommand,
    RecordPathology,
    RecordProcedure,
    RecordSurgery,
    ReportOutcome,
    VoidEvent,
)
from domain.errors import EventIdConflict, FieldError, InvalidInput, WriteContention
from policies.engine import PolicyLookupError

AUTHORIZATION_REQUEST = "authorization_request"
"""The ``type`` of a line that asks for an authorization: the ``POST /v1/authorizations``
body (``authorization_id``, ``patient_id``, ``policy_set``, ``procedure``, ``clinical``) with
``"type": "authorization_request"``. It is decided through the authorize use case, so the
stored decision is what the rules decide at import time."""
Command = EventCommand | Authorize

# Same-day order (see line_key).
RANK: dict[str, int] = {
    "surgery_performed": 0,
    "pathology_diagnosed": 0,
    AUTHORIZATION_REQUEST: 1,
    "procedure_performed": 2,
    "outcome_reported": 3,
    "event_voided": 4,
}
_LAST_DAY = date.max.toordinal()
_PATIENT = re.compile(rb'"patient_id"\s*:\s*"([A-Za-z0-9._-]{1,64})"')


class Parser(Protocol):
    """Turns one decoded JSON line into a command, or raises :class:`InvalidInput` with the
    field-level reasons (the entry point's own validation: for the CLI, the API models)."""

    def __call__(self, body: Any) -> Command: ...


class Target(Protocol):
    """What an import writes through (the tracker's use cases)."""

    def record(self, commands: Sequence[EventCommand]) -> Sequence[Any]: ...

    def authorize_each(self, commands: Sequence[Authorize]) -> list[tuple[dict[str, Any], bool]]:
        """Decide and record; each answer with whether it was recorded now (False: a
        duplicate of one recorded before or earlier in ``commands``)."""
        ...


# ------------------------------------------------------------------------------ results


@dataclass
class ImportSummary:
    """Counts of an import (a resumed import includes the runs before it)."""

    lines: int = 0
    recorded: int = 0
    duplicate: int = 0
    rejected: int = 0
    authorizations: dict[str, int] = field(default_factory=dict)  # decision -> count
    seconds: float = 0.0
    resumed_from_line_groups: int = 0

    @property
    def events_per_second(self) -> float:
        return (self.recorded + self.duplicate) / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"events_per_second": round(self.events_per_second, 1)}

    def describe(self) -> str:
        decided = ", ".join(f"{n} {d}" for d, n in sorted(self.authorizations.items()))
        return (
            f"{self.lines} lines: {self.recorded} recorded, {self.duplicate} duplicate, "
            f"{self.rejected} rejected"
            + (f"; authorizations decided: {decided}" if decided else "")
            + f" in {self.seconds:.1f}s ({self.events_per_second:.0f} lines/s)"
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    """One line not imported: its number (1-based), the status the API would answer and the
    field-level reasons."""

    line: int
    status: int
    reasons: list[FieldError]
    text: str

    def as_json(self) -> dict[str, Any]:
        reasons = [
            {"field": r.field, "message": r.message}
            | ({"event_id": r.event_id} if r.event_id else {})
            for r in self.reasons
        ]
        return {"line": self.line, "status": self.status, "reasons": reasons, "input": self.text}


@dataclass(slots=True)
class _Item:
    line: int
    patient_id: str
    kind: str
    command: Command
    text: str
    day: int  # clinical date ordinal (voids: their target's)
    event_id: str | None


def line_key(item: _Item) -> tuple[int, int, int]:
    """The import order of a patient's lines: clinical date, same-day rank, line number."""
    return (item.day, RANK[item.kind], item.line)


def _day_of(command: Command) -> int:
    if isinstance(command, (RecordProcedure, Authorize)):
        return command.procedure.date_of_service.toordinal()
    if isinstance(command, ReportOutcome):
        return command.assessed_on.toordinal()
    if isinstance(command, (RecordSurgery, RecordPathology)):
        return command.date.toordinal()
    return _LAST_DAY


def _kind(command: Command) -> str:
    return AUTHORIZATION_REQUEST if isinstance(command, Authorize) else command.type


# ------------------------------------------------------------------------------ the index


@dataclass
class _Index:
    """Where each line starts, and each patient's line numbers in file order."""

    offsets: array[int]
    patients: dict[str, list[int]]
    unrouted: list[int]  # lines without a readable patient_id: rejected as they are
    lines: int  # not counting blank lines
    blank: int


def _index(stream: BinaryIO, on_bytes: Callable[[int], None] | None = None) -> _Index:
    offsets: array[int] = array("q")
    patients: dict[str, list[int]] = {}
    unrouted: list[int] = []
    position = 0
    number = 0
    blank = 0
    for raw in stream:
        number += 1
        offsets.append(position)
        position += len(raw)
        if on_bytes is not None:
            on_bytes(len(raw))
        if not raw.strip():
            blank += 1
            continue
        found = _PATIENT.findall(raw)
        patient: Any = found[0].decode() if len(found) == 1 else None
        if patient is None:
            try:
                body = json.loads(raw)
                patient = body.get("patient_id") if isinstance(body, dict) else None
            except ValueError:
                patient = None
        if isinstance(patient, str) and patient:
            patients.setdefault(patient, []).append(number)
        else:
            unrouted.append(number)
    return _Index(offsets, patients, unrouted, number - blank, blank)


def _groups(index: _Index, target_lines: int) -> list[list[str]]:
    """Patients in order of first appearance, cut into groups of about ``target_lines``."""
    first = sorted(index.patients, key=lambda p: index.patients[p][0])
    groups: list[list[str]] = []
    current: list[str] = []
    size = 0
    for patient in first:
        current.append(patient)
        size += len(index.patients[patient])
        if size >= target_lines:
            groups.append(current)
            current, size = [], 0
    if current:
        groups.append(current)
    return groups


# ------------------------------------------------------------------------------ checkpoint


@dataclass
class Checkpoint:
    """Progress of an import of one file into one store, saved after every group."""

    path: Path
    identity: str

    def load(self) -> tuple[int, ImportSummary] | None:
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if saved.get("identity") != self.identity:
            return None
        summary = ImportSummary(**saved["summary"])
        return int(saved["groups_done"]), summary

    def save(self, groups_done: int, summary: ImportSummary) -> None:
        body = {"identity": self.identity, "groups_done": groups_done, "summary": asdict(summary)}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(body), encoding="utf-8")
        os.replace(tmp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def file_identity(path: Path, store: str, batch_size: int) -> str:
    """What a checkpoint is valid for: the file (size, modification time, first and last
    64 KiB), the store and the batch size (which decides the groups)."""
    stat = path.stat()
    digest = hashlib.sha256()
    digest.update(f"{stat.st_size}:{stat.st_mtime_ns}:{store}:{batch_size}".encode())
    with path.open("rb") as f:
        digest.update(f.read(65536))
        if stat.st_size > 65536:
            f.seek(max(0, stat.st_size - 65536))
            digest.update(f.read(65536))
    return digest.hexdigest()


# ------------------------------------------------------------------------------ the import


class Importer:
    """Imports one JSONL file through ``target``; see the module docstring."""

    def __init__(
        self,
        target: Target,
        parse: Parser,
        *,
        batch_size: int = 1000,
        on_reject: Callable[[Rejection], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
        on_stored: Callable[[int, str], None] | None = None,
        retries: int = 5,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.target = target
        self.parse = parse
        self.batch_size = batch_size
        self.on_reject = on_reject
        self.on_progress = on_progress
        self.on_stored = on_stored  # (line number, "recorded" | "duplicate")
        self.retries = retries
        self.summary = ImportSummary()

    # -- entry

    def run(
        self,
        path: Path,
        checkpoint: Checkpoint | None = None,
        on_index: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        started = time.perf_counter()
        with path.open("rb") as stream:
            index = _index(stream, on_index)
            groups = _groups(index, self.batch_size * 4)
            done = 0
            if checkpoint is not None:
                loaded = checkpoint.load()
                if loaded is not None:
                    done, self.summary = loaded
                    self.summary.resumed_from_line_groups = done
            previous = self.summary.seconds
            if on_total is not None:
                on_total(index.lines)
            if done == 0:
                self.summary.lines = index.lines
                self._reject_unrouted(stream, index)
            else:
                skipped = sum(len(index.patients[p]) for g in groups[:done] for p in g)
                self._progress(skipped + len(index.unrouted))
            for number in range(done, len(groups)):
                self._group(stream, index, groups[number])
                self.summary.seconds = previous + time.perf_counter() - started
                if checkpoint is not None:
                    checkpoint.save(number + 1, self.summary)
        self.summary.seconds = previous + time.perf_counter() - started
        if checkpoint is not None:
            checkpoint.clear()
        return self.summary

    # -- reading and parsing

    def _read(self, stream: BinaryIO, index: _Index, number: int) -> str:
        stream.seek(index.offsets[number - 1])
        return stream.readline().decode("utf-8", errors="replace").rstrip("\r\n")

    def _parsed(self, number: int, text: str) -> Command | None:
        """The line's command, or None after rejecting it with the contract's reasons."""
        try:
            body = json.loads(text)
        except ValueError as exc:
            self._reject(number, 422, [FieldError("body", f"invalid JSON: {exc}")], text)
            return None
        try:
            return self.parse(body)
        except InvalidInput as exc:
            self._reject(number, 422, exc.errors, text)
            return None

    def _reject_unrouted(self, stream: BinaryIO, index: _Index) -> None:
        for number in index.unrouted:
            text = self._read(stream, index, number)
            if self._parsed(number, text) is not None:  # valid but for the patient_id
                self._reject(number, 422, [FieldError("patient_id", "Field required")], text)
        self._progress(len(index.unrouted))

    def _items(self, stream: BinaryIO, index: _Index, patient: str) -> list[_Item]:
        items: list[_Item] = []
        for number in index.patients[patient]:
            text = self._read(stream, index, number)
            command = self._parsed(number, text)
            if command is None:
                continue
            event_id = None if isinstance(command, Authorize) else command.event_id
            items.append(
                _Item(number, patient, _kind(command), command, text, _day_of(command), event_id)
            )
        # A void is ordered with what it voids (when that is in the file).
        days = {item.event_id: item.day for item in items if item.event_id is not None}
        for item in items:
            if isinstance(item.command, VoidEvent):
                item.day = days.get(item.command.voided_event_id, _LAST_DAY)
        items.sort(key=line_key)
        return items

    # -- writing

    def _group(self, stream: BinaryIO, index: _Index, patients: list[str]) -> None:
        queues = {p: deque(self._items(stream, index, p)) for p in patients}
        while queues:
            wave: list[_Item] = []
            for queue in queues.values():
                while queue and queue[0].kind != AUTHORIZATION_REQUEST:
                    wave.append(queue.popleft())
            for start in range(0, len(wave), self.batch_size):
                self._record(wave[start : start + self.batch_size])
            requests: list[_Item] = []
            for patient, queue in list(queues.items()):
                while queue and queue[0].kind == AUTHORIZATION_REQUEST:
                    requests.append(queue.popleft())
                if not queue:
                    del queues[patient]
            for start in range(0, len(requests), self.batch_size):
                self._authorize(requests[start : start + self.batch_size])

    def _record(self, items: list[_Item]) -> None:
        pending = items
        while pending:
            commands = [i.command for i in pending]
            try:
                results = self._retrying(lambda: self.target.record(commands))  # noqa: B023
            except (InvalidInput, EventIdConflict) as exc:
                status = 422 if isinstance(exc, InvalidInput) else 409
                by_index: dict[int, list[FieldError]] = {}
                for error in exc.errors:
                    if error.index is None:  # not tied to one event: the batch as a whole
                        raise
                    by_index.setdefault(error.index, []).append(error)
                for position, reasons in sorted(by_index.items()):
                    item = pending[position]
                    cleaned = [FieldError(r.field, r.message, None, r.event_id) for r in reasons]
                    self._reject(item.line, status, cleaned, item.text)
                self._progress(len(by_index))
                pending = [i for n, i in enumerate(pending) if n not in by_index]
                continue
            for item, result in zip(pending, results, strict=True):
                if result.status == "duplicate":
                    self.summary.duplicate += 1
                else:
                    self.summary.recorded += 1
                if self.on_stored is not None:
                    self.on_stored(item.line, result.status)
            self._progress(len(pending))
            return

    def _authorize(self, items: list[_Item]) -> None:
        """Decide and record a wave's requests together (those already recorded are found
        in the same call and counted as duplicates); one that cannot be decided (an unknown
        set, no guideline for its codes) or reuses an id with other content is rejected and
        the others still are recorded."""
        try:
            outcomes = self._retrying(
                lambda: self.target.authorize_each([i.command for i in items])  # type: ignore[misc]
            )
        except (CatalogError, PolicyLookupError, InvalidInput, EventIdConflict):
            if len(items) == 1:
                self._refuse(items[0])
                return
            for item in items:
                self._authorize([item])
            return
        for response, recorded in outcomes:
            self._count(response, recorded)
        self._progress(len(items))

    def _count(self, response: dict[str, Any], recorded: bool) -> None:
        if not recorded:
            self.summary.duplicate += 1
            return
        decision = str(response.get("decision"))
        self.summary.recorded += 1
        self.summary.authorizations[decision] = self.summary.authorizations.get(decision, 0) + 1

    def _refuse(self, item: _Item) -> None:
        """Reject a request with the reasons the API gives for it."""
        assert isinstance(item.command, Authorize)
        status = 422
        try:
            [(response, recorded)] = self.target.authorize_each([item.command])
        except CatalogError as exc:
            reasons = [FieldError(f"procedure.{exc.field}", exc.message)]
        except PolicyLookupError as exc:
            reasons = [FieldError(exc.field, exc.message)]
        except InvalidInput as exc:
            reasons = exc.errors
        except EventIdConflict as exc:
            status, reasons = 409, exc.errors
        else:  # decided after all (a transient failure)
            self._count(response, recorded)
            self._progress(1)
            return
        self._reject(item.line, status, reasons, item.text)
        self._progress(1)

    def _retrying(self, call: Callable[[], Any]) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return call()
            except WriteContention:
                if attempt == self.retries:
                    raise
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def _reject(self, line: int, status: int, reasons: list[FieldError], text: str) -> None:
        self.summary.rejected += 1
        if self.on_reject is not None:
            self.on_reject(Rejection(line, status, reasons, text))

    def _progress(self, n: int) -> None:
        if self.on_progress is not None and n:
            self.on_progress(n)


def spool(source: IO[bytes], directory: str | None = None) -> Path:
    """Copy a stream (stdin) to a temporary file the import can index and seek."""
    handle, name = tempfile.mkstemp(prefix="injtrack-import-", suffix=".jsonl", dir=directory)
    with os.fdopen(handle, "wb") as out:
        while chunk := source.read(1 << 20):
            out.write(chunk)
    return Path(name)


class TrackerTarget:
    """An import's :class:`Target` over the tracker's use cases."""

    def __init__(self, tracker: Any, present: Callable[[Any], dict[str, Any]]) -> None:
        self.tracker = tracker
        self.present = present  # the entry point's JSON form of a decision

    def record(self, commands: Sequence[EventCommand]) -> Sequence[Any]:
        results: Sequence[Any] = self.tracker.record(commands)
        return results

    def authorize_each(self, commands: Sequence[Authorize]) -> list[tuple[dict[str, Any], bool]]:
        outcomes: list[tuple[dict[str, Any], bool]] = self.tracker.authorize_each(
            commands, self.present
        )
        return outcomes
