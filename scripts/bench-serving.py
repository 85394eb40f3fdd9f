"""The models of bench:serving (bench/serving.ts), made in the bench's MLflow
virtualenv: one scikit-learn LogisticRegression trained on the iris data that
scikit-learn ships, saved twice —

- as an MLflow model (mlflow.sklearn.save_model) for `mlflow models serve`;
- converted with skl2onnx (zipmap off) into a tar holding model.onnx, for
  `mlmodel import … type=onnx`.

  python bench-serving.py OUT_DIR   → prints {"mlflow_model", "onnx_tar", "row"} as JSON
"""
import io
import json
import sys
import tarfile

import mlflow.sklearn
import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

out = sys.argv[1]
X, y = load_iris(return_X_y=True)
X = X.astype(np.float32)
clf = LogisticRegression(max_iter=1000).fit(X, y)
mlflow.sklearn.save_model(clf, f"{out}/mlflow-model")
data = to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}}, target_opset=17).SerializeToString()
with tarfile.open(f"{out}/iris.tar", "w") as tar:
    info = tarfile.TarInfo("model.onnx")
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
print(json.dumps({"mlflow_model": f"{out}/mlflow-model", "onnx_tar": f"{out}/iris.tar", "row": X[0].astype(float).tolist()}))
