"""Reading several event streams in one query.

The library reads one aggregate's events per query and transaction. A batch touches many
patients and a decision reads all of a patient's region streams, so both ask here instead:
one ``SELECT`` for every stream wanted, each from the version after the one already known.
On the in-memory store (tests, throwaway runs) it falls back to the library's reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent

# Streams per statement: SQLite allows 32,766 parameters, two per stream here.
CHUNK = 500


class StreamReader:
    """Selects the events of many streams after given versions, in one query per chunk."""

    def __init__(self, recorder: AggregateRecorder) -> None:
        self.recorder = recorder
        module = type(recorder).__module__
        self.kind = (
            "sqlite"
            if module.startswith("eventsourcing.sqlite")
            else "postgres"
            if module.startswith("eventsourcing.postgres")
            else "other"
        )

    def select(self, after: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """The events of each stream with a version greater than the one given (0: all),
        in version order. Streams without such events are absent from the result."""
        out: dict[UUID, list[StoredEvent]] = {}
        items = list(after.items())
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            if self.kind == "sqlite":
                self._sqlite(chunk, out)
            elif self.kind == "postgres":
                self._postgres(chunk, out)
            else:
                for stream_id, version in chunk:
                    events = self.recorder.select_events(stream_id, gt=version or None)
                    if events:
                        out[stream_id] = list(events)
        return out

    def select_runs(self, runs: Mapping[UUID, tuple[int, int]]) -> dict[UUID, list[StoredEvent]]:
        """The events of each stream with versions from ``low`` to ``high`` (inclusive), in
        version order, in one query."""
        bounds = {stream_id: (low - 1, high) for stream_id, (low, high) in runs.items()}
        out: dict[UUID, list[StoredEvent]] = {}
        items = list(bounds.items())
        for start in range(0, len(items), CHUNK):
            chunk = items[start : start + CHUNK]
            if self.kind == "sqlite":
                self._sqlite([(i, after) for i, (after, _) in chunk], out, chunk)
            elif self.kind == "postgres":
                self._postgres([(i, after) for i, (after, _) in chunk], out, chunk)
            else:
                for stream_id, (after, high) in chunk:
                    events = self.recorder.select_events(stream_id, gt=after or None, lte=high)
                    if events:
                        out[stream_id] = list(events)
        return out

    def _sqlite(
        self,
        chunk: list[tuple[UUID, int]],
        out: dict[UUID, list[StoredEvent]],
        upto: list[tuple[UUID, tuple[int, int]]] | None = None,
    ) -> None:
        recorder: Any = self.recorder
        params: list[Any] = []
        if upto is None:
            where = " OR ".join(["(originator_id = ? AND originator_version > ?)"] * len(chunk))
            for stream_id, version in chunk:
                params += [stream_id.hex, version]
        else:
            where = " OR ".join(
                ["(originator_id = ? AND originator_version > ? AND originator_version <= ?)"]
                * len(upto)
            )
            for stream_id, (after, high) in upto:
                params += [stream_id.hex, after, high]
        statement = (
            f"SELECT originator_id, originator_version, topic, state FROM "
            f"{recorder.events_table_name} WHERE {where} "
            "ORDER BY originator_id, originator_version"
        )
        # One statement, so no BEGIN: in autocommit mode SQLite runs it as its own read
        # transaction (one snapshot of the WAL), as the library's BEGIN ... ROLLBACK did.
        # The library opens connections with a statement cache of one, so the BEGIN and
        # ROLLBACK around the SELECT made SQLite prepare it again on every read; rows come
        # as plain tuples (no sqlite3.Row lookups by name).
        with recorder.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor().sqlite_cursor
            cursor.row_factory = None
            try:
                rows = cursor.execute(statement, params).fetchall()
            finally:
                cursor.close()
        streams: dict[str, UUID] = {}  # one UUID per stream, not one per row
        current: list[StoredEvent] = []
        for hex_id, version, topic, state in rows:
            known = streams.get(hex_id)
            if known is None:
                known = streams[hex_id] = UUID(hex_id)
                current = out.setdefault(known, [])
            current.append(StoredEvent(known, version, topic, state))

    def _postgres(
        self,
        chunk: list[tuple[UUID, int]],
        out: dict[UUID, list[StoredEvent]],
        upto: list[tuple[UUID, tuple[int, int]]] | None = None,
    ) -> None:
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL, Identifier

        recorder: Any = self.recorder
        statement = SQL(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM {schema}.{table} e "
            "JOIN unnest(%s::uuid[], %s::bigint[], %s::bigint[]) AS w(id, after, upto) "
            "ON e.originator_id = w.id AND e.originator_version > w.after "
            "AND e.originator_version <= w.upto "
            "ORDER BY e.originator_id, e.originator_version"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        ids = [stream_id for stream_id, _ in chunk]
        versions = [version for _, version in chunk]
        highs = [high for _, (_, high) in upto] if upto is not None else [2**62] * len(chunk)
        # One statement, so no BEGIN: the library's connections are in autocommit mode, where
        # PostgreSQL runs it as a transaction of its own (one snapshot), as the library's
        # BEGIN ... ROLLBACK did, in one round trip to the server instead of three. Rows
        # come as plain tuples (no dict per row).
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as c:
            rows = c.execute(statement, [ids, versions, highs]).fetchall()
        current: list[StoredEvent] = []
        previous: UUID | None = None
        for stream_id, version, topic, state in rows:
            if stream_id != previous:
                current = out.setdefault(stream_id, [])
                previous = stream_id
            current.append(StoredEvent(stream_id, version, topic, bytes(state)))
