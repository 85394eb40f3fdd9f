"""IPython magics for the mlmodel query language.

    %load_ext mlmodel_magic
    %mlmodel mlmodel list | where type = tf | head 5
    %%mlmodel
    mlmodel list | fields name, version
    mlmodel summary mnist_v1

Queries run through the mlmodel CLI's JSON output, or through the HTTP query
API when a URL is set (MLMODEL_URL, ``--url`` or ``%config MlmodelMagics.url``).
Results are pandas DataFrames when pandas is installed, HTML tables otherwise.
"""
from .client import CliClient, HttpClient, Interrupted, QueryError
from .result import Result, to_dataframe, to_html

__all__ = ["CliClient", "HttpClient", "Interrupted", "MlmodelMagics", "QueryError", "Result", "to_dataframe", "to_html",
           "load_ipython_extension", "unload_ipython_extension"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # The magics need IPython; a training script that imports only mlmodel_magic.tracking does not load it.
    if name == "MlmodelMagics":
        from .magic import MlmodelMagics

        return MlmodelMagics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:
    from .magic import register

    register(ipython)


def unload_ipython_extension(ipython) -> None:
    pass
