"""A small real training loop logged through mlmodel_magic.tracking (test/tracking/python-client.test.ts).

SGDClassifier trained epoch by epoch with partial_fit on iris; every epoch's
log loss and accuracy go to mlmodel serve at step=epoch, through a run used as
a context manager, the Keras-style callback (its calling protocol driven by
this loop: no TensorFlow here) and the scikit-learn helper; a second run with
a stronger alpha, to compare. Then the ways it can go wrong, and the
client's kept-alive connection. Prints one JSON report line.
"""
import json
import os
import socket
import sys
import time

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from mlmodel_magic.client import QueryError
from mlmodel_magic.connection import _closed_by_server
from mlmodel_magic.tracking import KerasCallback, Tracker, log_sklearn

url = os.environ["MLMODEL_URL"]
alice = Tracker(url, token=os.environ["ALICE_TOKEN"])
bob = Tracker(url, token=os.environ["BOB_TOKEN"])
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
other = alice.start_run(experiment="iris", name="other")
expect_error("nan", lambda: other.log_metrics({"loss": float("nan")}, step=0))
expect_error("infinity", lambda: other.log_metrics({"loss": float("inf")}, step=0))
expect_error("text_value", lambda: alice.request("POST", f"/runs/{other.id}/metrics", {"metrics": [{"key": "loss", "value": "0.5", "step": 1}]}))
expect_error("fractional_step", lambda: alice.request("POST", f"/runs/{other.id}/metrics", {"metrics": [{"key": "loss", "value": 0.5, "step": 1.5}]}))
expect_error("bad_key", lambda: other.log_metrics({"val loss": 0.5}, step=0))
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
report["errors"] = errors
report["other"] = other.id
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
print("@@REPORT@@" + json.dumps(report))
