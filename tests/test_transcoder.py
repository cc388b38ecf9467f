"""The event store decodes with orjson (:class:`adapters.transcodings.OrjsonTranscoder`) and
reads exactly what the library's own JSON transcoder reads from the same bytes: every value
the library's encoder writes, any bytes at all (the same value, or the same error), and every
event of a generated population recorded by the library's transcoder, in the clear and with
the cipher and compression on. Encoding is the library's own: stores written before and after
read the same either way."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    UUIDAsHex,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from adapters.eventstore import (
    InjectionLedger,
    LibraryTranscoderLedger,
    library_mapper,
    utc_now,
)
from adapters.protect import generate_secrets
from adapters.transcodings import ORJSON_MAX_BYTES, OrjsonTranscoder, register_all
from api.demo_cmd import write_population
from api.import_cmd import import_jsonl
from api.settings import Settings
from application.population import PopulationConfig
from application.usecases import Tracker
from domain.events import EVENT_TYPES, BilledCode, LedgerEntry, PatientLedger, PatientRegion
from tests.support import Backend, on_backends

MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def transcoder(kind: type[JSONTranscoder]) -> JSONTranscoder:
    """A transcoder with the registrations the event store makes."""
    made = kind()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        made.register(transcoding)
    register_all(made)
    return made


LIBRARY = transcoder(JSONTranscoder)
FAST = transcoder(OrjsonTranscoder)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types, dicts with their keys in the same order; floats,
    decimals and instants compared by representation (-0.0, NaN, Decimal('1.0'), the offset)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(same, a, b))
    return repr(a) == repr(b)


def outcome(decode: Callable[[bytes], Any], data: bytes) -> tuple[str, Any]:
    try:
        return ("value", decode(data))
    except Exception as exc:
        return ("error", type(exc))


def assert_read_alike(data: bytes) -> None:
    library, fast = outcome(LIBRARY.decode, data), outcome(FAST.decode, data)
    assert library[0] == fast[0], (data, library, fast)
    if library[0] == "value":
        assert same(library[1], fast[1]), (data, library[1], fast[1])
    else:
        assert library[1] is fast[1], (data, library[1], fast[1])


# Values the library's encoder writes: JSON's own, every registered type, and objects that
# look like transcoded ones (known and unknown names, odd data) next to the real ones.
text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
keys = st.sampled_from(["_type_", "_data_", "a", "timestamp", ""]) | text
registered = st.one_of(
    st.dates(),
    st.datetimes(
        timezones=st.none()
        | st.just(UTC)
        | st.builds(timezone, st.integers(-23, 23).map(lambda hours: timedelta(hours=hours)))
    ),
    st.uuids(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(BilledCode, text, st.integers()),
    st.builds(LedgerEntry, text, text, text, text, st.none() | st.dates(), st.none() | text),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.floats(width=32),
    text,
    registered,
)
look_alikes = st.fixed_dictionaries(
    {
        "_type_": st.sampled_from(
            ["date_iso", "datetime_iso", "uuid_hex", "decimal_str", "billed_code", "nope"]
        )
        | st.integers(),
        "_data_": st.just("2025-03-03") | text | st.integers() | st.none(),
    }
)
values = st.recursive(
    scalars | look_alikes,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


@MANY
@given(st.dictionaries(keys, values, max_size=8) | values)
@example({"pain_relief_percent": 2**64, "n": -(2**63) - 1, "f": float("nan")})
@example({"x": {"_type_": "date_iso", "_data_": {"_type_": "date_iso", "_data_": "x"}}})
def test_every_value_the_library_writes_reads_back_the_same(value: Any) -> None:
    try:
        data = LIBRARY.encode(value)
    except (TypeError, ValueError):  # not encodable (e.g. a key that is not a string)
        return
    assert_read_alike(data)


# Bytes near JSON: the library's encodings with tokens spliced in that orjson and the
# library's decoder might read differently (integers beyond 64 bits, NaN, escapes, ...).
tokens = st.sampled_from(
    [
        "NaN",
        "-Infinity",
        "1e400",
        "-0",
        "-0.0",
        "18446744073709551616",
        "-9223372036854775809",
        "9223372036854775807",
        "123456789012345678901234567890",
        "0.1",
        "1E2",
        '"\\ud800"',
        '"\\u005ftype_"',
        '{"\\u005ftype_":"date_iso","_data_":"2025-01-02"}',
        '{"_type_":"date_iso","_data_":"2025-01-02","_data_":"2025-01-03"}',
        '{"a":1,"a":2}',
        "\u2028",
        "\x00",
        " ",
        ",",
        "[",
        "}",
    ]
)


@MANY
@given(values, st.lists(st.tuples(st.integers(0, 10_000), tokens), max_size=3))
def test_any_bytes_read_the_same_value_or_fail_alike(value: Any, splices: Any) -> None:
    try:
        base = LIBRARY.encode(value).decode()
    except (TypeError, ValueError):
        return
    for at, token in splices:
        at %= len(base) + 1
        base = base[:at] + token + base[at:]
    assert_read_alike(base.encode("utf-8", "surrogatepass"))


@MANY
@given(st.binary(max_size=64))
def test_arbitrary_bytes_read_the_same_value_or_fail_alike(data: bytes) -> None:
    assert_read_alike(data)


def test_integers_beyond_64_bits_and_non_finite_numbers_stay_exact() -> None:
    for literal in (b"18446744073709551616", b"-9223372036854775809", b"1e400", b"NaN"):
        state = b'{"n":' + literal + b',"t":{"_type_":"date_iso","_data_":"2025-01-02"}}'
        assert_read_alike(state)
    read = FAST.decode(b'{"n":18446744073709551616}')
    assert read == {"n": 2**64} and type(read["n"]) is int


def test_a_payload_over_the_size_limit_reads_the_same_as_the_library_reads_it() -> None:
    rows = [
        [f"E{n}", "procedure_performed", "lumbar", n * 7919, "2025-01-02", None] for n in range(80)
    ]
    small = LIBRARY.encode({"rows": rows[:2], "t": datetime(2025, 1, 2, tzinfo=UTC)})
    large = LIBRARY.encode({"rows": rows, "t": datetime(2025, 1, 2, tzinfo=UTC)})
    assert len(small) <= ORJSON_MAX_BYTES < len(large)
    for data in (small, large, large.replace(b"7919", b"18446744073709551616")):
        assert_read_alike(data)


# ------------------------------------------------------------------ a generated population


def stored_population(tmp_path: Path, *, encrypted: bool) -> Settings:
    """A generated population (every event type, authorizations decided and recorded)
    written by the library's own transcoder (the event store as it was)."""
    secrets = generate_secrets() if encrypted else {}
    settings = Settings(
        persistence="sqlite",
        db=tmp_path / "store.sqlite",
        view_db=tmp_path / "view.sqlite",
        database_url=None,
        cipher_key=SecretStr(secrets["INJTRACK_CIPHER_KEY"]) if encrypted else None,
        stream_id_secret=SecretStr(secrets["INJTRACK_STREAM_ID_SECRET"]) if encrypted else None,
    )
    lines = tmp_path / "population.jsonl"
    with lines.open("w", encoding="utf-8") as out:
        write_population(PopulationConfig(patients=120, seed=3), out)
    ledger = LibraryTranscoderLedger(env=settings.library_env(), stream_ids=settings.stream_ids)
    try:
        summary = import_jsonl(Tracker(ledger, utc_now), lines)
        assert summary.recorded > 1000
    finally:
        ledger.close()
    return settings


def assert_population_reads_alike(settings: Settings) -> None:
    library = LibraryTranscoderLedger(env=settings.library_env(), stream_ids=settings.stream_ids)
    fast = InjectionLedger(env=settings.library_env(), stream_ids=settings.stream_ids)
    try:
        assert type(fast.mapper.transcoder) is OrjsonTranscoder
        assert type(library.mapper.transcoder) is JSONTranscoder
        assert (fast.mapper.cipher is None) is (settings.cipher_key is None)
        # The bench's rebuild ceiling: the library's transcoder, the store's cipher.
        ceiling = library_mapper(fast)
        assert type(ceiling.transcoder) is JSONTranscoder
        assert ceiling.cipher is fast.mapper.cipher
        assert ceiling.compressor is fast.mapper.compressor
        topics: set[str] = set()
        for notification in library.recorder.select_notifications(None, 10**9):
            expected = library.mapper.to_domain_event(notification)
            for mapper in (fast.mapper, ceiling):
                got = mapper.to_domain_event(notification)
                assert type(got) is type(expected)
                assert same(vars(got), vars(expected)), notification
            topics.add(notification.topic)
        every = {cls.TOPIC for cls in EVENT_TYPES} | {
            PatientRegion.Created.TOPIC,
            PatientLedger.Created.TOPIC,
            PatientLedger.EventsIndexed.TOPIC,
        }
        assert every <= topics, every - topics
    finally:
        library.close()
        fast.close()


def test_every_event_of_a_population_stored_in_the_clear_reads_the_same(tmp_path: Path) -> None:
    assert_population_reads_alike(stored_population(tmp_path, encrypted=False))


def test_every_event_of_an_encrypted_compressed_population_reads_the_same(
    tmp_path: Path,
) -> None:
    assert_population_reads_alike(stored_population(tmp_path, encrypted=True))


def test_what_the_event_store_writes_is_the_library_encoding_byte_for_byte() -> None:
    state = {
        "timestamp": datetime(2025, 3, 3, 12, 0, tzinfo=UTC),
        "date_of_service": date(2025, 3, 3),
        "codes": [BilledCode("64483", 2)],
        "id": uuid.uuid4(),
        "amount": Decimal("1.50"),
        "pain_relief_percent": 55.5,
        "note": "é\u2028\x00",
    }
    assert FAST.encode(state) == LIBRARY.encode(state)


@on_backends("sqlite", "postgres")
def test_the_ceilings_library_transcoder_ledger_uses_the_event_stores_own_tables(
    backend: Backend, tmp_path: Path
) -> None:
    """The bench's ceilings and its store-size query expect the ledger's tables: what the
    library-transcoder ledger writes, the event store reads, on every store."""
    settings = backend.settings
    lines = tmp_path / "population.jsonl"
    with lines.open("w", encoding="utf-8") as out:
        write_population(PopulationConfig(patients=3, seed=3), out)
    library = LibraryTranscoderLedger(env=settings.library_env(), stream_ids=settings.stream_ids)
    try:
        assert import_jsonl(Tracker(library, utc_now), lines).recorded > 10
        written = library.recorder.max_notification_id()
    finally:
        library.close()
    fast = InjectionLedger(env=settings.library_env(), stream_ids=settings.stream_ids)
    try:
        assert LibraryTranscoderLedger.name == InjectionLedger.name
        assert fast.recorder.max_notification_id() == written
    finally:
        fast.close()
