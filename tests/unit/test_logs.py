"""The logging configuration: JSON lines in production, text in development, the bound fields in every record, the
service's own loggers at the configured level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from application.log_context import bound, log_fields
from infrastructure.logs import ContextFilter, JsonFormatter, TextFormatter, configure_logging, log_format
from interfaces.cli import cli
from tests.support import settings


def formatted(formatter: logging.Formatter, logger: str = "convergence.test", **extra: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    record = logging.getLogger(logger).makeRecord(logger, logging.INFO, __file__, 1, "sent %s", ("T-1",), None)
    for name, value in extra.items():
        setattr(record, name, value)
    handler.handle(record)
    return stream.getvalue()


def test_a_json_record_is_one_line_with_the_bound_fields_and_its_own() -> None:
    with bound(request_id="req-1", aggregate_id="a-1"):
        line = formatted(JsonFormatter(), version=3, aggregate_id="a-2", color_message="\x1b[36msent\x1b[0m")
    assert line.count("\n") == 1
    document = json.loads(line)
    assert document["message"] == "sent T-1"
    assert document["level"] == "INFO"
    assert document["logger"] == "convergence.test"
    assert document["time"].endswith("+00:00")
    assert document["request_id"] == "req-1"
    assert document["aggregate_id"] == "a-2"  # the record's own field wins over the bound one
    assert document["version"] == 3
    assert "color_message" not in document  # uvicorn's, for a terminal
    assert log_fields() == {}  # unbound once the block ends


def test_a_json_record_carries_its_exception() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("convergence.test.exception")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.error("failed", exc_info=True)
    finally:
        logger.removeHandler(handler)
    document = json.loads(stream.getvalue())
    assert document["message"] == "failed"
    assert "ValueError: boom" in document["exception"]


def test_a_text_record_ends_with_its_fields() -> None:
    with bound(request_id="req-2"):
        line = formatted(TextFormatter(), status=201)
    assert " INFO    convergence.test sent T-1 " in line
    assert line.rstrip().endswith(" sent T-1 status=201 request_id=req-2")


def test_json_in_production_text_elsewhere_unless_told() -> None:
    assert log_format(settings(environment="production")) == "json"
    assert log_format(settings()) == "text"
    assert log_format(settings(log_format="json")) == "json"
    assert log_format(settings(environment="production", log_format="text")) == "text"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = ("convergence", "application", "infrastructure", "interfaces", "uvicorn", "uvicorn.error", "uvicorn.access")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:], root.level = saved
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restored_logging")
def test_the_services_loggers_print_at_the_configured_level(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(settings(environment="production", log_level="debug"))
    logging.getLogger("convergence.sender").debug("a debug record")
    logging.getLogger("application.opco.opco_lookup").info("a module logger")
    logging.getLogger("some.library").info("not shown: libraries log at WARNING")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("convergence.sender", "a debug record"),
        ("application.opco.opco_lookup", "a module logger"),
    ]

    configure_logging(settings(log_level="warning"))
    logging.getLogger("convergence.sender").info("below the level")
    logging.getLogger("convergence.sender").warning("shown as text")
    assert capsys.readouterr().err.split(" ", 1)[1].startswith("WARNING convergence.sender shown as text")


@pytest.mark.usefixtures("database")
def test_serve_hands_uvicorn_the_services_logging_and_no_access_log_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: dict[str, Any] = {}
    monkeypatch.setattr("interfaces.cli.uvicorn.run", lambda *_, **options: ran.update(options))
    monkeypatch.setenv("CONVERGENCE_ENVIRONMENT", "production")
    monkeypatch.setenv("CONVERGENCE_LOG_LEVEL", "warning")
    result = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert ran["access_log"] is False  # convergence.access replaces it
    config = ran["log_config"]
    assert config["formatters"]["service"]["()"] is JsonFormatter
    assert config["loggers"]["convergence"]["level"] == "WARNING"
