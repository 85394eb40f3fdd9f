"""Logging a training run to mlmodel from training code: over ``mlmodel serve``'s HTTP API (``Tracker``), or
through the local ``mlmodel`` CLI (``CliTracker``), with one Run API.

::

    from mlmodel_magic.tracking import CliTracker, Tracker

    tracker = Tracker("http://127.0.0.1:8080", token=...)       # or MLMODEL_URL / MLMODEL_TOKEN
    tracker = CliTracker(home="/srv/mlmodel")                   # or: the local registry, through `mlmodel`
    with tracker.start_run(experiment="iris", params={"alpha": 1e-4}) as run:
        for epoch in range(10):
            ...
            run.log_metrics({"loss": loss, "accuracy": acc}, step=epoch)

A run that leaves its ``with`` block normally ends FINISHED, on an exception
FAILED, on Ctrl-C KILLED. ``KerasCallback`` logs each epoch's ``logs`` (no
TensorFlow needed: Keras calls ``on_epoch_end(epoch, logs)``), and
``log_sklearn`` logs an estimator's parameters and its score. Every request
is one statement of the mlmodel language, run by the server or by the CLI (docs/tracking.md).
"""
from __future__ import annotations

import abc
import http.client
import json
import math
import numbers
import os
import re
import shlex
import socket
import urllib.parse
import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .client import CliClient, Interrupted, QueryError, default_cli
from .connection import Connection

# A request body is at most 64 KiB on a default server: points go in chunks well under it.
BATCH_POINTS = 500


class _Tracker(abc.ABC):
    """What both trackers share: runs are started and read here, and each call becomes one statement
    (docs/tracking.md). Subclasses carry the calls: over HTTP (Tracker) or through the CLI (CliTracker)."""

    def start_run(self, experiment: Optional[str] = None, name: Optional[str] = None,
                  params: Optional[Mapping[str, Any]] = None) -> "Run":
        """Starts a run (RUNNING) and returns it; use it in a ``with`` block to end it whatever happens."""
        row = self._start(experiment, name, _scalars(params or {}, "param"))
        return Run(self, int(row["id"]), row)

    def run(self, run_id: int) -> "Run":
        """A run started elsewhere, to log to (it must be yours)."""
        return Run(self, int(run_id), {"id": int(run_id)})

    def runs(self, *experiments: str) -> List[Dict[str, Any]]:
        """The runs listing, as dicts (every experiment, or those named)."""
        return self._runs(list(experiments))

    # The calls, one statement each; Run calls them with values already checked (_scalars, _points).
    @abc.abstractmethod
    def _start(self, experiment: Optional[str], name: Optional[str], params: Dict[str, Any]) -> Dict[str, Any]:
        """`run start`: the new run's row (id, experiment, name, user, status, start, end, params)."""

    @abc.abstractmethod
    def _runs(self, experiments: List[str]) -> List[Dict[str, Any]]:
        """`runs`, of the experiments named or of all: one dict a run."""

    @abc.abstractmethod
    def _log_params(self, run_id: int, params: Dict[str, Any]) -> None:
        """`log params`."""

    @abc.abstractmethod
    def _set_tags(self, run_id: int, tags: Dict[str, str]) -> None:
        """`log tags`."""

    @abc.abstractmethod
    def _log_chunks(self, run_id: int, chunks: List[List[Dict[str, Any]]]) -> None:
        """`log metrics … batch=` for each chunk, in order; a failure raises _ChunkFailed with how many chunks
        were written before it."""

    @abc.abstractmethod
    def _history(self, run_id: int, key: str) -> List[Dict[str, Any]]:
        """`metric`: one dict a point (step, value, time)."""

    @abc.abstractmethod
    def _end(self, run_id: int, status: str) -> None:
        """`run end` with this status."""


class Tracker(_Tracker):
    """Talks to one ``mlmodel serve``: its URL, bearer token and (for admins) the user to act as.

    With ``user``, every request names that user — ``"user"`` in a POST's JSON body, ``?user=`` on a GET — and
    the server runs it as that user; as for ``POST /query``, only an admin may name another user than the
    token's own (anyone else gets ``FORBIDDEN``, 403).
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, user: Optional[str] = None,
                 timeout: float = 60):
        url = url or os.environ.get("MLMODEL_URL")
        if not url:
            raise ValueError("give the mlmodel serve URL, or set MLMODEL_URL")
        self.url = url.rstrip("/")
        self.token = token if token is not None else os.environ.get("MLMODEL_TOKEN")
        self.user = user
        self.timeout = timeout
        self._connection = Connection(self.url, timeout)

    def request(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """One request, on the tracker's kept-alive connection (connection.py), as the tracker's ``user`` when it
        has one; the server's error as a QueryError (code, message, HTTP status)."""
        data = None
        headers = {"Accept": "application/json"}
        if self.user is not None:
            if method == "GET":
                path += ("&" if "?" in path else "?") + "user=" + urllib.parse.quote(self.user, safe="")
            else:
                body = {**(body or {}), "user": self.user}
        if body is not None:
            # allow_nan=False: JSON has no NaN; the server would refuse it anyway.
            data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            status, raw = self._connection.request(method, path, data, headers)
        except (TimeoutError, socket.timeout):  # the same class from Python 3.10; not on 3.9
            raise QueryError("TIMEOUT", f"{self.url} did not answer within {self.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as e:
            raise QueryError("UNREACHABLE", f"cannot reach {self.url}: {e}") from None
        if 200 <= status < 300:
            return json.loads(raw.decode("utf-8"))
        text = raw.decode("utf-8", "replace")
        try:
            err = json.loads(text)["error"]
        except (ValueError, KeyError, TypeError):
            raise QueryError("HTTP_ERROR", f"{self.url}{path} answered {status}: {text[:200]}", status=status) from None
        raise QueryError(err.get("code", "HTTP_ERROR"), err.get("message", ""), status=status) from None

    @property
    def connections_opened(self) -> int:
        """How many connections to the server this tracker has opened: one, unless it sat idle 4 s or more,
        the server closed it, or a request failed (connection.py)."""
        return self._connection.opened

    def close(self) -> None:
        """Closes the kept-alive connection (the next request opens another)."""
        self._connection.close()

    def _start(self, experiment: Optional[str], name: Optional[str], params: Dict[str, Any]) -> Dict[str, Any]:
        body: Dict[str, Any] = {"params": params}
        if experiment is not None:
            body["experiment"] = experiment
        if name is not None:
            body["name"] = name
        return _records(self.request("POST", "/runs", body))[0]

    def _runs(self, experiments: List[str]) -> List[Dict[str, Any]]:
        query = "&".join(f"experiment={urllib.parse.quote(e, safe='')}" for e in experiments)
        return _records(self.request("GET", "/runs" + (f"?{query}" if query else "")))

    def _log_params(self, run_id: int, params: Dict[str, Any]) -> None:
        self.request("POST", f"/runs/{run_id}/params", {"params": params})

    def _set_tags(self, run_id: int, tags: Dict[str, str]) -> None:
        self.request("POST", f"/runs/{run_id}/tags", {"tags": tags})

    def _log_chunks(self, run_id: int, chunks: List[List[Dict[str, Any]]]) -> None:
        for i, chunk in enumerate(chunks):
            try:
                self.request("POST", f"/runs/{run_id}/metrics", {"metrics": chunk})
            except QueryError as e:
                raise _ChunkFailed(i, e) from None

    def _history(self, run_id: int, key: str) -> List[Dict[str, Any]]:
        return _records(self.request("GET", f"/runs/{run_id}/metrics/{urllib.parse.quote(key, safe='')}"))

    def _end(self, run_id: int, status: str) -> None:
        self.request("POST", f"/runs/{run_id}/end", {"status": status})


class CliTracker(_Tracker):
    """Logs to the local registry by running the ``mlmodel`` CLI: ``command`` (a list, or a string split as a shell
    would; default ``MLMODEL_CLI``, else ``mlmodel`` on PATH), e.g. ``["node", "dist/console/cli.js"]``.

    Each call is one CLI process running the call's statement (``--format json -f -``, the statement on standard
    input): the CLI reads its whole input before it runs anything, so one long-lived process cannot answer
    statement by statement, and every call pays a node start and the registry's opening (about 0.2 s on the
    embedded store). A ``log_batch`` of several chunks is one process. ``home``, ``config`` and ``user`` are the
    CLI's ``--home``, ``--config`` and ``--user`` (by default its own: ``MLMODEL_HOME``, ``MLMODEL_USER``, …);
    ``env`` replaces the environment the CLI runs in. Errors are the CLI's, as the same ``QueryError`` (code,
    message) the server answers with, without an HTTP status.
    """

    def __init__(self, command: Union[str, Sequence[str], None] = None, home: Optional[str] = None,
                 config: Optional[str] = None, user: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
                 timeout: Optional[float] = 60):
        self.command = shlex.split(command) if isinstance(command, str) else list(command or default_cli())
        if not self.command:
            raise ValueError("give the mlmodel CLI to run (command=[...]), or set MLMODEL_CLI")
        self.home = home
        self.config = config
        self.user = user
        self.timeout = timeout
        args = [*self.command, *(["--config", config] if config else [])]
        self._client = CliClient(args, home=home, user=user, env=dict(env) if env is not None else None, timeout=timeout)

    def statements(self, *statements: str) -> List[Dict[str, Any]]:
        """Runs statements of the language in one CLI process, in order, stopping at the first failure; each
        result as a ``{"columns", "rows"}`` dict. The failure is a QueryError whose ``results`` hold those before."""
        try:
            results = self._client.run_script("\n".join(statements) + "\n")
        except Interrupted:
            # The CLI was told to cancel and has exited; to the training script this is its own Ctrl-C.
            raise KeyboardInterrupt from None
        except QueryError as e:
            if e.code == "CLI_NOT_FOUND":
                raise QueryError("CLI_NOT_FOUND", f"cannot run {shlex.join(self.command)}: not found; give "
                                 "CliTracker(command=[...]) or set MLMODEL_CLI, or log over HTTP with Tracker(url)") from None
            raise
        return [{"columns": r.columns, "rows": r.rows} for r in results]

    def _one(self, statement: str) -> List[Dict[str, Any]]:
        result = self.statements(statement)[0]
        names = [c["name"] for c in result["columns"]]
        return [dict(zip(names, row)) for row in result["rows"]]

    def _start(self, experiment: Optional[str], name: Optional[str], params: Dict[str, Any]) -> Dict[str, Any]:
        text = "mlmodel run start"
        if experiment is not None:
            text += f" experiment={_quote(experiment)}"
        if name is not None:
            text += f" name={_quote(name)}"
        return self._one(text + _pairs("param", params, "run", _RUN_OPTIONS))[0]

    def _runs(self, experiments: List[str]) -> List[Dict[str, Any]]:
        where = f" | where experiment in ({', '.join(_quote(e) for e in experiments)})" if experiments else ""
        return self._one("mlmodel runs" + where)

    def _log_params(self, run_id: int, params: Dict[str, Any]) -> None:
        self._one(f"mlmodel log params {_run_id(run_id)}{_pairs('param', params, 'log', _LOG_OPTIONS)}")

    def _set_tags(self, run_id: int, tags: Dict[str, str]) -> None:
        self._one(f"mlmodel log tags {_run_id(run_id)}{_pairs('tag', tags, 'log', _LOG_OPTIONS)}")

    def _log_chunks(self, run_id: int, chunks: List[List[Dict[str, Any]]]) -> None:
        rid = _run_id(run_id)
        statements = [f"mlmodel log metrics {rid} batch={_quote(json.dumps(c, allow_nan=False, separators=(',', ':')))}"
                      for c in chunks]
        try:
            self.statements(*statements)
        except QueryError as e:
            # The CLI stops at the first failure: the results before it are the chunks it wrote.
            raise _ChunkFailed(len(e.results), e) from None

    def _history(self, run_id: int, key: str) -> List[Dict[str, Any]]:
        return self._one(f"mlmodel metric {_run_id(run_id)} {_name('metric', key)}")

    def _end(self, run_id: int, status: str) -> None:
        if not re.fullmatch(r"[A-Za-z]+", status):
            raise QueryError("INVALID_ARGUMENT", "status must be FINISHED, FAILED or KILLED")
        self._one(f"mlmodel run end {_run_id(run_id)} status={status}")


class _ChunkFailed(Exception):
    """A chunk of a batch refused or lost: how many chunks before it went through, and the error."""

    def __init__(self, written_chunks: int, error: QueryError):
        super().__init__(str(error))
        self.written_chunks = written_chunks
        self.error = error


class Run:
    """A run being logged to. Metric steps are whole numbers (epochs, iterations); values finite numbers."""

    def __init__(self, tracker: _Tracker, run_id: int, row: Mapping[str, Any]):
        self.tracker = tracker
        self.id = run_id
        self.info = dict(row)
        self.ended = False

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Parameters keep the value they were first logged with (another value is a CONFLICT)."""
        if params:
            self.tracker._log_params(self.id, _scalars(params, "param"))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if tags:
            self.tracker._set_tags(self.id, {k: str(v) for k, v in tags.items()})

    def log_metrics(self, metrics: Mapping[str, Any], step: int) -> None:
        """Logs several metrics at one step, in one request: all of them or none."""
        self.log_batch([{"key": k, "value": v, "step": step} for k, v in metrics.items()])

    def log_metric(self, key: str, value: Any, step: int) -> None:
        self.log_metrics({key: value}, step)

    def log_batch(self, points: Iterable[Mapping[str, Any]]) -> None:
        """Logs points ``{"key", "value", "step"}``.

        Every point is checked first — its name, its value a finite int or float (numpy scalars too; text and
        booleans are refused), its step a whole number from 0 up — and the first bad one raises ValueError
        before anything is sent. The points then go BATCH_POINTS to a request (a request body is at most 64 KiB
        on a default server), each request all or nothing. A batch of more points is several requests, and
        the ones before a failed request stay written: the QueryError raised then has ``points_written``, how
        many points went in before it (all points of the requests that were answered), and says so in its
        message. A request that was lost on the wire (UNREACHABLE, TIMEOUT) may have been carried out too.
        """
        checked = _points(points)
        chunks = [checked[i:i + BATCH_POINTS] for i in range(0, len(checked), BATCH_POINTS)]
        if not chunks:
            return
        try:
            self.tracker._log_chunks(self.id, chunks)
        except _ChunkFailed as failed:
            e = failed.error
            written = sum(len(c) for c in chunks[:failed.written_chunks])
            e.points_written = written
            if len(chunks) > 1:
                lost = e.code in ("UNREACHABLE", "TIMEOUT")
                note = (f"{written} of the batch's {len(checked)} points were written before this failure"
                        + (" (the failed request, its points, may have been carried out too)" if lost else ""))
                e.message = f"{e.message}; {note}"
                e.args = (f"{e.message} ({e.code})",)
                e.display = f"{e.display}\n{note}"
            raise e from None

    def history(self, key: str) -> List[Dict[str, Any]]:
        """One metric's points by step: ``[{"step", "value", "time"}, …]``."""
        return self.tracker._history(self.id, key)

    def end(self, status: str = "FINISHED") -> None:
        """Ends the run: FINISHED, FAILED or KILLED. A run ends once."""
        self.tracker._end(self.id, status)
        self.ended = True

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, kind, value, tb) -> bool:
        if not self.ended:
            if kind is None:
                self.end("FINISHED")
            else:
                self.end("KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED")
        return False


class KerasCallback:
    """A Keras callback (duck-typed: no TensorFlow import) that logs each epoch's ``logs`` at step=epoch.

    ``model.fit(..., callbacks=[KerasCallback(run)])``; Keras's training
    parameters (epochs, steps) are logged as params when training begins.
    A value of an epoch's logs that is not a finite number (a NaN loss, a
    diverged accuracy) is not logged: it is skipped with a ``RuntimeWarning``
    naming the metric and the epoch, and the epoch's other values are logged,
    so that training goes on (``Run.log_metrics`` itself raises ValueError).
    """

    def __init__(self, run: Run, log_training_params: bool = True):
        self.run = run
        self.log_training_params = log_training_params
        self.model = None
        self.params: Dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params or {})

    def on_train_begin(self, logs: Optional[Mapping[str, Any]] = None) -> None:
        if self.log_training_params and self.params:
            self.run.log_params({k: v for k, v in self.params.items() if isinstance(v, (int, float, str, bool)) and v is not None})

    def on_epoch_end(self, epoch: int, logs: Optional[Mapping[str, Any]] = None) -> None:
        values: Dict[str, Any] = {}
        for k, v in (logs or {}).items():
            try:
                values[k] = _number(k, v)
            except ValueError:
                # Raising here would stop model.fit over one diverged metric; the rest of the epoch is logged.
                warnings.warn(f"KerasCallback: epoch {epoch}: {k} is {v!r}, not a finite number; not logged",
                              RuntimeWarning, stacklevel=2)
        if values:
            self.run.log_metrics(values, step=int(epoch))

    # The other hooks Keras calls: nothing to log.
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


def sklearn_params(estimator: Any) -> Dict[str, Any]:
    """An estimator's ``get_params()`` that can be logged: text, numbers, booleans (None and objects left out)."""
    out: Dict[str, Any] = {}
    for k, v in estimator.get_params(deep=False).items():
        if isinstance(v, bool) or (isinstance(v, (int, float)) and math.isfinite(v)) or isinstance(v, str):
            out[k] = v
    return out


def log_sklearn(run: Run, estimator: Any, X: Any = None, y: Any = None, step: int = 0, metric: str = "score") -> Optional[float]:
    """Logs a scikit-learn estimator's parameters, and with X and y its ``score(X, y)`` as ``metric`` at ``step``."""
    run.log_params(sklearn_params(estimator))
    run.log_params({"estimator": type(estimator).__name__})
    if X is None or y is None:
        return None
    score = float(estimator.score(X, y))
    run.log_metrics({metric: score}, step=step)
    return score


def _number(key: str, v: Any) -> Union[int, float]:
    """A metric value as JSON sends it: ints and floats, and what converts to one (numpy scalars, 0-d arrays).
    Text is refused rather than parsed ("0.5" is a mistake to report, as the server says), and so are booleans."""
    if type(v) is not float or not math.isfinite(v):
        # A finite float, what a training loop logs, skips these checks (log_batch calls this for every point).
        if isinstance(v, (str, bytes, bool)) or getattr(getattr(v, "dtype", None), "kind", None) == "b" \
                or not (isinstance(v, numbers.Real) or hasattr(type(v), "__float__")):
            raise ValueError(f"metric {key}: {v!r} is not a number (give an int or a float; text and booleans are refused)")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"metric {key}: {v!r} is not a number (give an int or a float)") from None
        if not math.isfinite(f):
            raise ValueError(f"metric {key}: {v!r} is not a finite number (mlmodel refuses NaN and Infinity)")
        v = f
    return int(v) if v.is_integer() and abs(v) < 2 ** 53 else v


def _points(points: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Every point of a batch checked, before any of it is sent; the first bad one raises ValueError naming it."""
    out: List[Dict[str, Any]] = []
    for i, p in enumerate(points):
        try:
            key, value, step = p["key"], p["value"], p["step"]
        except (KeyError, TypeError):
            raise ValueError(f"point {i} ({p!r}) is not a {{\"key\", \"value\", \"step\"}} mapping") from None
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(_bad_name("metric", key))
        out.append({"key": key, "value": _number(key, value), "step": _step(step)})
    return out


def _records(doc: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """An HTTP answer's rows as dicts by field name."""
    names = [f["name"] for f in doc["fields"]]
    return [dict(zip(names, r)) for r in doc["results"]]


# The server's rule for param, tag and metric names (src/tracking/store.ts KEY): such a name is a bare word of
# the language, so a name that passes can go into a statement as it is.
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def _bad_name(what: str, key: Any) -> str:
    # The server's wording, so that the CLI tracker's refusal reads as the HTTP one's.
    return f"{what} name {json.dumps(key, ensure_ascii=False) if isinstance(key, str) else repr(key)} is not allowed: a letter or _ then up to 63 letters, digits, _ or -"


def _name(what: str, key: Any) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise QueryError("INVALID_ARGUMENT", _bad_name(what, key))
    return key


_ESCAPED = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def _quote(text: str) -> str:
    """A quoted value of the language, escaped as grammar/printer.ts quote() escapes it."""
    return "'" + re.sub(r"[\\'\n\r\t\0]", lambda m: _ESCAPED[m.group()], text) + "'"


def _value(v: Any) -> str:
    """A param or tag value in a statement: numbers and booleans bare (the command reads them back as such),
    text quoted, so that the command reads it as text."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        # float's own repr (shortest round-trip: 0.001, 1e-05, -2.5): a numpy float64's repr is "np.float64(…)".
        return float.__repr__(float(v))
    return _quote(str(v))


# The options of the commands pairs go into (src/commands/run.ts and log.ts): a pair of that name would be
# read as the option, so it is refused, as the server's statements.ts pairsText refuses it.
_RUN_OPTIONS = ("experiment", "name", "status")
_LOG_OPTIONS = ("step", "batch")


def _pairs(what: str, values: Mapping[str, Any], command: str, options: Sequence[str]) -> str:
    """` k=v …`, each name checked (as the server's statements.ts pairsText does) and each value written by _value."""
    out = []
    for k, v in values.items():
        name = _name(what, k)
        if name.lower() in options:
            raise QueryError("INVALID_ARGUMENT", f"a {what} cannot be called {name} here: {', '.join(options)} are options of mlmodel {command}")
        out.append(f" {name}={_value(v)}")
    return "".join(out)


def _run_id(run_id: Any) -> int:
    if isinstance(run_id, bool) or not isinstance(run_id, int) or run_id < 1:
        raise QueryError("INVALID_ARGUMENT", f"{run_id!r} is not a run id")
    return run_id


def _step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, int) and not (hasattr(step, "__index__")):
        raise ValueError(f"step {step!r} is not a whole number")
    s = int(step)
    if s < 0:
        raise ValueError(f"step {step!r} is not a whole number from 0 up")
    return s


def _scalars(values: Mapping[str, Any], what: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in values.items():
        if not isinstance(v, (str, int, float, bool)):
            # numpy scalars become what they hold; anything else its text.
            v = v.item() if hasattr(v, "item") else str(v)
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{what} {k}: {v!r} is not a finite number")
        out[k] = v
    return out
