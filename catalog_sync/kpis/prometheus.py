"""Instant queries against Prometheus's HTTP API, each answer turned into one number or one reason.

A KPI's value is a vector of exactly one sample (or a scalar). Anything else is no value, and the
reason says what to change: an empty vector (the series do not exist, or not in this window), several
samples (aggregate them: ``sum(...)``), NaN or an infinity (a division by zero, usually), an error
Prometheus gives (its own words), no answer within ``kpis.timeout_seconds``, or no Prometheus at all.
The query is also sent Prometheus's own ``timeout``, so a heavy query stops there too.
"""

from __future__ import annotations

import json
import math
from typing import Any

import urllib3

from catalog_sync.errors import MeasureError

MAX_ANSWER_BYTES = 1024 * 1024
"""An answer larger than this is refused unread: one sample needs a few hundred bytes."""
_MAX_REASON = 300


class PrometheusClient:
    """Queries one Prometheus (``kpis.prometheus_url``) through a pool of ``pool_size`` connections.

    urllib3 directly rather than requests: a round sends thousands of small queries, and requests'
    per-call work (and its streamed reads) cost several times the query itself. ``Timeout(total=)``
    bounds the whole exchange, so a host that answers a byte at a time is stopped at the setting too.
    """

    def __init__(self, base_url: str, timeout_seconds: float, pool_size: int = 8) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout_seconds
        self._pool = urllib3.PoolManager(num_pools=2, maxsize=max(1, pool_size), retries=False)

    def query(self, expression: str) -> float:
        """The value of ``expression`` now; MeasureError with the reason when there is none."""
        try:
            answer = self._pool.request(
                "GET",
                f"{self.base_url}/api/v1/query",
                fields={"query": expression, "timeout": f"{self.timeout:g}s"},
                timeout=urllib3.Timeout(total=self.timeout),
                preload_content=False,
            )
            try:
                body = answer.read(MAX_ANSWER_BYTES + 1)
            finally:
                answer.release_conn()
        except urllib3.exceptions.NewConnectionError as exc:  # urllib3 files it under timeouts
            raise MeasureError(f"Prometheus at {self.base_url} cannot be reached: {_short(exc)}") from None
        except (urllib3.exceptions.TimeoutError, TimeoutError):
            raise MeasureError(
                f"Prometheus gave no answer within {self.timeout:g} s (kpis.timeout_seconds)"
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise MeasureError(f"Prometheus at {self.base_url} cannot be reached: {_short(exc)}") from None
        return value_of(_document(answer.status, body))

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.clear()


def _document(status: int, body: bytes) -> Any:
    if len(body) > MAX_ANSWER_BYTES:
        raise MeasureError("Prometheus's answer is over 1 MiB: the query returns far more than one sample")
    try:
        document = json.loads(body)
    except ValueError:
        raise MeasureError(f"Prometheus answered HTTP {status} without JSON") from None
    except RecursionError:  # nested past the parser's depth: a reason, not a bug logged per KPI
        raise MeasureError(f"Prometheus answered HTTP {status} with JSON nested too deeply to read") from None
    if not isinstance(document, dict):
        raise MeasureError(f"Prometheus answered HTTP {status} with unexpected JSON")
    if document.get("status") != "success":
        kind = document.get("errorType") or f"HTTP {status}"
        raise MeasureError(f"Prometheus refused the query ({kind}): {_short(document.get('error'))}")
    return document


def value_of(document: dict[str, Any]) -> float:
    """The one number of a successful query answer, or why it has none."""
    data = document.get("data")
    if not isinstance(data, dict):
        raise MeasureError("Prometheus answered without data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return _number(result[1])
    if kind != "vector" or not isinstance(result, list):
        raise MeasureError(
            f"the query gives a {kind}, not a vector of one sample (an instant query is needed)"
        )
    if not result:
        raise MeasureError("the query returned no sample (do the series exist over the window?)")
    if len(result) > 1:
        raise MeasureError(
            f"the query returned {len(result)} samples; one is needed: aggregate it, e.g. sum(...)"
        )
    sample = result[0]
    if not isinstance(sample, dict) or not isinstance(sample.get("value"), list) or len(sample["value"]) != 2:
        raise MeasureError("Prometheus answered with a malformed sample")
    return _number(sample["value"][1])


def _number(text: Any) -> float:
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise MeasureError(f"the sample's value {str(text)[:40]!r} is not a number") from None
    if math.isnan(number):
        raise MeasureError("the query's value is NaN (a division by zero over the window?)")
    if math.isinf(number):
        raise MeasureError("the query's value is infinite (a division by zero over the window?)")
    return number


def _short(text: object) -> str:
    shown = str(text)
    return shown if len(shown) <= _MAX_REASON else shown[: _MAX_REASON - 1] + "…"
