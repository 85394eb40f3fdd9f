"""Reads models.config texts (one JSON string per line on stdin) with protobuf's
text_format into TF Serving's ModelServerConfig and prints, per input, either
{"models": [{name, base_path, versions, labels}]} or {"error": message}."""
import json
import sys

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

for line in sys.stdin:
    text = json.loads(line)
    try:
        config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
        out = {"models": [
            {
                "name": c.name,
                "base_path": c.base_path,
                "platform": c.model_platform,
                "versions": list(c.model_version_policy.specific.versions),
                "labels": dict(c.version_labels),
            }
            for c in config.model_config_list.config
        ]}
    except Exception as e:  # a parse failure is the answer for this input
        out = {"error": str(e)}
    print(json.dumps(out), flush=True)
