"""MLflow's side of the mlmodel benchmarks: the peer a user would pick instead.

Run by bench/*.ts with the Python of a throw-away virtualenv that holds
mlflow (bench/lib/peers.ts makes it under ~/.cache/mlmodel). Everything goes
through MLflow's own client API (MlflowClient) on its SQLite backend, in this
process, the way a user's script would use it; nothing is written by hand.
Each command prints one JSON object on its last line of stdout.

  seed     --db FILE --count N             registered models 0..N-1 with tags, one version each
                                           (adds to what FILE already holds)
  register --db FILE --count N             create_registered_model + create_model_version N times,
                                           timed, into FILE (a fresh registry)
  query    --db FILE --count N --runs R    the registry workload, R timed runs of each query
  once     --db FILE --count N --query Q     one query (filtered, lookup, summary) in a whole process
  batch    --db FILE --file JOBS            a mixed batch of queries (JSON lines) in one process
  import                                   how long `import mlflow` takes

The models are the same as mlmodel's bench registry (bench/lib/models.ts):
model i is called bench-<i>, its type, category and algorithm come from i the
same way, and it is tagged with them.
"""

import argparse
import json
import os
import sys
import time

TYPES = ["r", "sklearn", "spark", "tf", "onnx"]
CATEGORIES = ["classification", "regression", "clustering", "nlp"]
ALGORITHMS = ["linear", "tree", "forest", "boosting", "deep", "kmeans"]


def model_tags(i):
    return {
        "type": TYPES[i % len(TYPES)],
        "category": CATEGORIES[(i // len(TYPES)) % len(CATEGORIES)],
        "algorithm": ALGORITHMS[(i // (len(TYPES) * len(CATEGORIES))) % len(ALGORITHMS)],
    }


def client_for(db):
    from mlflow import MlflowClient

    uri = f"sqlite:///{os.path.abspath(db)}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def count_models(client):
    # The registry's size, counted through the API (page by page).
    n, token = 0, None
    while True:
        page = client.search_registered_models(max_results=1000, page_token=token)
        n += len(page)
        token = page.token
        if not token:
            return n


def register(client, i, source_dir):
    name = f"bench-{i}"
    client.create_registered_model(name, tags=model_tags(i), description=f"bench model {i}")
    client.create_model_version(name, source=f"{source_dir}/{name}", tags={"format": "onnx"})


def cmd_seed(a):
    client = client_for(a.db)
    have = count_models(client)
    started = time.perf_counter()
    last = started
    for i in range(have, a.count):
        register(client, i, os.path.dirname(os.path.abspath(a.db)) + "/artifacts")
        now = time.perf_counter()
        if now - last > 10:
            done = i + 1 - have
            print(f"mlflow seed: {i + 1}/{a.count} ({done / (now - started):.0f}/s)", file=sys.stderr, flush=True)
            last = now
    secs = time.perf_counter() - started
    added = max(0, a.count - have)
    print(json.dumps({"seeded": added, "had": have, "seconds": secs, "per_second": added / secs if secs > 0 and added else None}))


def cmd_register(a):
    client = client_for(a.db)
    client.search_registered_models(max_results=1)  # creates the schema outside the timing
    offset = 10_000_000
    for i in range(offset - 20, offset):  # warm up the code paths
        register(client, i, "/tmp/mlflow-bench-artifacts")
    started = time.perf_counter()
    for i in range(offset, offset + a.count):
        register(client, i, "/tmp/mlflow-bench-artifacts")
    secs = time.perf_counter() - started
    print(json.dumps({"count": a.count, "seconds": secs, "per_second": a.count / secs}))


def percentile(sorted_ms, p):
    if not sorted_ms:
        return None
    k = min(len(sorted_ms) - 1, max(0, int(round(p / 100 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def timed(fn, runs, warmup=3):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return {"p50": percentile(out, 50), "p95": percentile(out, 95), "runs": runs}


def cmd_query(a):
    client = client_for(a.db)
    name = f"bench-{a.count // 2}"
    results = {}
    filtered = lambda: client.search_registered_models(
        filter_string="tags.type = 'tf' and tags.category = 'classification'",
        order_by=["last_updated_timestamp DESC"],
        max_results=20,
    )
    got = filtered()
    results["filtered"] = {**timed(filtered, a.runs), "rows": len(got)}
    # OR and IN: MLflow's filter grammar refuses both; record its own words.
    for key, text in [
        ("or_in", "tags.type IN ('tf', 'onnx') or tags.category = 'clustering'"),
        ("or", "tags.type = 'tf' or tags.category = 'clustering'"),
    ]:
        try:
            client.search_registered_models(filter_string=text, max_results=20)
            results[key] = {"error": None}
        except Exception as e:  # noqa: BLE001 - the refusal is the result
            results[key] = {"unsupported": f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"}
    lookup = lambda: client.search_registered_models(filter_string=f"name = '{name}'", max_results=20)
    results["lookup"] = {**timed(lookup, a.runs), "rows": len(lookup())}

    def summary():
        m = client.get_registered_model(name)
        v = client.get_model_version(name, m.latest_versions[0].version)
        return m, v

    results["summary"] = timed(summary, a.runs)
    print(json.dumps({"count": a.count, "name": name, "results": results}))


def cmd_once(a):
    # One query in a whole process, as a user's script would run it: import, connect, ask.
    client = client_for(a.db)
    name = f"bench-{a.count // 2}"
    if a.query == "filtered":
        client.search_registered_models(
            filter_string="tags.type = 'tf' and tags.category = 'classification'",
            order_by=["last_updated_timestamp DESC"],
            max_results=20,
        )
    elif a.query == "lookup":
        client.search_registered_models(filter_string=f"name = '{name}'", max_results=20)
    else:
        m = client.get_registered_model(name)
        client.get_model_version(name, m.latest_versions[0].version)
    print(json.dumps({"ok": True}))


def cmd_batch(a):
    # A mixed batch in one process: {"kind": ..., ...} per line of --file; OR/IN lines are skipped (not expressible).
    client = client_for(a.db)
    jobs = [json.loads(line) for line in open(a.file) if line.strip()]
    done, skipped = 0, 0
    started = time.perf_counter()
    for j in jobs:
        k = j["kind"]
        if k == "filtered":
            client.search_registered_models(
                filter_string=f"tags.type = '{j['type']}' and tags.category = '{j['category']}'",
                order_by=["last_updated_timestamp DESC"],
                max_results=20,
            )
        elif k == "algorithm":
            client.search_registered_models(
                filter_string=f"tags.algorithm = '{j['algorithm']}'", order_by=["last_updated_timestamp DESC"], max_results=10
            )
        elif k == "lookup":
            client.search_registered_models(filter_string=f"name = '{j['name']}'", max_results=20)
        elif k == "summary":
            m = client.get_registered_model(j["name"])
            client.get_model_version(j["name"], m.latest_versions[0].version)
        elif k == "newest":
            client.search_registered_models(order_by=["last_updated_timestamp DESC"], max_results=5)
        else:
            skipped += 1
            continue
        done += 1
    secs = time.perf_counter() - started
    print(json.dumps({"queries": done, "skipped": skipped, "seconds": secs, "per_second": done / secs}))


def cmd_import(a):
    t = time.perf_counter()
    import mlflow  # noqa: F401

    imported = time.perf_counter() - t
    print(json.dumps({"import_seconds": imported, "version": mlflow.__version__}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--db", required=True)
    s.add_argument("--count", type=int, required=True)
    r = sub.add_parser("register")
    r.add_argument("--db", required=True)
    r.add_argument("--count", type=int, required=True)
    q = sub.add_parser("query")
    q.add_argument("--db", required=True)
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--runs", type=int, default=50)
    o = sub.add_parser("once")
    o.add_argument("--db", required=True)
    o.add_argument("--count", type=int, required=True)
    o.add_argument("--query", choices=["filtered", "lookup", "summary"], required=True)
    b = sub.add_parser("batch")
    b.add_argument("--db", required=True)
    b.add_argument("--file", required=True)
    sub.add_parser("import")
    a = p.parse_args()
    {"seed": cmd_seed, "register": cmd_register, "query": cmd_query, "once": cmd_once, "batch": cmd_batch, "import": cmd_import}[a.cmd](a)


if __name__ == "__main__":
    main()
