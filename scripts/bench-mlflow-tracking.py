"""MLflow Tracking's side of bench/tracking.ts: the same workload through MlflowClient on its SQLite backend
(--db, in-process) or through MLflow's REST server (--url, a running `mlflow server` on a SQLite backend).

Each log_metric / log_param call is one session committed before it returns (SqlAlchemyStore's
ManagedSessionMaker); the journal mode and synchronous level its engine uses are reported.

Run with the Python of the cached MLflow virtualenv (bench/lib/peers.ts). Prints one JSON object.

  python bench-mlflow-tracking.py (--db FILE | --url http://HOST:PORT [--seed-db FILE]) [--single N] [--batch N] [--params N] [--history N] [--runs N] [--warmup N]
"""
import argparse
import json
import os
import time


def main():
    ap = argparse.ArgumentParser()
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--db")
    where.add_argument("--url")
    # With --url: the 1,000 runs the search reads are written straight to the server's backend (set-up, not timed:
    # two REST calls a run would take minutes); the search itself still goes through the server.
    ap.add_argument("--seed-db")
    ap.add_argument("--single", type=int, default=500)
    ap.add_argument("--batch", type=int, default=20000)
    ap.add_argument("--params", type=int, default=300)
    ap.add_argument("--history", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=1000)
    # Untimed first: a throwaway run gets this many points one per call and params, and a tenth as many
    # batches, so a server just started is measured warm (bench-mlmodel-tracking.py does the same).
    ap.add_argument("--warmup", type=int, default=0)
    a = ap.parse_args()

    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    uri = a.url or f"sqlite:///{os.path.abspath(a.db)}"
    c = MlflowClient(tracking_uri=uri)
    exp = c.create_experiment("bench")
    out = {}
    if a.db:
        # How durable each call is: what MLflow's own engine runs with (it sets neither; SQLite's defaults apply).
        with c._tracking_client.store.engine.connect() as conn:
            out["journal_mode"] = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            out["synchronous"] = conn.exec_driver_sql("PRAGMA synchronous").scalar()

    if a.warmup:
        run = c.create_run(exp).info.run_id
        now = int(time.time() * 1000)
        for i in range(a.warmup):
            c.log_metric(run, "warm", 1.0 / (i + 1), step=i)
            c.log_param(run, f"w{i}", i)
        for start in range(0, a.warmup // 10 * 1000, 1000):
            c.log_batch(run, metrics=[Metric("warm_batch", 1.0 / (i + 1), now, i) for i in range(start, start + 1000)])

    run = c.create_run(exp).info.run_id
    t = time.perf_counter()
    for i in range(a.single):
        c.log_metric(run, "loss", 1.0 / (i + 1), step=i)
    out["single_points_per_s"] = a.single / (time.perf_counter() - t)

    run = c.create_run(exp).info.run_id
    now = int(time.time() * 1000)
    t = time.perf_counter()
    # MLflow's log_batch takes at most 1000 metrics per call.
    for start in range(0, a.batch, 1000):
        c.log_batch(run, metrics=[Metric("loss", 1.0 / (i + 1), now, i) for i in range(start, min(a.batch, start + 1000))])
    out["batch_points_per_s"] = a.batch / (time.perf_counter() - t)

    run = c.create_run(exp).info.run_id
    t = time.perf_counter()
    for i in range(a.params):
        c.log_param(run, f"p{i}", i)
    out["params_per_s"] = a.params / (time.perf_counter() - t)

    run = c.create_run(exp).info.run_id
    for start in range(0, a.history, 1000):
        c.log_batch(run, metrics=[Metric("loss", 1.0 / (i + 1), now, i) for i in range(start, min(a.history, start + 1000))])
    times = []
    for _ in range(5):
        t = time.perf_counter()
        h = c.get_metric_history(run, "loss")
        times.append((time.perf_counter() - t) * 1000)
        assert len(h) == a.history
    out["history_ms"] = sorted(times)[len(times) // 2]

    lrs = [0.001, 0.005, 0.01, 0.05, 0.1]
    seeder = MlflowClient(tracking_uri=f"sqlite:///{os.path.abspath(a.seed_db)}") if a.seed_db else c
    for i in range(a.runs):
        r = seeder.create_run(exp).info.run_id
        seeder.log_batch(r, metrics=[Metric("acc", (i * 37 % 100) / 100, now, 0)], params=[Param("lr", str(lrs[i % 5]))])
    times = []
    for _ in range(5):
        t = time.perf_counter()
        found = c.search_runs([exp], filter_string="params.lr = '0.001' and metrics.acc > 0.5", order_by=["metrics.acc DESC"], max_results=5)
        times.append((time.perf_counter() - t) * 1000)
    out["search_ms"] = sorted(times)[len(times) // 2]
    out["search_found"] = len(found)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
