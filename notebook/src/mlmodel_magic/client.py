"""Running mlmodel queries from Python: through the CLI's JSON output or the HTTP query API."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import List, Optional, Sequence

from .result import Result


class QueryError(Exception):
    """A query that failed: its error code, message and, for a parse error, where.

    IPython shows it as the message alone (``_render_traceback_``), like the
    console's own error output, without a Python traceback.
    """

    def __init__(self, code: str, message: str, *, line: Optional[int] = None, column: Optional[int] = None,
                 length: int = 1, display: Optional[str] = None, status: Optional[int] = None):
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.length = length
        self.status = status
        self.display = display or f"mlmodel: {message} ({code})"
        #: The results of the statements of the cell that ran before the failing one.
        self.results: List[Result] = []

    def with_results(self, results: List[Result]) -> "QueryError":
        self.results = list(results)
        return self

    def _render_traceback_(self) -> List[str]:
        return self.display.splitlines()


@dataclass
class Statement:
    text: str
    line: int


def split_script(source: str) -> List[Statement]:
    """The CLI's batch format (grammar/script.ts): one query per line, blank and
    ``#`` lines skipped, a trailing backslash continuing on the next line."""
    statements: List[Statement] = []
    pending: Optional[List[str]] = None
    start = 0
    for i, raw in enumerate(re.split(r"\r\n|\n|\r", source)):
        is_comment = re.match(r"^\s*#", raw) is not None
        if pending is None:
            if is_comment or raw.strip() == "":
                continue
            pending = []
            start = i + 1
        body = "" if is_comment else raw
        continued = is_comment or re.search(r"\\\s*$", body) is not None
        pending.append(re.sub(r"\\(\s*)$", r" \1", body) if continued else body)
        if not continued:
            statements.append(Statement("\n".join(pending), start))
            pending = None
    if pending is not None and any(p.strip() for p in pending):
        statements.append(Statement("\n".join(pending), start))
    return statements


_COMMAND = re.compile(r"\s*(\*|(mlmodel|serving)(?![^\s|]))", re.IGNORECASE)


def add_command(source: str) -> str:
    """Starts each statement that does not begin with ``mlmodel``, ``serving`` or ``*`` with ``mlmodel ``,
    so that ``%mlmodel list | head 5`` means ``mlmodel list | head 5``. Lines stay where they are."""
    lines = re.split(r"\r\n|\n|\r", source)
    for st in split_script(source):
        i = st.line - 1
        if not _COMMAND.match(lines[i]):
            k = len(lines[i]) - len(lines[i].lstrip())
            lines[i] = lines[i][:k] + "mlmodel " + lines[i][k:]
    return "\n".join(lines)


def caret_display(source: str, line: int, column: int, length: int, message: str, where: str) -> str:
    """``parse error at <where>: message`` with the line and a caret under the offending text."""
    lines = re.split(r"\r\n|\n|\r", source)
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    carets = "^" * max(1, min(length, max(1, len(text) - (column - 1))))
    return f"parse error at {where}: {message}\n  {text}\n  {' ' * (column - 1)}{carets}"


class CliClient:
    """Runs a cell as one batch through ``mlmodel --format json -f -`` (stops at the first failure)."""

    def __init__(self, command: Sequence[str], home: Optional[str] = None, user: Optional[str] = None,
                 env: Optional[dict] = None, timeout: Optional[float] = None):
        self.command = list(command)
        self.home = home
        self.user = user
        self.env = env
        self.timeout = timeout

    def run_script(self, source: str) -> List[Result]:
        source = add_command(source)
        args = [*self.command, "--format", "json", "-f", "-"]
        if self.home:
            args += ["--home", self.home]
        if self.user:
            args += ["--user", self.user]
        try:
            proc = subprocess.run(args, input=source, capture_output=True, text=True, env=self.env, timeout=self.timeout)
        except FileNotFoundError:
            raise QueryError("CLI_NOT_FOUND", f"cannot run {shlex.join(self.command)}: not found; set MLMODEL_CLI or "
                             f"%config MlmodelMagics.cli, or use the HTTP API (MLMODEL_URL)") from None
        statements = split_script(source)
        results: List[Result] = []
        error: Optional[dict] = None
        for n, line in enumerate(l for l in proc.stdout.splitlines() if l.strip()):
            try:
                doc = json.loads(line)
            except ValueError:
                raise QueryError("BAD_OUTPUT", f"{shlex.join(self.command)} printed something other than JSON: {line[:200]}") from None
            if "error" in doc:
                error = doc["error"]
                break
            query = statements[n].text if n < len(statements) else ""
            results.append(Result(doc["columns"], doc["rows"], query))
        if proc.returncode != 0 or error is not None:
            stderr = proc.stderr.strip()
            code = (error or {}).get("code", "FAILED")
            message = (error or {}).get("message", stderr or f"mlmodel exited with status {proc.returncode}")
            issue = ((error or {}).get("issues") or [{}])[0]
            raise QueryError(code, message, line=issue.get("line"), column=issue.get("column"),
                             display=stderr or None).with_results(results)
        return results


class HttpClient:
    """Runs each statement of a cell with ``POST <url>/query``, bearer token from the environment."""

    def __init__(self, url: str, token: Optional[str] = None, user: Optional[str] = None, timeout: float = 600):
        self.url = url.rstrip("/")
        self.token = token
        self.user = user
        self.timeout = timeout

    def run_script(self, source: str) -> List[Result]:
        source = add_command(source)
        results: List[Result] = []
        for st in split_script(source):
            try:
                results.append(self.run(st.text))
            except QueryError as e:
                if e.line is not None and e.column is not None and e.code == "PARSE_ERROR":
                    line = st.line + e.line - 1
                    e.line = line
                    e.display = caret_display(source, line, e.column, e.length, e.message, f"line {line}, column {e.column}")
                else:
                    e.display = f"error at line {st.line}: {e.message} ({e.code})"
                raise e.with_results(results)
        return results

    def run(self, query: str) -> Result:
        body = {"q": query}
        if self.user:
            body["user"] = self.user
        req = urllib.request.Request(self.url + "/query", data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                doc = json.loads(res.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                err = json.loads(raw)["error"]
            except (ValueError, KeyError, TypeError):
                raise QueryError("HTTP_ERROR", f"{self.url}/query answered {e.code}: {raw[:200]}", status=e.code) from None
            raise QueryError(err.get("code", "HTTP_ERROR"), err.get("message", ""), line=err.get("line"),
                             column=err.get("column"), length=err.get("length") or 1, status=e.code) from None
        except urllib.error.URLError as e:
            raise QueryError("UNREACHABLE", f"cannot reach {self.url}: {e.reason}") from None
        return Result(doc["fields"], doc["results"], query)


def default_cli() -> List[str]:
    return shlex.split(os.environ.get("MLMODEL_CLI", "mlmodel"))
