"""The ``%mlmodel`` line magic and ``%%mlmodel`` cell magic."""
from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.display import display
from traitlets import Bool, Float, Unicode

from .client import CliClient, HttpClient, QueryError
from .result import Result

USAGE = """\
%mlmodel [options] QUERY          run one query; the value is its result
%%mlmodel [options]               run the cell: one query per line or ending at ;,
QUERY                             # comments, a trailing backslash continues a line;
…                                 each result is shown, the last is the value

options (before the query / on the %%mlmodel line):
  --url URL         use the HTTP query API at URL (default: MLMODEL_URL, else the CLI)
  --token-env VAR   read the bearer token from environment variable VAR (default MLMODEL_TOKEN)
  --cli COMMAND     the CLI to run (default: MLMODEL_CLI, else `mlmodel`)
  --home DIR        registry home, for the CLI
  --user NAME       act as NAME (CLI; over HTTP only for admin tokens)
  -o, --out NAME    also store the result in variable NAME (a list when the cell ran several queries)
  --html            show an HTML table even when pandas is installed
"""

_VALUE_OPTIONS = {"--url": "url", "--token-env": "token_env", "--cli": "cli", "--home": "home", "--user": "user",
                  "-o": "out", "--out": "out", "--timeout": "timeout"}
_FLAG_OPTIONS = {"--html": "html"}
_TOKEN = re.compile(r"""\s*("[^"]*"|'[^']*'|\S+)""")


@dataclass
class Options:
    url: Optional[str] = None
    token_env: Optional[str] = None
    cli: Optional[str] = None
    home: Optional[str] = None
    user: Optional[str] = None
    out: Optional[str] = None
    timeout: Optional[str] = None
    html: bool = False


def parse_options(line: str) -> Tuple[Options, str]:
    """Leading ``--option value`` words, then the query text untouched."""
    opts = Options()
    pos = 0
    while True:
        m = _TOKEN.match(line, pos)
        if not m or not m.group(1).startswith("-"):
            break
        word = m.group(1)
        name, _, inline = word.partition("=")
        if name in _FLAG_OPTIONS and not inline:
            setattr(opts, _FLAG_OPTIONS[name], True)
            pos = m.end()
            continue
        if name not in _VALUE_OPTIONS:
            raise UsageError(f"unknown option {name}\n\n{USAGE}")
        if inline:
            value, pos = inline, m.end()
        else:
            v = _TOKEN.match(line, m.end())
            if not v:
                raise UsageError(f"{name} needs a value\n\n{USAGE}")
            value, pos = v.group(1), v.end()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        setattr(opts, _VALUE_OPTIONS[name], value)
    return opts, line[pos:].strip()


@magics_class
class MlmodelMagics(Magics):
    """Run mlmodel queries from IPython. Configure with ``%config MlmodelMagics.url = '…'`` and friends."""

    url = Unicode(None, allow_none=True, help="HTTP query API base URL; default MLMODEL_URL; unset: use the CLI").tag(config=True)
    token_env = Unicode("MLMODEL_TOKEN", help="Environment variable holding the bearer token for the HTTP API").tag(config=True)
    cli = Unicode(None, allow_none=True, help="The CLI command line; default MLMODEL_CLI, else `mlmodel`").tag(config=True)
    home = Unicode(None, allow_none=True, help="Registry home for the CLI (--home)").tag(config=True)
    user = Unicode(None, allow_none=True, help="User to act as (--user)").tag(config=True)
    dataframe = Bool(True, help="Return pandas DataFrames when pandas is installed").tag(config=True)
    timeout = Float(600.0, help="Seconds to wait for a cell's queries").tag(config=True)

    @no_var_expand  # queries are passed verbatim: {…} and $ in option values are not Python
    @line_cell_magic
    def mlmodel(self, line: str, cell: Optional[str] = None) -> Any:
        opts, rest = parse_options(line)
        if cell is None:
            if not rest:
                raise UsageError(f"%mlmodel needs a query\n\n{USAGE}")
            source = rest
        else:
            if rest:
                raise UsageError(f"%%mlmodel takes options only on its first line; put queries in the cell\n\n{USAGE}")
            source = cell
        client = self._client(opts)
        try:
            results = client.run_script(source)
        except QueryError as e:
            # What ran before the failure is shown; the error ends the cell (so "Run All" stops there).
            for r in e.results:
                display(self._shown(r, opts))
            raise
        if not results:
            return None
        values = [self._shown(r, opts) for r in results]
        if opts.out:
            self.shell.user_ns[opts.out] = values[0] if len(values) == 1 else values
        for v in values[:-1]:
            display(v)
        return values[-1]

    def _client(self, opts: Options):
        timeout = float(opts.timeout) if opts.timeout else self.timeout
        url = opts.url or self.url or os.environ.get("MLMODEL_URL")
        user = opts.user or self.user
        if url:
            token_env = opts.token_env or self.token_env
            return HttpClient(url, token=os.environ.get(token_env) or None, user=user, timeout=timeout)
        cli = opts.cli or self.cli or os.environ.get("MLMODEL_CLI") or "mlmodel"
        return CliClient(shlex.split(cli), home=opts.home or self.home, user=user, timeout=timeout)

    def _shown(self, result: Result, opts: Options) -> Any:
        if opts.html or not self.dataframe:
            return result
        try:
            import pandas  # noqa: F401
        except ImportError:
            return result
        return result.to_dataframe()


def register(ipython) -> MlmodelMagics:
    magics = MlmodelMagics(shell=ipython)
    ipython.register_magics(magics)
    if magics not in getattr(ipython, "configurables", [magics]):
        ipython.configurables.append(magics)
    return magics
