"""mlmodel's side of bench/tracking.ts over HTTP: the workload bench-mlflow-tracking.py runs through MlflowClient,
run here through mlmodel's own Python client (notebook/src/mlmodel_magic/tracking.py, on PYTHONPATH) against a
running `mlmodel serve` — what a training script calls, on each side, in the same Python.

--floor-url times the floor instead: the same client's requests, one point's body each, against the bare
node:http server of bench/lib/durable-http-floor.ts (one bare durable SQLite commit a request).

  python bench-mlmodel-tracking.py --url http://HOST:PORT [--single N] [--batch N] [--params N] [--history N] [--runs N] [--warmup N]
  python bench-mlmodel-tracking.py --floor-url http://HOST:PORT [--single N] [--warmup N]

Prints one JSON object.
"""
import argparse
import json
import time

from mlmodel_magic.tracking import Tracker


def floor(url: str, n: int, warmup: int) -> dict:
    t0 = Tracker(url)
    for i in range(warmup):
        t0.request("POST", "/", {"metrics": [{"key": "warm", "value": 1.0 / (i + 1), "step": i}]})
    t = time.perf_counter()
    for i in range(n):
        t0.request("POST", "/", {"metrics": [{"key": "loss", "value": 1.0 / (i + 1), "step": i}]})
    return {"floor_ms": (time.perf_counter() - t) / n * 1000, "connections": t0.connections_opened}


def main():
    ap = argparse.ArgumentParser()
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--url")
    where.add_argument("--floor-url")
    ap.add_argument("--single", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=100000)
    ap.add_argument("--params", type=int, default=500)
    ap.add_argument("--history", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=1000)
    # Untimed first, as bench-mlflow-tracking.py: a throwaway run gets this many points one per call and
    # params, and a tenth as many batches (of 1000 points, MLflow's size), so the server is measured warm.
    ap.add_argument("--warmup", type=int, default=0)
    a = ap.parse_args()
    if a.floor_url:
        print(json.dumps(floor(a.floor_url, a.single, a.warmup)))
        return

    c = Tracker(a.url)
    out = {}
    if a.warmup:
        run = c.start_run(experiment="warmup")
        for i in range(a.warmup):
            run.log_metric("warm", 1.0 / (i + 1), step=i)
            run.log_params({f"w{i}": i})
        run.log_batch({"key": "warm_batch", "value": 1.0 / (i + 1), "step": i} for i in range(a.warmup // 10 * 1000))
    run = c.start_run(experiment="bench")
    t = time.perf_counter()
    for i in range(a.single):
        run.log_metric("loss", 1.0 / (i + 1), step=i)
    out["single_points_per_s"] = a.single / (time.perf_counter() - t)

    run = c.start_run(experiment="bench")
    t = time.perf_counter()
    # The client's log_batch sends BATCH_POINTS (500) a request, each request one transaction.
    run.log_batch({"key": "loss", "value": 1.0 / (i + 1), "step": i} for i in range(a.batch))
    out["batch_points_per_s"] = a.batch / (time.perf_counter() - t)

    run = c.start_run(experiment="bench")
    t = time.perf_counter()
    for i in range(a.params):
        run.log_params({f"p{i}": i})
    out["params_per_s"] = a.params / (time.perf_counter() - t)

    run = c.start_run(experiment="bench")
    run.log_batch({"key": "loss", "value": 1.0 / (i + 1), "step": i} for i in range(a.history))
    times = []
    for _ in range(5):
        t = time.perf_counter()
        h = run.history("loss")
        times.append((time.perf_counter() - t) * 1000)
        assert len(h) == a.history, len(h)
    out["history_ms"] = sorted(times)[len(times) // 2]

    # Set-up through the same server, untimed: a run with its lr, and its accuracy at step 0.
    lrs = [0.001, 0.005, 0.01, 0.05, 0.1]
    for i in range(a.runs):
        c.start_run(experiment="search", params={"lr": lrs[i % 5]}).log_metric("acc", (i * 37 % 100) / 100, step=0)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        found = c.request("POST", "/query", {"q": "mlmodel runs search | where params.lr = 0.001 and metrics.acc > 0.5 | sort -metrics.acc | head 5"})
        times.append((time.perf_counter() - t) * 1000)
        assert len(found["results"]) == 5, found["results"]
    out["search_ms"] = sorted(times)[len(times) // 2]
    out["connections"] = c.connections_opened
    print(json.dumps(out))


if __name__ == "__main__":
    main()
