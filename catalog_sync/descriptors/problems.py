"""A problem found in a descriptor, in the one shape every front door prints.

The CLI, the API, the store and the portal all show problems; keeping their shape and their text form
here means a developer sees the same words in the terminal and in the portal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One error or warning, pointing at file, line, column, field and entity where they are known."""

    path: str
    severity: Severity
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None
    entity_ref: str | None = None

    def format(self) -> str:
        """``path:line:col: error: field: message [ref]``, the form editors and CI logs understand."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.severity}: "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.entity_ref:
            text += f" [{self.entity_ref}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``validate --format json``, in the API's field names (``entityRef``), so a
        script reads the CLI's report and ``POST /api/validate``'s answer alike."""
        return {
            "path": self.path,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "entityRef": self.entity_ref,
        }
