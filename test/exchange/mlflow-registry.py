"""Builds an MLflow model registry with MLflow's own API, for the import test.

usage: mlflow-registry.py DB ARTIFACTS

Three registered models: "iris" (two sklearn versions from two runs with
params and metrics, a description, model and version tags, an alias, a
version description), "spaced name" (a name mlmodel refuses) and
"skops_model" (saved as skops, without the model.pkl mlmodel requires).
"""
import sys

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

db, artifacts = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(f"sqlite:///{db}")
experiment = mlflow.create_experiment("iris", artifact_location=f"file://{artifacts}")
X, y = load_iris(return_X_y=True)
for c in (0.5, 1.0):
    with mlflow.start_run(experiment_id=experiment):
        mlflow.log_param("C", c)
        mlflow.log_param("max_iter", 300)
        model = LogisticRegression(C=c, max_iter=300).fit(X, y)
        mlflow.log_metric("accuracy", float(model.score(X, y)))
        # pickle (cloudpickle): what mlmodel's sklearn type holds, model.pkl
        mlflow.sklearn.log_model(model, name="model", registered_model_name="iris", serialization_format="cloudpickle")
with mlflow.start_run(experiment_id=experiment):
    mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model", registered_model_name="spaced name", serialization_format="cloudpickle")
with mlflow.start_run(experiment_id=experiment):
    # MLflow's default serialization (skops): no model.pkl, so not an archive mlmodel's sklearn type takes
    mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model", registered_model_name="skops_model")
client = MlflowClient()
client.update_registered_model("iris", description="iris classifier")
client.set_registered_model_tag("iris", "team", "ml")
client.set_model_version_tag("iris", "2", "validated", "yes")
client.set_registered_model_alias("iris", "champion", "1")
client.update_model_version("iris", "1", description="first cut")
print("ok")
