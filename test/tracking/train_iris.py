"""A small real training loop logged through mlmodel_magic.tracking (test/tracking/python-client.test.ts).

SGDClassifier trained epoch by epoch with partial_fit on iris; every epoch's
log loss and accuracy go to mlmodel at step=epoch, through a run used as a
context manager, the Keras-style callback (its calling protocol driven by
this loop: no TensorFlow here) and the scikit-learn helper; a second run with
a stronger alpha, to compare. Then the ways it can go wrong, batches, and
values that need quoting. TRACKING_MODE=http (the default) logs to
mlmodel serve at MLMODEL_URL, and then checks the client's kept-alive
connection and that it names its user on every request; TRACKING_MODE=cli
logs through the local CLI (MLMODEL_CLI, on MLMODEL_HOME). Both run the same
calls in the same order, so a fresh registry gives the same run ids and
messages. Prints one JSON report line.
"""
import http.client
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
import warnings

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from mlmodel_magic.client import QueryError
from mlmodel_magic.connection import _closed_by_server
from mlmodel_magic.tracking import CliTracker, KerasCallback, Tracker, log_sklearn

MODE = os.environ.get("TRACKING_MODE", "http")
if MODE == "http":
    url = os.environ["MLMODEL_URL"]
    alice = Tracker(url, token=os.environ["ALICE_TOKEN"])
    bob = Tracker(url, token=os.environ["BOB_TOKEN"])
else:
    alice = CliTracker(os.environ["MLMODEL_CLI"], user="alice")
    bob = CliTracker(os.environ["MLMODEL_CLI"], user="bob")
started = time.monotonic()
report = {}

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
classes = np.unique(y)
EPOCHS = 15

with alice.start_run(experiment="iris", name="sgd", params={"epochs": EPOCHS, "learning_rate": "optimal"}) as run:
    report["run"] = run.id
    clf = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0)
    callback = KerasCallback(run)
    # Keras's calling protocol, driven by a real scikit-learn loop.
    callback.set_params({"epochs": EPOCHS, "steps": 1, "verbose": 0})
    callback.on_train_begin()
    for epoch in range(EPOCHS):
        clf.partial_fit(X_train, y_train, classes=classes)
        proba = clf.predict_proba(X_test)
        logs = {"loss": log_loss(y_test, proba, labels=classes), "accuracy": accuracy_score(y_test, clf.predict(X_test))}
        report.setdefault("losses", []).append(logs["loss"])
        callback.on_epoch_end(epoch, logs)
        run.log_metrics({"train_accuracy": float(clf.score(X_train, y_train))}, step=epoch)
    report["score"] = log_sklearn(run, clf, X_test, y_test, step=EPOCHS - 1, metric="test_score")
    report["history"] = [p["value"] for p in run.history("accuracy")]
    run.set_tags({"model": "sgd"})

# A second run, only the regularisation changed, to compare with the first (a with-block and the helper alone).
with alice.start_run(experiment="iris", name="sgd-strong", params={"epochs": EPOCHS}) as strong:
    report["strong"] = strong.id
    clf = SGDClassifier(loss="log_loss", alpha=1e-2, random_state=0)
    losses = []
    for epoch in range(EPOCHS):
        clf.partial_fit(X_train, y_train, classes=classes)
        losses.append(log_loss(y_test, clf.predict_proba(X_test), labels=classes))
        strong.log_metrics({"loss": losses[-1], "accuracy": accuracy_score(y_test, clf.predict(X_test))}, step=epoch)
    report["strong_score"] = log_sklearn(strong, clf, X_test, y_test, step=EPOCHS - 1, metric="test_score")
    report["strong_losses"] = losses

errors = {}
def expect_error(name, fn):
    try:
        fn()
        errors[name] = None
    except QueryError as e:
        errors[name] = [e.code, e.status, e.message]
    except ValueError as e:
        errors[name] = ["ValueError", None, str(e)]

done = alice.run(report["run"])
expect_error("ended_twice", lambda: done.end())
expect_error("log_after_end", lambda: done.log_metrics({"loss": 0.1}, step=99))
# A param named like an option of the command it goes into would be read as that option (the run's name).
expect_error("option_named_param", lambda: alice.start_run(experiment="iris", params={"name": "x"}))
other = alice.start_run(experiment="iris", name="other")
expect_error("nan", lambda: other.log_metrics({"loss": float("nan")}, step=0))
expect_error("infinity", lambda: other.log_metrics({"loss": float("inf")}, step=0))
# Text and booleans are refused by the client, naming the metric, before anything is sent.
expect_error("text_value", lambda: other.log_metrics({"loss": "0.5"}, step=1))
expect_error("bool_value", lambda: other.log_metrics({"converged": True}, step=1))
expect_error("numpy_bool_value", lambda: other.log_metrics({"converged": np.bool_(False)}, step=1))
if MODE == "http":
    # What the server says to a client that sends them anyway.
    expect_error("server_text_value", lambda: alice.request("POST", f"/runs/{other.id}/metrics", {"metrics": [{"key": "loss", "value": "0.5", "step": 1}]}))
    expect_error("fractional_step", lambda: alice.request("POST", f"/runs/{other.id}/metrics", {"metrics": [{"key": "loss", "value": 0.5, "step": 1.5}]}))
expect_error("bad_key", lambda: other.log_metrics({"val loss": 0.5}, step=0))
expect_error("bad_param_name", lambda: other.log_params({"learning rate": 0.1}))
expect_error("bobs_write", lambda: bob.run(other.id).log_metrics({"loss": 0.5}, step=0))
expect_error("bobs_end", lambda: bob.run(other.id).end())
expect_error("param_changed", lambda: (other.log_params({"alpha": 0.1}), other.log_params({"alpha": 0.2})))
report["bob_reads"] = [r["id"] for r in bob.runs("iris")]

try:
    with alice.start_run(experiment="iris", name="crashes") as crashing:
        report["crashed"] = crashing.id
        crashing.log_metrics({"loss": 1.0}, step=0)
        raise RuntimeError("diverged")
except RuntimeError:
    pass
report["other"] = other.id

# A batch is checked whole before its first request: a NaN at point 700 of 1000 sends nothing.
with alice.start_run(experiment="batches", name="batch") as batch:
    report["batch"] = batch.id
    points = [{"key": "loss", "value": 1 / (1 + i), "step": i} for i in range(1000)]
    points[700] = {**points[700], "value": float("nan")}
    expect_error("nan_at_700", lambda: batch.log_batch(points))
    # A refusal only the server makes (a reserved name) in the second request: the first request's 500 points stay.
    points[700] = {"key": "__proto__", "value": 0.5, "step": 700}
    try:
        batch.log_batch(points)
        report["partial"] = None
    except QueryError as e:
        report["partial"] = [e.code, e.message, e.points_written]
    # numpy scalars are numbers.
    batch.log_metrics({"np32": np.float32(0.25), "np64": np.float64(0.125), "npint": np.int64(3)}, step=0)
    # A Keras epoch whose loss diverged: the loss is skipped with a warning, the accuracy logged, training goes on.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        KerasCallback(batch).on_epoch_end(1000, {"loss": float("nan"), "accuracy": 0.75, "val_loss": float("inf")})
    report["keras_warnings"] = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    # Values a statement must quote: they come back exactly as given.
    hostile = {"note": "it's; mlmodel run end 1 # | where \\ \"q\"\n\ttab", "empty": "", "path": "C:\\data\\x=1 (a, b)"}
    batch.set_tags(hostile)
    batch.log_params({"comment": hostile["note"], "lr": 1e-05, "epochs": 3, "neg": -2.5, "flag": False})
    row = next(r for r in alice.runs("batches") if r["id"] == batch.id)
    report["hostile"] = hostile
    report["hostile_back"] = {"tags": row["tags"], "params": row["params"]}

report["errors"] = errors
report["seconds"] = time.monotonic() - started
if MODE == "cli":
    print("@@REPORT@@" + json.dumps(report))
    sys.exit(0)

# Every request so far (a hundred, refused ones included) on one kept-alive connection; after an idle
# spell past the server's keep-alive time (5 s) it has closed it, and the next request opens another.
report["opened"] = alice.connections_opened
# Waits until the server has closed the idle connection (5 s after its last answer; later on a loaded
# machine), as the client itself would see it before its next request.
deadline = time.monotonic() + 60
while time.monotonic() < deadline and not _closed_by_server(alice._connection._conn):
    time.sleep(0.25)
alice.run(other.id).log_metrics({"loss": 0.25}, step=3)
report["opened_after_idle"] = alice.connections_opened
# Idle past the client's own limit (4 s) but not the server's (5 s): the client opens a new one anyway,
# rather than send a request as the server may be closing the connection.
time.sleep(4.2)
alice.run(other.id).log_metrics({"loss": 0.125}, step=4)
report["opened_after_4s"] = alice.connections_opened
try:
    Tracker("http://127.0.0.1:1").runs()
    report["unreachable"] = None
except QueryError as e:
    report["unreachable"] = [e.code, e.message]
# A server that takes the connection and never answers.
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen()
try:
    Tracker(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5).runs()
    report["silent"] = None
except QueryError as e:
    report["silent"] = [e.code, e.message]
silent.close()

# A relay between a tracker and the real server: a real HTTP server that records each request (method, path,
# query, JSON body) and passes it on, or, told to, drops one without answering, as a failing network would.
upstream = urllib.parse.urlsplit(url)
seen = []
drop = {"metrics_posts_to_pass": None}


class Relay(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def relay(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urllib.parse.urlsplit(self.path)
        seen.append({"method": self.command, "path": parts.path, "query": urllib.parse.parse_qs(parts.query),
                     "body": json.loads(body) if body else None})
        if self.command == "POST" and parts.path.endswith("/metrics") and drop["metrics_posts_to_pass"] is not None:
            if drop["metrics_posts_to_pass"] == 0:
                drop["metrics_posts_to_pass"] = None
                self.close_connection = True
                return
            drop["metrics_posts_to_pass"] -= 1
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "accept")}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        res = conn.getresponse()
        data = res.read()
        conn.close()
        self.send_response(res.status)
        self.send_header("Content-Type", res.getheader("Content-Type") or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = relay

    def log_message(self, *args):
        pass


relay = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Relay)
threading.Thread(target=relay.serve_forever, daemon=True).start()
relayed = Tracker(f"http://127.0.0.1:{relay.server_address[1]}", token=os.environ["ALICE_TOKEN"], user="alice")
# Every kind of call, each as alice naming herself.
with relayed.start_run(experiment="acting", name="as-alice", params={"alpha": 0.5}) as acting:
    report["acting"] = acting.id
    acting.log_params({"epochs": 2})
    acting.set_tags({"who": "alice"})
    acting.log_metrics({"loss": 0.5}, step=0)
    report["acting_history"] = [p["value"] for p in acting.history("loss")]
    report["acting_listed"] = [r["id"] for r in relayed.runs("acting")]
    report["acting_all_listed"] = acting.id in [r["id"] for r in relayed.runs()]
    # The second request of a 1200-point batch is lost on the way: the first one's 500 points stay, and the
    # error says so, and that the lost one might have been carried out.
    drop["metrics_posts_to_pass"] = 1
    try:
        acting.log_batch([{"key": "val", "value": i / 1200, "step": i} for i in range(1200)])
        report["lost"] = None
    except QueryError as e:
        report["lost"] = [e.code, e.message, e.points_written]
report["seen"] = seen
relay.shutdown()
print("@@REPORT@@" + json.dumps(report))
