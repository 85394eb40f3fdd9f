import { posix } from 'node:path';
import { printModelRef, quote } from '../../grammar/printer.js';
import { readModelRef } from '../../grammar/visitor.js';
import type { Registry } from '../../src/engine/registry.js';
import { checkLocalRoots } from '../../src/executor/location.js';
import type { Lookups } from './complete.js';

/** How many entries of a level completion offers: a person picks among a screenful, not a bucket. */
const LOOKUP_ROWS = 200;

const CONNECTOR_PART = /^OBJECTSTORAGE\.[A-Za-z0-9][A-Za-z0-9_-]*:/i;
const FILE_PART = /^FILE:/i;

/**
 * Completion's lookups over a registry, through the queries a person could
 * type: `mlmodel objects` for keys and local paths, `mlmodel versions` for
 * versions and aliases. Local paths stay inside `http.local_roots` when the
 * configuration names any (with none, the console reads any absolute path,
 * and completes the same).
 */
export function registryLookups(registry: Registry, opts: { timeoutMs?: number } = {}): Lookups {
  const roots = registry.config.http.localRoots;
  return {
    ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    async locations(prefix, signal) {
      const connector = CONNECTOR_PART.exec(prefix)?.[0];
      const lead = connector ?? FILE_PART.exec(prefix)?.[0] ?? '';
      const local = connector === undefined ? prefix.slice(lead.length) : null;
      const offered: string[] = [];
      if (local !== null && roots.length > 0) {
        // Above the roots, the roots themselves; inside one, what is there.
        for (const r of roots) {
          const root = `${posix.resolve(r)}/`.replace(/\/+$/, '/');
          if (root.startsWith(local) && root !== local) offered.push(lead + root);
        }
        const dir = local.slice(0, local.lastIndexOf('/')) || '/';
        const inside = await checkLocalRoots(dir, roots, prefix).then(
          () => true,
          () => false,
        );
        if (!inside) return offered;
      }
      const listing = await registry.run(`mlmodel objects path=${quote(prefix)} | head ${LOOKUP_ROWS} | fields key`, { signal });
      for (const [key] of listing.rows) offered.push(lead + String(key));
      return offered;
    },
    async refs(model, signal) {
      const { ref, problem } = readModelRef(model);
      if (problem || ref.version !== undefined || ref.alias !== undefined) return [];
      const table = await registry.run(`mlmodel versions ${quoteName(printModelRef(ref))} | fields version, aliases`, { signal });
      const versions = table.rows.map((r) => `${model}@${String(r[0])}`);
      const aliases = table.rows.flatMap((r) => (r[1] ? String(r[1]).split(',') : [])).map((a) => `${model}@${a}`);
      // Newest version first: the one a person most often means.
      return [...versions.reverse(), ...aliases.sort()];
    },
  };
}

/** A model name as a query takes it: bare when the lexer reads it back whole. */
function quoteName(name: string): string {
  return /^[^,|\s()'"=<>!\\;]+$/.test(name) ? name : quote(name);
}
