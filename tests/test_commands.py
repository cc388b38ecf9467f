"""Commands are the request's content: the idempotency fingerprint of an event recorded
through HTTP, the CLI or an importer is computed from the same canonical payload."""

from __future__ import annotations

from api.schemas.events import EventBatchIn
from tests.builders import outcome, pathology, procedure, surgery, void


def test_a_commands_payload_is_the_content_the_client_sent_with_defaults_filled_in() -> None:
    batch = EventBatchIn.model_validate(
        {
            "events": [
                procedure(
                    "a",
                    laterality="left",
                    levels=["L4-L5"],
                    authorization_id="auth-1",
                    codes=["64483", ("64484", 2)],
                ),
                procedure("b", provider_id="1234567893"),
                outcome("o", of="a", relief=60),
                surgery("s", levels=["L4-L5"], kind="fusion"),
                pathology("p", icd10="M51.26"),
                void("v", of="a"),
            ]
        }
    )
    for event, command in zip(batch.events, batch.to_commands(), strict=True):
        before = event.model_dump(mode="json")
        if before.get("provider_id", "") is None:
            del before["provider_id"]  # optional and added later: absent from the content
        assert command.payload() == before


def test_payloads_differ_when_any_field_differs() -> None:
    one, other = EventBatchIn.model_validate(
        {"events": [procedure("a", on="2025-03-03"), procedure("a", on="2025-03-04")]}
    ).to_commands()
    assert one.payload() != other.payload()
