"""The ``%mlmodel`` line magic and ``%%mlmodel`` cell magic."""
from __future__ import annotations

import html
import os
import re
import shlex
import sys
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.display import display
from IPython.utils.text import DollarFormatter
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
  --expand          expand {name} and $name from the notebook's variables in the query ({{ and $$ are a
                    literal { and $); off by default, so braces and $ are the query's own
  --no-expand       do not, even when %config MlmodelMagics.expand = True
  --timeout SECONDS how long to wait (default 600)

%mlmodel help [TOPIC]   the console's help: every command and stage, or one (help deploy)
Ctrl-C (Kernel > Interrupt) cancels the running query; what it had half-written is removed.
"""

_VALUE_OPTIONS = {"--url": "url", "--token-env": "token_env", "--cli": "cli", "--home": "home", "--user": "user",
                  "-o": "out", "--out": "out", "--timeout": "timeout"}
_FLAG_OPTIONS = {"--html": ("html", True), "--expand": ("expand", True), "--no-expand": ("expand", False)}
#: `help`, `help deploy` (with or without the leading mlmodel): answered with the CLI's help text.
_HELP = re.compile(r"^\s*(?:mlmodel\s+)?help(?:\s+(\S+))?\s*;?\s*$", re.IGNORECASE)
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
    expand: Optional[bool] = None


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
            setattr(opts, *_FLAG_OPTIONS[name])
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
    expand = Bool(False, help="Expand {name} and $name from the notebook's variables in queries (like --expand)").tag(config=True)
    progress = Bool(True, help="Show a progress bar for long imports and exports (with the CLI)").tag(config=True)

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
        if opts.expand if opts.expand is not None else self.expand:
            source = self._expanded(source)
        help_topic = _HELP.match(source)
        if help_topic:
            print(self._cli_client(opts).help(help_topic.group(1) or ""), end="")
            return None
        client = self._client(opts)
        bar = ProgressBar() if self.progress else None
        try:
            results = client.run_script(source, progress=bar)
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

    def _expanded(self, text: str) -> str:
        """IPython's own {name} / $name expansion, from the notebook's variables. Asked for, so a name that is
        not defined is an error rather than text passed on as it was."""
        try:
            return DollarFormatter().vformat(text, args=[], kwargs=self.shell.user_ns)
        except Exception as e:  # noqa: BLE001 -- any failure of the expression inside {…}
            raise UsageError(f"--expand: cannot expand the query: {type(e).__name__}: {e}; write {{{{ and $$ for a literal {{ and $") from None

    def _client(self, opts: Options):
        url = opts.url or self.url or os.environ.get("MLMODEL_URL")
        if url:
            token_env = opts.token_env or self.token_env
            return HttpClient(url, token=os.environ.get(token_env) or None, user=opts.user or self.user, timeout=self._timeout(opts))
        return self._cli_client(opts)

    def _cli_client(self, opts: Options) -> CliClient:
        # help is the CLI's even when queries go to a server: it is the same text, from the same command declarations.
        cli = opts.cli or self.cli or os.environ.get("MLMODEL_CLI") or "mlmodel"
        return CliClient(shlex.split(cli), home=opts.home or self.home, user=opts.user or self.user, timeout=self._timeout(opts))

    def _timeout(self, opts: Options) -> float:
        try:
            return float(opts.timeout) if opts.timeout else self.timeout
        except ValueError:
            raise UsageError(f"--timeout takes a number of seconds, like --timeout 60; found {opts.timeout}") from None

    def _shown(self, result: Result, opts: Options) -> Any:
        if opts.html or not self.dataframe:
            return result
        try:
            import pandas  # noqa: F401
        except ImportError:
            return result
        return result.to_dataframe()


class ProgressBar:
    """Draws the CLI's progress reports: in a notebook, one output that updates in place (an HTML <progress>
    with the console's progress line beside it, the line alone as text); in a terminal IPython, the console's
    line on stderr, rewritten with a carriage return. Wiped when the command ends."""

    def __init__(self) -> None:
        self._handle = None
        self._terminal = False
        self._mode: Optional[str] = None

    def __call__(self, report: Optional[dict]) -> None:
        if report is None or report.get("clear"):
            self._clear()
            return
        line = str(report.get("line", ""))
        self._mode = self._mode or _progress_mode()
        if self._mode == "none":
            return
        if self._mode == "text":
            self._terminal = True
            sys.stderr.write(f"\r{line}\x1b[K")
            sys.stderr.flush()
            return
        fraction = report.get("fraction")
        value = f' value="{float(fraction):.4f}" max="1"' if isinstance(fraction, (int, float)) else ""
        data = {
            "text/plain": line,
            "text/html": f'<div class="mlmodel-progress"><progress{value}></progress> <code>{html.escape(line)}</code></div>',
        }
        if self._handle is None:
            self._handle = display(data, raw=True, display_id=True)
        else:
            self._handle.update(data, raw=True)

    def _clear(self) -> None:
        if self._terminal:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._terminal = False
        elif self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
            self._handle = None


def _progress_mode() -> str:
    """"display" where outputs can be updated in place (a notebook kernel, or any front end with a display
    publisher of its own); "text" in a terminal IPython whose stderr is a terminal; "none" otherwise (a terminal
    IPython with stderr redirected would print every update as a line of its own)."""
    from IPython import get_ipython
    from IPython.core.displaypub import DisplayPublisher

    shell = get_ipython()
    if shell is not None and (getattr(shell, "kernel", None) is not None or type(shell.display_pub) is not DisplayPublisher):
        return "display"
    isatty = getattr(sys.stderr, "isatty", None)
    return "text" if isatty and isatty() else "none"


def register(ipython) -> MlmodelMagics:
    magics = MlmodelMagics(shell=ipython)
    ipython.register_magics(magics)
    if magics not in getattr(ipython, "configurables", [magics]):
        ipython.configurables.append(magics)
    return magics
