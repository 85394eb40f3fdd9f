import type { CliOptions } from '../args.js';
import { EXIT_OK } from '../exit-codes.js';
import type { Io } from '../main.js';

/**
 * The interactive console: opens the registry, loads history, and hands the
 * terminal to Ink until the person leaves. Loaded by `main` only when stdin
 * is a terminal, so batch runs never load Ink or React.
 */
export async function runRepl(options: CliOptions, io: Io): Promise<number> {
  const [{ openFromCommandLine }, ink, react, { ReplApp }, { ReplController }, { History }, { registryBackend }, { terminalPager }] =
    await Promise.all([
      import('../open-registry.js'),
      import('ink'),
      import('react'),
      import('./app.js'),
      import('./controller.js'),
      import('./history.js'),
      import('./session.js'),
      import('../pager.js'),
    ]);
  const registry = await openFromCommandLine(options, io);
  if (typeof registry === 'number') return registry;
  try {
    const history = await History.load(registry.config.historyFile, { secrets: registry.config.secrets });
    const color = io.stdout.isTTY === true && !io.env.NO_COLOR;
    const page = options.pager ? terminalPager({ stdout: io.stdout, env: io.env }) : null;
    const controller = new ReplController({
      ...(page ? { pager: { page, rows: () => io.stdout.rows } } : {}),
      backend: registryBackend(registry),
      history,
      format: options.format,
      color,
      width: io.stdout.columns ?? 80,
      banner: `mlmodel console (user ${registry.config.user}, home ${registry.config.home}). Type help for commands, \\q or Ctrl-D to leave.`,
    });
    const app = ink.render(react.createElement(ReplApp, { controller, color }), {
      stdin: io.stdin as NodeJS.ReadStream,
      stdout: io.stdout as NodeJS.WriteStream,
      stderr: io.stderr as NodeJS.WriteStream,
      // Ctrl-C cancels the running query instead (the controller handles it).
      exitOnCtrlC: false,
      // A driver's console.warn is printed above the prompt instead of through it.
      patchConsole: true,
    });
    await app.waitUntilExit();
    await controller.idle.catch(() => undefined);
    await history.flush();
    return EXIT_OK;
  } finally {
    await registry.close();
  }
}
