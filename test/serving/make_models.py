"""Trains the serving tests' models on scikit-learn's bundled iris data and
converts them with skl2onnx. Writes into the directory given as argv[1]:

- <name>.tar: a model archive holding model.onnx, as `import … type=onnx` reads it
  (iris_lr, iris_lr_strong: classifiers; iris_reg: a regressor; unloadable: a
  graph ONNX Runtime refuses; one_row, row_sum: graphs that declare a dynamic
  first dimension but do not answer row by row, for dynamic batching's fallbacks);
- expected.json: per model, the rows sent and scikit-learn's own answers
  (predict, and predict_proba for classifiers), computed on the very float32
  values the requests carry.
"""
import io
import json
import sys
import tarfile

import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression

out = sys.argv[1]
iris = load_iris()
X = iris.data.astype(np.float32)
y = iris.target


def archive(name, onnx_model):
    data = onnx_model.SerializeToString()
    with tarfile.open(f"{out}/{name}.tar", "w") as tar:
        info = tarfile.TarInfo("model.onnx")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


expected = {}
rows = X[::7]  # 22 rows across the three classes

for name, c in [("iris_lr", 1.0), ("iris_lr_strong", 0.01)]:
    clf = LogisticRegression(C=c, max_iter=1000).fit(X, y)
    archive(name, to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}}, target_opset=17))
    expected[name] = {
        "rows": rows.astype(float).tolist(),
        "label": clf.predict(rows).tolist(),
        "probabilities": clf.predict_proba(rows).tolist(),
    }

# A regressor: petal width from the other three measurements.
Xr = X[:, :3]
reg = LinearRegression().fit(Xr, X[:, 3])
archive("iris_reg", to_onnx(reg, Xr[:1], target_opset=17))
expected["iris_reg"] = {"rows": Xr[::7].astype(float).tolist(), "variable": reg.predict(Xr[::7]).tolist()}

# A real graph ONNX Runtime refuses to load: its one node is an operator no
# runtime knows. Its inputs and outputs read fine, so deploy publishes it and
# the model server's load is what fails.
from onnx import TensorProto, helper

node = helper.make_node("NoSuchOperator", ["X"], ["Y"], domain="mlmodel.test")
graph = helper.make_graph(
    [node], "unloadable",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 4])],
)
archive("unloadable", helper.make_model(graph, ir_version=8, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("mlmodel.test", 1)]))

# Two real graphs whose first dimension is declared dynamic (None) but is not a
# batch: one_row reshapes its input to [1, 4] (ONNX Runtime refuses more than one
# row); row_sum adds its rows up into one. A dynamic batcher must answer each
# request as if it ran alone.
one_row = helper.make_graph(
    [helper.make_node("Reshape", ["X", "shape"], ["Y"])], "one_row",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 4])],
    initializer=[helper.make_tensor("shape", TensorProto.INT64, [2], [1, 4])],
)
archive("one_row", helper.make_model(one_row, ir_version=8, opset_imports=[helper.make_opsetid("", 17)]))
row_sum = helper.make_graph(
    [helper.make_node("ReduceSum", ["X", "axes"], ["Y"], keepdims=1)], "row_sum",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 4])],
    initializer=[helper.make_tensor("axes", TensorProto.INT64, [1], [0])],
)
archive("row_sum", helper.make_model(row_sum, ir_version=8, opset_imports=[helper.make_opsetid("", 17)]))

with open(f"{out}/expected.json", "w") as f:
    json.dump(expected, f)
