"""Running mlmodel queries from Python: through the CLI's JSON output or the HTTP query API."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import urllib.error
import urllib.request
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


def caret_display(text: str, line: int, column: int, length: int, message: str, where: str) -> str:
    """``parse error at <where>: message`` with the statement's line and a caret under the offending text."""
    lines = re.split(r"\r\n|\n|\r", text)
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    carets = "^" * max(1, min(length, max(1, len(shown) - (column - 1))))
    return f"parse error at {where}: {message}\n  {shown}\n  {' ' * (column - 1)}{carets}"


class CliClient:
    """Runs a cell as one batch through ``mlmodel --implicit-command --format json -f -``: the CLI cuts it into
    statements with its own splitter and stops at the first failure."""

    def __init__(self, command: Sequence[str], home: Optional[str] = None, user: Optional[str] = None,
                 env: Optional[dict] = None, timeout: Optional[float] = None):
        self.command = list(command)
        self.home = home
        self.user = user
        self.env = env
        self.timeout = timeout

    def run_script(self, source: str) -> List[Result]:
        args = [*self.command, "--implicit-command", "--format", "json", "-f", "-"]
        if self.home:
            args += ["--home", self.home]
        if self.user:
            args += ["--user", self.user]
        try:
            proc = subprocess.run(args, input=source, capture_output=True, text=True, env=self.env, timeout=self.timeout)
        except FileNotFoundError:
            raise QueryError("CLI_NOT_FOUND", f"cannot run {shlex.join(self.command)}: not found; set MLMODEL_CLI or "
                             f"%config MlmodelMagics.cli, or use the HTTP API (MLMODEL_URL)") from None
        results: List[Result] = []
        error: Optional[dict] = None
        for line in (l for l in proc.stdout.splitlines() if l.strip()):
            try:
                doc = json.loads(line)
            except ValueError:
                raise QueryError("BAD_OUTPUT", f"{shlex.join(self.command)} printed something other than JSON: {line[:200]}") from None
            if "error" in doc:
                error = doc["error"]
                break
            results.append(Result(doc["columns"], doc["rows"]))
        if proc.returncode != 0 or error is not None:
            stderr = proc.stderr.strip()
            code = (error or {}).get("code", "FAILED")
            message = (error or {}).get("message", stderr or f"mlmodel exited with status {proc.returncode}")
            issue = ((error or {}).get("issues") or [{}])[0]
            raise QueryError(code, message, line=issue.get("line"), column=issue.get("column"),
                             display=stderr or None).with_results(results)
        return results


class HttpClient:
    """Runs a cell with ``POST <url>/query/script``: the server cuts it into statements with the CLI's splitter,
    runs them in turn and stops at the first failure. Bearer token from the environment."""

    def __init__(self, url: str, token: Optional[str] = None, user: Optional[str] = None, timeout: float = 600):
        self.url = url.rstrip("/")
        self.token = token
        self.user = user
        self.timeout = timeout

    def run_script(self, source: str) -> List[Result]:
        body = {"script": source, "implicitCommand": True}
        if self.user:
            body["user"] = self.user
        req = urllib.request.Request(self.url + "/query/script", data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                doc = json.loads(res.read().decode("utf-8"))
            return [Result(r["fields"], r["results"]) for r in doc["results"]]
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                doc = json.loads(raw)
                err = doc["error"]
            except (ValueError, KeyError, TypeError):
                raise QueryError("HTTP_ERROR", f"{self.url}/query/script answered {e.code}: {raw[:200]}", status=e.code) from None
            raise self._error(err, doc.get("statement"), e.code).with_results(
                [Result(r["fields"], r["results"]) for r in doc.get("results", [])]) from None
        except urllib.error.URLError as e:
            raise QueryError("UNREACHABLE", f"cannot reach {self.url}: {e.reason}") from None

    @staticmethod
    def _error(err: dict, statement: Optional[dict], status: int) -> QueryError:
        code = err.get("code", "HTTP_ERROR")
        message = err.get("message", "")
        start = (statement or {}).get("line")
        if code == "PARSE_ERROR" and start is not None and err.get("line") is not None and err.get("column") is not None:
            # Positions are the statement's; its first line is the cell's line `start`.
            line = start + err["line"] - 1
            display = caret_display(statement["text"], err["line"], err["column"], err.get("length") or 1, message,
                                    f"line {line}, column {err['column']}")
            return QueryError(code, message, line=line, column=err["column"], length=err.get("length") or 1,
                              display=display, status=status)
        display = f"error at line {start}: {message} ({code})" if start is not None else None
        return QueryError(code, message, display=display, status=status)


def default_cli() -> List[str]:
    return shlex.split(os.environ.get("MLMODEL_CLI", "mlmodel"))
