"""Builds an MLflow model registry through a running tracking server, with MLflow's own client, for the REST import test.

usage: mlflow-rest-registry.py TRACKING_URL S3_BUCKET

The server stores artifacts in S3 (MinIO) behind its artifact proxy
(--artifacts-destination s3://BUCKET/proxied --serve-artifacts); the client
reaches MinIO itself (MLFLOW_S3_ENDPOINT_URL, AWS_* in the environment) for
the experiment whose artifact location is s3://BUCKET/direct.

"iris": two sklearn versions from two runs with params and metrics, through
the proxy, with a description, model and version tags, an alias and a
version description. "iris_s3": one version whose artifacts are written
straight to s3://BUCKET/direct by the client (boto3). "elsewhere": two
versions whose sources are in stores mlmodel does not read (Google Cloud
Storage, Azure Blob Storage), registered without their bytes.

The server asks for credentials (basic-auth app): the client sends
MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD from the environment.
"""
import sys

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

url, bucket = sys.argv[1], sys.argv[2]
mlflow.set_tracking_uri(url)
proxied = mlflow.create_experiment("proxied")
direct = mlflow.create_experiment("direct", artifact_location=f"s3://{bucket}/direct")
X, y = load_iris(return_X_y=True)
for c in (0.5, 1.0):
    with mlflow.start_run(experiment_id=proxied):
        mlflow.log_param("C", c)
        model = LogisticRegression(C=c, max_iter=300).fit(X, y)
        mlflow.log_metric("accuracy", float(model.score(X, y)))
        # pickle (cloudpickle): what mlmodel's sklearn type holds, model.pkl
        mlflow.sklearn.log_model(model, name="model", registered_model_name="iris", serialization_format="cloudpickle")
with mlflow.start_run(experiment_id=direct):
    mlflow.log_param("C", 2.0)
    mlflow.sklearn.log_model(LogisticRegression(C=2.0, max_iter=300).fit(X, y), name="model", registered_model_name="iris_s3", serialization_format="cloudpickle")
client = MlflowClient()
client.update_registered_model("iris", description="iris classifier")
client.set_registered_model_tag("iris", "team", "ml")
client.set_model_version_tag("iris", "2", "validated", "yes")
client.set_registered_model_alias("iris", "champion", "1")
client.update_model_version("iris", "1", description="first cut")
client.create_registered_model("elsewhere")
client.create_model_version("elsewhere", "gs://mlflow-bucket/models/elsewhere/1")
client.create_model_version("elsewhere", "wasbs://models@mlflowaccount.blob.core.windows.net/elsewhere/2")
print("ok")
