"""Reads config.pbtxt texts (one JSON string per line on stdin) with protobuf's
text_format into Triton's own ModelConfig (tritonclient's model_config_pb2)
and prints, per input, {name, platform, backend, max_batch_size, versions,
inputs, outputs} or {"error": message}."""
import glob
import importlib.util
import json
import os
import sys

from google.protobuf import text_format

# tritonclient/grpc/__init__.py imports grpc, which the protos do not need: load the module file alone.
import tritonclient

path = glob.glob(os.path.join(os.path.dirname(tritonclient.__file__), "grpc", "model_config_pb2.py"))[0]
spec = importlib.util.spec_from_file_location("model_config_pb2", path)
model_config_pb2 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model_config_pb2)


def tensors(ts):
    return [{"name": t.name, "data_type": model_config_pb2.DataType.Name(t.data_type), "dims": list(t.dims)} for t in ts]


for line in sys.stdin:
    text = json.loads(line)
    try:
        c = text_format.Parse(text, model_config_pb2.ModelConfig())
        out = {
            "name": c.name,
            "platform": c.platform,
            "backend": c.backend,
            "max_batch_size": c.max_batch_size,
            "versions": list(c.version_policy.specific.versions),
            "inputs": tensors(c.input),
            "outputs": tensors(c.output),
        }
    except Exception as e:  # a parse failure is the answer for this input
        out = {"error": str(e)}
    print(json.dumps(out), flush=True)
