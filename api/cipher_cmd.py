"""``injtrack keys cipher``: generate the secrets of encryption at rest.

Prints ``INJTRACK_CIPHER_KEY=...`` and ``INJTRACK_STREAM_ID_SECRET=...``, one a line, ready
for an environment file. Nothing is stored: keep them in the service's secret store. Losing
them loses the data; they cannot be changed for an existing store (see the README).
"""

from __future__ import annotations

import argparse
from typing import Any

from adapters.protect import generate_secrets


def _cipher(_: argparse.Namespace) -> int:
    for name, value in generate_secrets().items():
        print(f"{name}={value}")
    return 0


def add_cipher_command(keys_commands: Any) -> None:
    """Register ``cipher`` on the subparsers of the ``keys`` group."""
    cmd = keys_commands.add_parser(
        "cipher",
        help="generate the cipher key and stream-id secret of encryption at rest "
        "(prints NAME=value environment lines)",
    )
    cmd.set_defaults(func=_cipher)
