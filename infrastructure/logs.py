"""How the service logs: JSON lines in production (one object per record, for a log shipper), readable text in
development; the service's own loggers (`convergence.*`) at the configured level, uvicorn's beside them.

Each record carries the fields bound in `application.log_context` (the request id, the aggregate being sent) and
whatever a call passes as `extra=`. What is logged is ids, states, routes and durations, never a Cerfa's content
(see docs/operations.md, "Logs and metrics").
"""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from application.log_context import log_fields
from infrastructure.settings import Settings

# The attributes every LogRecord has (and uvicorn's terminal colours): anything else was bound or passed as `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message"}
# The packages whose loggers are the service's own (a few modules log under their module name).
OWN_LOGGERS = ("convergence", "application", "infrastructure", "interfaces")


class ContextFilter(logging.Filter):
    """Copies the bound fields into the record (a field passed as `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_fields().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {name: value for name, value in record.__dict__.items() if name not in _STANDARD and name[0] != "_"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the record's fields, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **extra_fields(record),
        }
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(document, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time level logger message key=value …` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s", datefmt="%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        fields = " ".join(f"{name}={value}" for name, value in extra_fields(record).items())
        return f"{line} {fields}" if fields else line


def log_format(settings: Settings) -> Literal["json", "text"]:
    if settings.log_format != "auto":
        return settings.log_format
    return "json" if settings.environment == "production" else "text"


def logging_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the process; also uvicorn's `log_config`, so that each process uvicorn
    starts is configured alike. One handler on the root: the service's loggers and uvicorn's propagate to it."""
    level = settings.log_level.upper()
    formatter = JsonFormatter if log_format(settings) == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"service": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "service",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            **{name: {"level": level} for name in OWN_LOGGERS},
            # uvicorn's own handlers are replaced by the root's; its access log is the service's (convergence.access)
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))
