"""A query's result table, shown as HTML or turned into a pandas DataFrame."""
from __future__ import annotations

import html
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple


class Result:
    """One result table: ``columns`` as ``[{"name", "type"}]`` and ``rows`` as lists of cells.

    Types are mlmodel's: LONG, DOUBLE, TEXT, BOOLEAN, DATETIME (an ISO 8601
    string with its offset), JSON (any JSON value). Shown in a notebook as an
    HTML table; ``to_dataframe()`` gives a typed DataFrame.
    """

    def __init__(self, columns: Sequence[dict], rows: Sequence[Sequence[Any]]):
        self.columns: List[dict] = [{"name": c["name"], "type": c["type"]} for c in columns]
        self.rows: List[List[Any]] = [list(r) for r in rows]
        #: By column position, what a name/value table (summary) says of each value in its own type, by the row's
        #: name: ``{"cdate": {"type": "DATETIME", "value": "2019-…Z"}, …}`` (the column's ``typed``).
        self.typed: Dict[int, Dict[str, dict]] = {i: dict(c["typed"]) for i, c in enumerate(columns) if isinstance(c.get("typed"), dict)}

    def typed_values(self, column: int) -> Optional[List[Tuple[str, Any]]]:
        """The column's values each as (type, value) in its own type, when the table says so (a summary's value
        column, with its name column still there); None otherwise."""
        typed = self.typed.get(column)
        at = self._name_column()
        if typed is None or at is None:
            return None
        out = []
        for r in self.rows:
            t = typed.get(r[at]) if at < len(r) else None
            out.append((t["type"], t["value"]) if t else ("TEXT", r[column] if column < len(r) else None))
        return out

    def _name_column(self) -> Optional[int]:
        return next((i for i, c in enumerate(self.columns) if c["name"] == "name" and c["type"] == "TEXT"), None)

    @property
    def names(self) -> List[str]:
        return [c["name"] for c in self.columns]

    def __len__(self) -> int:
        return len(self.rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Result) and other.columns == self.columns and other.rows == self.rows

    def __repr__(self) -> str:
        n = len(self.rows)
        head = " | ".join(self.names)
        body = "\n".join(" | ".join(_plain(v) for v in r) for r in self.rows[:20])
        more = f"\n… {n - 20} more" if n > 20 else ""
        return f"{head}\n{body}{more}\n({n} row{'' if n == 1 else 's'})"

    def _repr_html_(self) -> str:
        return to_html(self)

    def to_dataframe(self):
        """The rows as a pandas DataFrame with a dtype per column type (pandas must be installed)."""
        return to_dataframe(self)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_html(result: Result) -> str:
    """Like the console's ``--format html``: every cell escaped, column types as data attributes."""
    esc = lambda s: html.escape(s, quote=True)  # noqa: E731
    head = "".join(f'<th data-type="{esc(c["type"])}">{esc(c["name"])}</th>' for c in result.columns)
    rows = "\n".join("<tr>" + "".join(f"<td>{esc(_plain(v))}</td>" for v in r) + "</tr>" for r in result.rows)
    n = len(result.rows)
    return (
        f'<table class="mlmodel">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n'
        f"<p>{n} row{'' if n == 1 else 's'}</p>"
    )


def to_dataframe(result: Result):
    import pandas as pd

    data = {}  # keyed by position, so that repeated column names survive
    for i, col in enumerate(result.columns):
        values = [r[i] if i < len(r) else None for r in result.rows]
        kind = col["type"]
        if kind == "LONG":
            series = pd.Series(values, dtype="Int64")
        elif kind == "DOUBLE":
            series = pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
        elif kind == "BOOLEAN":
            series = pd.Series(values, dtype="boolean")
        elif kind == "DATETIME":
            # ISO 8601 with each value's own offset: held as UTC instants.
            raw = pd.Series(values, dtype="object")
            try:
                series = pd.to_datetime(raw, utc=True, format="ISO8601")
            except (TypeError, ValueError):  # pandas < 2 has no format="ISO8601"
                series = pd.to_datetime(raw, utc=True)
        elif kind == "TEXT" and result.typed_values(i) is not None:
            # A summary's values: each in the type the table gives it (numbers, times, lists), not read from its text.
            series = pd.Series([_typed_cell(pd, t, v) for t, v in result.typed_values(i)], dtype="object")
        elif kind == "TEXT":
            series = pd.Series(values, dtype="object")
        else:  # JSON: the decoded values as they are
            series = pd.Series(values, dtype="object")
        data[i] = series
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(result.rows)))
    frame.columns = result.names
    frame.attrs["mlmodel_types"] = {c["name"]: c["type"] for c in result.columns}
    for i in result.typed:
        typed = result.typed_values(i)
        if typed is not None:
            # Which type each row's value has, by the row's name: {"id": "LONG", "cdate": "DATETIME", …}.
            at = result._name_column()
            frame.attrs["mlmodel_value_types"] = {str(r[at]): t for r, (t, _) in zip(result.rows, typed)}
    return frame


def _typed_cell(pd, kind: str, value: Any) -> Any:
    """One value of a typed name/value column: LONG an int, DOUBLE a float, BOOLEAN a bool, DATETIME a UTC
    pandas Timestamp, JSON and TEXT as decoded; None stays None."""
    if value is None:
        return None
    if kind == "LONG":
        return int(value)
    if kind == "DOUBLE":
        return float(value)
    if kind == "BOOLEAN":
        return bool(value)
    if kind == "DATETIME":
        return pd.Timestamp(value).tz_convert("UTC")
    return value
