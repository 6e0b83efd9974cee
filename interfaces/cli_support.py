"""What the CLI's command groups share: the container a command runs in, and a SIRET read from an option."""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import TypeAdapter, ValidationError

from application.audit.actor import Actor
from domain.cerfa import Siret
from interfaces.bootstrap import Container, bootstrap


@contextmanager
def running_container() -> Iterator[Container]:
    container = bootstrap()
    try:
        yield container
    finally:
        container.close()


def siret_option(value: str, option: str) -> str:
    """The SIRET given to `option`, normalised; a usage error naming the option when it is not one."""
    try:
        return TypeAdapter(Siret).validate_python(value)
    except ValidationError as error:
        raise typer.BadParameter(error.errors()[0]["msg"], param_hint=option) from None


def operator_actor() -> Actor:
    """The operator at this machine's command line, as the events it stores name them (application.audit)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = f"uid{os.getuid()}"
    return Actor(kind="operator", name=f"{user}@{socket.gethostname()}")
