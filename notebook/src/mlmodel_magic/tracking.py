"""Logging a training run to mlmodel from training code, over ``mlmodel serve``'s HTTP API.

::

    from mlmodel_magic.tracking import Tracker

    tracker = Tracker("http://127.0.0.1:8080", token=...)       # or MLMODEL_URL / MLMODEL_TOKEN
    with tracker.start_run(experiment="iris", params={"alpha": 1e-4}) as run:
        for epoch in range(10):
            ...
            run.log_metrics({"loss": loss, "accuracy": acc}, step=epoch)

A run that leaves its ``with`` block normally ends FINISHED, on an exception
FAILED, on Ctrl-C KILLED. ``KerasCallback`` logs each epoch's ``logs`` (no
TensorFlow needed: Keras calls ``on_epoch_end(epoch, logs)``), and
``log_sklearn`` logs an estimator's parameters and its score. Every request
is one statement of the mlmodel language run by the server (docs/tracking.md).
"""
from __future__ import annotations

import http.client
import json
import math
import os
import socket
import urllib.parse
from typing import Any, Dict, Iterable, List, Mapping, Optional

from .client import QueryError
from .connection import Connection

# A request body is at most 64 KiB on a default server: points go in chunks well under it.
BATCH_POINTS = 500


class Tracker:
    """Talks to one ``mlmodel serve``: its URL, bearer token and (for admins) the user to act as."""

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
        """One request, on the tracker's kept-alive connection (connection.py); the server's error as a
        QueryError (code, message, HTTP status)."""
        data = None
        headers = {"Accept": "application/json"}
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

    def start_run(self, experiment: Optional[str] = None, name: Optional[str] = None,
                  params: Optional[Mapping[str, Any]] = None) -> "Run":
        """Starts a run (RUNNING) and returns it; use it in a ``with`` block to end it whatever happens."""
        body: Dict[str, Any] = {"params": _scalars(params or {}, "param")}
        if experiment is not None:
            body["experiment"] = experiment
        if name is not None:
            body["name"] = name
        doc = self.request("POST", "/runs", body)
        row = dict(zip([f["name"] for f in doc["fields"]], doc["results"][0]))
        return Run(self, int(row["id"]), row)

    def run(self, run_id: int) -> "Run":
        """A run started elsewhere, to log to (it must be yours)."""
        return Run(self, int(run_id), {"id": int(run_id)})

    def runs(self, *experiments: str) -> List[Dict[str, Any]]:
        """The runs listing, as dicts (every experiment, or those named)."""
        query = "&".join(f"experiment={urllib.parse.quote(e)}" for e in experiments)
        doc = self.request("GET", "/runs" + (f"?{query}" if query else ""))
        names = [f["name"] for f in doc["fields"]]
        return [dict(zip(names, r)) for r in doc["results"]]


class Run:
    """A run being logged to. Metric steps are whole numbers (epochs, iterations); values finite numbers."""

    def __init__(self, tracker: Tracker, run_id: int, row: Mapping[str, Any]):
        self.tracker = tracker
        self.id = run_id
        self.info = dict(row)
        self.ended = False

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Parameters keep the value they were first logged with (another value is a CONFLICT)."""
        if params:
            self.tracker.request("POST", f"/runs/{self.id}/params", {"params": _scalars(params, "param")})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if tags:
            self.tracker.request("POST", f"/runs/{self.id}/tags", {"tags": {k: str(v) for k, v in tags.items()}})

    def log_metrics(self, metrics: Mapping[str, Any], step: int) -> None:
        """Logs several metrics at one step, in one request: all of them or none."""
        self.log_batch([{"key": k, "value": v, "step": step} for k, v in metrics.items()])

    def log_metric(self, key: str, value: Any, step: int) -> None:
        self.log_metrics({key: value}, step)

    def log_batch(self, points: Iterable[Mapping[str, Any]]) -> None:
        """Logs points ``{"key", "value", "step"}``, BATCH_POINTS per request (each request all or nothing)."""
        chunk: List[Dict[str, Any]] = []
        for p in points:
            chunk.append({"key": p["key"], "value": _number(p["key"], p["value"]), "step": _step(p["step"])})
            if len(chunk) >= BATCH_POINTS:
                self.tracker.request("POST", f"/runs/{self.id}/metrics", {"metrics": chunk})
                chunk = []
        if chunk:
            self.tracker.request("POST", f"/runs/{self.id}/metrics", {"metrics": chunk})

    def history(self, key: str) -> List[Dict[str, Any]]:
        """One metric's points by step: ``[{"step", "value", "time"}, …]``."""
        doc = self.tracker.request("GET", f"/runs/{self.id}/metrics/{urllib.parse.quote(key)}")
        names = [f["name"] for f in doc["fields"]]
        return [dict(zip(names, r)) for r in doc["results"]]

    def end(self, status: str = "FINISHED") -> None:
        """Ends the run: FINISHED, FAILED or KILLED. A run ends once."""
        self.tracker.request("POST", f"/runs/{self.id}/end", {"status": status})
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
        values = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
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


def _is_number(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _number(key: str, v: Any) -> float:
    # A finite float, what a training loop logs, skips the general check's conversions (log_batch calls this per point).
    if type(v) is not float or not math.isfinite(v):
        if isinstance(v, bool) or not _is_number(v):
            raise ValueError(f"metric {key}: {v!r} is not a finite number (mlmodel refuses NaN and Infinity)")
        v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2 ** 53 else v


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
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"{what} {k}: {v!r} is not a finite number")
        if isinstance(v, (str, int, float, bool)):
            out[k] = v
        elif hasattr(v, "item"):
            # numpy scalars
            out[k] = v.item()
        else:
            out[k] = str(v)
    return out
