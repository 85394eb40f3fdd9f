"""Running mlmodel queries from Python: through the CLI's JSON output or the HTTP query API."""
from __future__ import annotations

import json
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from typing import Callable, List, Optional, Sequence

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
        #: For a tracking Run.log_batch that failed: how many of its points were written before the failure.
        self.points_written: Optional[int] = None

    def with_results(self, results: List[Result]) -> "QueryError":
        self.results = list(results)
        return self

    def _render_traceback_(self) -> List[str]:
        return self.display.splitlines()


class Interrupted(QueryError):
    """The query was stopped with Ctrl-C (KeyboardInterrupt): the CLI was told to cancel (SIGINT, as at its own
    prompt) and waited for, or the HTTP request was dropped, which cancels it on the server. Shown as one line."""

    def __init__(self, query: str):
        super().__init__("INTERRUPTED", f"interrupted: {query}", display=f"interrupted: {query}")
        self.query = query


#: Called with each progress report of a long command ({"phase", "done", "total", "fraction", "rate", "eta",
#: "line"}), {"clear": True} when the command ended, and None when the cell is over.
ProgressCallback = Callable[[Optional[dict]], None]

#: How long a cancelled CLI gets to tidy up (remove what it half-wrote) before it is killed.
CANCEL_GRACE_SECONDS = 15.0


def shown_query(source: str, line: Optional[int] = None) -> str:
    """The statement to name in a message: the source line `line`, else the first line that is not blank or a
    comment; "…" marks that the cell holds more."""
    lines = [l.strip() for l in re.split(r"\r\n|\n|\r", source)]
    if line is not None and 0 < line <= len(lines) and lines[line - 1]:
        return lines[line - 1]
    real = [l for l in lines if l and not l.startswith("#")]
    if not real:
        return source.strip()
    return real[0] + (" …" if len(real) > 1 else "")


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

    def run_script(self, source: str, progress: Optional[ProgressCallback] = None) -> List[Result]:
        """Runs the statements of `source`. With `progress`, long commands report through it, read from a pipe the
        CLI writes JSON lines to (MLMODEL_PROGRESS_FD). Ctrl-C cancels the CLI and raises Interrupted."""
        args = [*self.command, "--implicit-command", "--format", "json", "-f", "-"]
        if self.home:
            args += ["--home", self.home]
        if self.user:
            args += ["--user", self.user]
        stdout, stderr, returncode = self._run(args, source, progress)
        results: List[Result] = []
        error: Optional[dict] = None
        for line in (l for l in stdout.splitlines() if l.strip()):
            try:
                doc = json.loads(line)
            except ValueError:
                raise QueryError("BAD_OUTPUT", f"{shlex.join(self.command)} printed something other than JSON: {line[:200]}") from None
            if "error" in doc:
                error = doc["error"]
                break
            results.append(Result(doc["columns"], doc["rows"]))
        if returncode != 0 or error is not None:
            stderr = stderr.strip()
            code = (error or {}).get("code", "FAILED")
            message = (error or {}).get("message", stderr or f"mlmodel exited with status {returncode}")
            issue = ((error or {}).get("issues") or [{}])[0]
            raise QueryError(code, message, line=issue.get("line"), column=issue.get("column"),
                             display=stderr or None).with_results(results)
        return results

    def help(self, topic: str = "") -> str:
        """The CLI's help (`help`, `help deploy`): the text the console shows. An unknown topic is a QueryError."""
        stdout, stderr, returncode = self._run([*self.command, "-c", f"help {topic}".strip()], "", None)
        if returncode != 0:
            raise QueryError("UNKNOWN_TOPIC" if returncode == 2 else "FAILED", stderr.strip() or f"mlmodel exited with status {returncode}",
                             display=stderr.strip() or None)
        return stdout

    def _run(self, args: List[str], source: str, progress: Optional[ProgressCallback]):
        """Runs the CLI with `source` on stdin: (stdout, stderr, status). Ctrl-C or the time limit cancel it."""
        posix = os.name == "posix"
        env = dict(os.environ if self.env is None else self.env)
        read_fd = write_fd = None
        if progress is not None and posix:
            read_fd, write_fd = os.pipe()
            env["MLMODEL_PROGRESS_FD"] = str(write_fd)
        try:
            # Its own session: a terminal's Ctrl-C reaches IPython only, which then cancels the CLI once, itself.
            proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, encoding="utf-8", errors="replace", env=env,
                                    pass_fds=(write_fd,) if write_fd is not None else (), start_new_session=posix)
        except FileNotFoundError:
            if read_fd is not None:
                os.close(read_fd)
            raise QueryError("CLI_NOT_FOUND", f"cannot run {shlex.join(self.command)}: not found; set MLMODEL_CLI or "
                             f"%config MlmodelMagics.cli, or use the HTTP API (MLMODEL_URL)") from None
        finally:
            if write_fd is not None:
                os.close(write_fd)  # the CLI holds the other copy: end of file on the pipe is the CLI gone
        out: dict = {}

        def talk() -> None:
            try:
                out["stdout"], out["stderr"] = proc.communicate(source)
            except BaseException as e:  # noqa: B036 -- handed to the waiting thread
                out["error"] = e

        talker = threading.Thread(target=talk, name="mlmodel-cli", daemon=True)
        talker.start()
        deadline = time.monotonic() + self.timeout if self.timeout else None
        try:
            if read_fd is not None:
                self._follow_progress(read_fd, progress, deadline)
            while talker.is_alive():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self._cancel(proc, talker)
                    raise QueryError("TIMEOUT", f"the query ran longer than {self.timeout:g} s and was cancelled")
                talker.join(0.25 if left is None else min(0.25, left))
        except KeyboardInterrupt:
            self._cancel(proc, talker)
            # The CLI's own answer names the statement it was running ("error at stdin, line 3: …").
            m = re.search(r"\bline (\d+)\b", out.get("stderr") or "")
            raise Interrupted(shown_query(source, int(m.group(1)) if m else None)) from None
        finally:
            if read_fd is not None:
                os.close(read_fd)
            if progress is not None:
                progress(None)
        if "error" in out:
            raise out["error"]
        return out.get("stdout", ""), out.get("stderr", ""), proc.returncode

    @staticmethod
    def _follow_progress(fd: int, progress: ProgressCallback, deadline: Optional[float]) -> None:
        """Reads the CLI's progress lines until it closes the pipe (it exited) or the time is up."""
        pending = b""
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                try:
                    doc = json.loads(line.decode("utf-8"))
                except ValueError:
                    continue  # a report is only a courtesy; a broken one is skipped
                if isinstance(doc, dict):
                    progress(doc)

    @staticmethod
    def _cancel(proc: subprocess.Popen, talker: threading.Thread) -> None:
        """SIGINT, as Ctrl-C at the CLI's own prompt: it cancels the statement and removes what it half-wrote.
        Killed if it has not exited after the grace period (or at a second Ctrl-C)."""
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            talker.join(CANCEL_GRACE_SECONDS)
        except KeyboardInterrupt:
            pass
        finally:
            if proc.poll() is None:
                proc.kill()
            talker.join(5)


class HttpClient:
    """Runs a cell with ``POST <url>/query/script``: the server cuts it into statements with the CLI's splitter,
    runs them in turn and stops at the first failure. Bearer token from the environment."""

    def __init__(self, url: str, token: Optional[str] = None, user: Optional[str] = None, timeout: float = 600):
        self.url = url.rstrip("/")
        self.token = token
        self.user = user
        self.timeout = timeout

    def run_script(self, source: str, progress: Optional[ProgressCallback] = None) -> List[Result]:
        """One POST /query/script. Ctrl-C drops the connection, which the server takes as the query's
        cancellation, and raises Interrupted. (The script API reports no progress: `progress` is not called.)"""
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
        except socket.timeout:
            raise QueryError("TIMEOUT", f"{self.url} did not answer within {self.timeout:g} s") from None
        except KeyboardInterrupt:
            # urlopen and the `with` have closed the connection by now; the server cancels a query whose client left.
            raise Interrupted(shown_query(source)) from None

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
