"""The authorization_function of the REST import test's `mlflow server --app-name basic-auth`.

MLflow's own HTTP Basic check (its user store), and besides it a bearer token
(MLMODEL_TEST_MLFLOW_TOKEN in the server's environment) taken as the admin
user, as a server behind a token-checking gateway sees one: what MLflow's
clients send for MLFLOW_TRACKING_TOKEN. Configured through the test's
MLFLOW_AUTH_CONFIG_PATH, with this directory on PYTHONPATH.
"""
import hmac
import os

from flask import request
from werkzeug.datastructures import Authorization

from mlflow.server.auth import authenticate_request_basic_auth, make_basic_auth_response


def authenticate():
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        if hmac.compare_digest(header[len("Bearer "):].encode(), os.environ["MLMODEL_TEST_MLFLOW_TOKEN"].encode()):
            return Authorization("basic", {"username": "admin", "password": ""})
        return make_basic_auth_response()
    return authenticate_request_basic_auth()
