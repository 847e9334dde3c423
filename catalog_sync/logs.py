"""Log output that cannot carry a credential, whichever module wrote the line.

Repository URLs reach log lines through messages, arguments and exception text (a failing clone
quotes the URL it was given). Redacting at each call is a convention one missed call breaks, so the
redaction runs once more in a filter on every handler: the formatted message, the exception text and
the stack text of every record pass through ``sources.urls.redact`` before any handler writes them.

The same filter shows control characters in a record's arguments as escapes (``textsafe``): arguments
carry what repositories wrote (paths, names, messages), and a newline or a terminal escape there would
forge a log line. The message template and the traceback keep their own line breaks.
"""

from __future__ import annotations

import logging

from catalog_sync.sources.urls import redact
from catalog_sync.textsafe import escape_controls

__all__ = ["LOG_FORMAT", "RedactingFilter", "configure_logging", "redact_log_handlers"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Rewrites a record's text without its credentials; drops nothing."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Always True: the record is kept, only its text changes."""
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _escaped(value) for key, value in record.args.items()}
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _escaped(value: object) -> object:
    """An argument as it may be written: text (and what formats as text) with its controls escaped."""
    if isinstance(value, int | float | bool) or value is None:
        return value
    return escape_controls(str(value))


def redact_log_handlers() -> None:
    """Put the filter on every handler that exists now: the root's, every named logger's (gunicorn's
    among them) and the last-resort handler that writes warnings when nothing is configured."""
    handlers: list[logging.Handler] = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            handlers.extend(logger.handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())


def configure_logging(level: int = logging.INFO) -> None:
    """The long-running commands' log output (timestamp, level, logger), redacted."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    redact_log_handlers()
