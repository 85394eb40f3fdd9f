"""Runs notebook cells in this IPython process the way a notebook kernel does
(``run_cell`` with display capture) and prints what each produced, as JSON.

    python -m IPython --quick driver.py CELLS.json

MLMODEL_TEST_HIDE_PANDAS=1 makes ``import pandas`` fail, as if it were not installed.
"""
import json
import os
import sys

if os.environ.get("MLMODEL_TEST_HIDE_PANDAS"):
    sys.modules["pandas"] = None  # type: ignore[assignment]

from IPython import get_ipython
from IPython.utils.capture import capture_output

ip = get_ipython()
assert ip is not None, "run this under IPython"
# A terminal shell formats text only; a notebook kernel asks for every type (HTML too).
ip.display_formatter.active_types = ip.display_formatter.format_types
with open(sys.argv[1], encoding="utf-8") as f:
    cells = json.load(f)

report = []
for source in cells:
    with capture_output() as cap:
        res = ip.run_cell(source, store_history=True)
    entry = {
        "source": source,
        "success": res.success,
        "stdout": cap.stdout,
        "stderr": cap.stderr,
        # A display with an id (the progress bar) and its updates are reported apart from the cell's outputs.
        "outputs": [o.data for o in cap.outputs if not (o.transient or {}).get("display_id")],
        "progress": [{"data": o.data, "update": bool(o.update)} for o in cap.outputs if (o.transient or {}).get("display_id")],
    }
    err = res.error_in_exec or res.error_before_exec
    if err is not None:
        entry["error"] = {
            "type": type(err).__name__,
            "code": getattr(err, "code", None),
            "rendered": "\n".join(err._render_traceback_()) if hasattr(err, "_render_traceback_") else str(err),
        }
    value = res.result
    if value is not None:
        data, _ = ip.display_formatter.format(value)
        entry["result"] = {"type": type(value).__name__, "mime": sorted(data), "html": data.get("text/html"), "plain": data.get("text/plain")}
        if type(value).__name__ == "DataFrame":
            entry["result"]["dtypes"] = {str(k): str(t) for k, t in value.dtypes.items()}
            entry["result"]["frame"] = json.loads(value.to_json(orient="split", date_format="iso", date_unit="s"))
    report.append(entry)

sys.__stdout__.write("@@REPORT@@" + json.dumps(report, default=str) + "\n")
