import type { Registry } from '../src/engine/registry.js';
import type { CliOptions } from './args.js';
import { openFailureStatus } from './exit-codes.js';
import type { Io } from './main.js';

/**
 * Opens the registry the command line names (--home, --config, --user over
 * the environment), or says on stderr why it cannot and returns the exit
 * status: 2 for a configuration the person must fix, 1 for a store that
 * cannot be reached. The engine is imported here, never at start-up.
 */
export async function openFromCommandLine(options: CliOptions, io: Pick<Io, 'env' | 'stderr'>): Promise<Registry | number> {
  const [{ openRegistry }, { isMlmodelError }, { redact }, { terminalText }] = await Promise.all([
    import('../src/engine/registry.js'),
    import('../src/errors.js'),
    import('../src/config/redact.js'),
    import('./render/terminal-text.js'),
  ]);
  try {
    return await openRegistry({
      env: io.env,
      configOptions: {
        ...(options.home ? { home: options.home } : {}),
        ...(options.config ? { config: options.config } : {}),
        ...(options.user ? { user: options.user } : {}),
      },
    });
  } catch (e) {
    if (!isMlmodelError(e)) throw e;
    io.stderr.write(`mlmodel: ${terminalText(redact(e.message))} (${e.code})\n`);
    return openFailureStatus(e);
  }
}
