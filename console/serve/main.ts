import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import { EXIT_QUERY_FAILED, EXIT_USAGE, openFailureStatus } from '../exit-codes.js';
import { isLoopbackHost } from './auth.js';
import { terminalText } from '../render/terminal-text.js';

const SERVE_USAGE = `usage: mlmodel serve [--port N] [--host ADDR] [--home DIR] [--config FILE] [--user NAME]

  Serves the query API over HTTP (see docs/http.md):
    POST /query            {"q": "<query>"}  → {"fields", "results", …}
    POST /query/jobs       {"q": "<query>"}  → {"sid"}
    GET  /query/jobs/SID                     → {"status", "isEnd", "fields", "results"}

  --port N        port to listen on (default 6036; 0 picks a free one)
  --host ADDR     address to listen on (default 127.0.0.1). Without tokens in
                  the config's http.tokens only a loopback address is allowed.`;

export interface ServeIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * `mlmodel serve`: opens the registry once, serves until SIGINT/SIGTERM,
 * then cancels running queries and closes the stores. Prints
 * `listening on http://HOST:PORT` on stdout once it accepts requests.
 */
export async function serveMain(argv: readonly string[], io: ServeIo, stop?: AbortSignal): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        home: { type: 'string' },
        config: { type: 'string' },
        user: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr.write(`mlmodel serve: ${e instanceof Error ? e.message : String(e)}\n${SERVE_USAGE}\n`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout.write(SERVE_USAGE + '\n');
    return 0;
  }
  const port = values.port === undefined ? 6036 : Number(values.port);
  if (!/^\d{1,5}$/.test(values.port ?? '0') || port > 65535) {
    io.stderr.write(`mlmodel serve: --port must be a number from 0 to 65535\n`);
    return EXIT_USAGE;
  }
  const host = values.host ?? '127.0.0.1';

  const [{ openRegistry }, { createQueryServer }, { isMlmodelError }, { redact, loadConfig }] = await Promise.all([
    import('../../src/engine/registry.js'),
    import('./server.js'),
    import('../../src/errors.js'),
    import('../../src/config/index.js'),
  ]);
  let registry;
  try {
    const config = loadConfig(io.env, {
      ...(values.home ? { home: values.home } : {}),
      ...(values.config ? { config: values.config } : {}),
      ...(values.user ? { user: values.user } : {}),
    });
    if (config.http.tokens.size === 0 && !isLoopbackHost(host)) {
      io.stderr.write(
        `mlmodel serve: refusing to listen on ${host} without tokens; add http.tokens to the config file (see docs/http.md) or listen on 127.0.0.1\n`,
      );
      return EXIT_USAGE;
    }
    // Local paths over HTTP stay inside http.local_roots; with none, they are refused.
    registry = await openRegistry({ config, localRoots: config.http.localRoots });
  } catch (e) {
    if (!isMlmodelError(e)) throw e;
    io.stderr.write(`mlmodel serve: ${terminalText(redact(e.message))} (${e.code})\n`);
    return openFailureStatus(e);
  }
  const secrets = registry.config.secrets;
  const qs = createQueryServer({ registry, log: (line) => io.stderr.write(terminalText(redact(line, secrets)) + '\n') });
  let address;
  try {
    address = await qs.listen(port, host);
  } catch (e) {
    await registry.close();
    io.stderr.write(`mlmodel serve: cannot listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_QUERY_FAILED;
  }
  const tokens = registry.config.http.tokens.size;
  io.stderr.write(
    `mlmodel serve: ${tokens > 0 ? `${tokens} token(s) configured; every request needs one` : `no tokens configured: loopback callers only, as user ${registry.config.user}`}\n`,
  );
  const hosts = registry.config.http.allowedHosts;
  if (!isLoopbackHost(host) && hosts.length === 0) {
    // Reached by a name, it would refuse every request (403 FORBIDDEN_HOST): say so at the start.
    io.stderr.write(`mlmodel serve: answering the Host names localhost, 127.0.0.1, [::1] and this machine's addresses only; list other names in http.allowed_hosts\n`);
  }
  // The handlers are in place before the line that tells a supervisor it may signal us: a SIGTERM
  // right after it still closes cleanly (spilled results removed), not by the default action.
  const stopped = new Promise<void>((resolveStop) => {
    const done = () => resolveStop();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    stop?.addEventListener('abort', done, { once: true });
  });
  io.stdout.write(`listening on ${address.url}\n`);
  await stopped;
  io.stderr.write('mlmodel serve: stopping\n');
  await qs.close();
  await registry.close();
  return 0;
}
