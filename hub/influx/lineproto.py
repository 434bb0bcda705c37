"""InfluxDB line protocol, written by hand because both the 1.x HTTP API and the 2.x/3.x
client take the same text and we want one schema for both.

The one place where values become line protocol, so the one place that checks them: a
value that line protocol cannot carry faithfully raises ``LineProtocolError`` here instead
of becoming a second point, a point in another measurement, or a batch InfluxDB refuses.
The contract (checkpoint/contract/models.py) refuses such values first; this is the wall
behind it, for the hub's own points too.

- No control character anywhere (line protocol has no escape for a newline; InfluxDB
  documents it as unsupported in tag and field values).
- No backslash in a measurement, tag or key: InfluxDB 1.x has no faithful escape for one
  (``green\\`` escapes the space after it; ``green\\\\`` is refused). Empty tags are left out.
- Floats finite, integers within 64 bits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from checkpoint.errors import CheckpointError

FieldValue = float | int | bool | str

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class LineProtocolError(CheckpointError, ValueError):
    """A value line protocol cannot carry as it is."""


def _plain(text: str, what: str) -> str:
    if _CONTROL.search(text):
        raise LineProtocolError(f"{what} {text[:80]!r} has a control character")
    return text


# Keys and tag values are few (low cardinality by design), so checking and escaping each
# once saves a quarter of the hub's per-message CPU.
@lru_cache(maxsize=65536)
def _escape_key(text: str) -> str:
    if "\\" in text:
        raise LineProtocolError(f"tag or key {text[:80]!r} has a backslash")
    _plain(text, "tag or key")
    return text.replace(",", r"\,").replace("=", r"\=").replace(" ", r"\ ")


def _escape_measurement(text: str) -> str:
    if not text or "\\" in text:
        raise LineProtocolError(f"measurement {text[:80]!r} is empty or has a backslash")
    _plain(text, "measurement")
    return text.replace(",", r"\,").replace(" ", r"\ ")


def _field(value: FieldValue) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise LineProtocolError(f"integer {value} is beyond 64 bits")
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LineProtocolError(f"float {value} is not finite")
        return repr(value)
    escaped = _plain(value, "string field").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@dataclass(frozen=True, slots=True)
class Point:
    measurement: str
    tags: dict[str, str]
    fields: dict[str, FieldValue]
    time_ns: int
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def to_line(self) -> str:
        """The point as one line; LineProtocolError if a value cannot be written as is."""
        tags = "".join(
            f",{_escape_key(k)}={_escape_key(v)}" for k, v in sorted(self.tags.items()) if v
        )
        fields = ",".join(f"{_escape_key(k)}={_field(v)}" for k, v in self.fields.items())
        if not fields:
            raise LineProtocolError(f"a {self.measurement!r} point needs a field")
        return f"{_escape_measurement(self.measurement)}{tags} {fields} {self.time_ns}"


# The fast path for the one point the hub writes most, a reading: what ``Point.to_line``
# does, with the tags of each node escaped once and the fields' types known. It goes
# through the same checks (``tests/hub/influx/test_reading_line.py`` holds it to
# ``Point.to_line`` for any reading).


@lru_cache(maxsize=65536)
def tag_prefix(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    """``measurement,k=v,...`` for ``tags`` sorted by key, empty values left out."""
    escaped = "".join(f",{_escape_key(k)}={_escape_key(v)}" for k, v in sorted(tags) if v)
    return _escape_measurement(measurement) + escaped


def float_field(value: float) -> str:
    if not math.isfinite(value):
        raise LineProtocolError(f"float {value} is not finite")
    return repr(value)


def int_field(value: int) -> str:
    if not INT64_MIN <= value <= INT64_MAX:
        raise LineProtocolError(f"integer {value} is beyond 64 bits")
    return f"{value}i"


def string_field(value: str) -> str:
    return _field(value)
