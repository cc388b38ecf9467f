"""The policy documents decide exactly as the Python definitions they replaced did.

``golden_decisions.txt`` was written by the Python-defined sets, before the documents
replaced them: for 4000 seeded random requests over every shipped set (histories, codes,
dates, attributes, clinical facts) the decision and a digest of the JSON ``POST
/v1/eligibility`` returns. The document-loaded sets must give the same bytes. A deliberate
policy change rewrites the file (``python -m tests.policies.golden``) in the same commit.
"""

from __future__ import annotations

from tests.policies import golden


def test_every_generated_request_is_decided_byte_identically_to_the_golden_file() -> None:
    expected = golden.GOLDEN.read_text(encoding="utf-8").splitlines()
    actual = golden.lines()
    assert len(actual) == len(expected) == golden.COUNT
    differing = [(e, a) for e, a in zip(expected, actual, strict=True) if e != a]
    assert not differing, f"{len(differing)} decisions moved, e.g. {differing[:5]}"


def test_the_corpus_reaches_every_set_and_every_kind_of_answer() -> None:
    rows = [line.split() for line in golden.GOLDEN.read_text(encoding="utf-8").splitlines()]
    seen = {(row[1], row[2]) for row in rows}
    for policy_set in golden.SETS:
        assert (policy_set, "not_eligible") in seen
    assert {verdict for _, verdict in seen} == {
        "eligible",
        "not_eligible",
        "pending_documentation",
        "422",
    }
