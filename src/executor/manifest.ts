import type { ManifestEntry } from '../archive/index.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { manifestKey } from './object-keys.js';
import { readObject } from '../store/read-object.js';

/** The per-file manifest (path, size, mtime, sha256) recorded when a version was imported. */
export async function readManifest(ctx: EngineContext, uid: string): Promise<ManifestEntry[]> {
  if (!(await ctx.objects.stat(manifestKey(uid)))) {
    throw new MlmodelError('OBJECT_NOT_FOUND', `the manifest of version ${uid} is missing; run mlmodel fsck`, { uid });
  }
  return JSON.parse((await readObject(ctx.objects, manifestKey(uid))).toString('utf8')) as ManifestEntry[];
}

/**
 * Python-fnmatch-style patterns, as bolt4ds users write them: `*` any run of
 * characters (`/` included), `?` one character, `[abc]`/`[!abc]` a set.
 * Compiled by hand, every other character literal.
 */
export function globMatcher(pattern: string): (path: string) => boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let set = pattern.slice(i + 1, end);
        const negate = set.startsWith('!');
        if (negate) set = set.slice(1);
        re += `[${negate ? '^' : ''}${set.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, (m) => `\\${m}`);
  }
  const compiled = new RegExp(`${re}$`, 'u');
  // A pattern without '/' matches the file name anywhere, as `include='*.pb'` means.
  return pattern.includes('/') ? (p) => compiled.test(p) : (p) => compiled.test(p.slice(p.lastIndexOf('/') + 1));
}
