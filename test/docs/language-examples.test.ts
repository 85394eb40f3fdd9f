import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError, splitScript } from '../../grammar/index.js';
import { parse } from '../../src/language.js';
import { COMMANDS } from '../../src/commands/index.js';
import { docsPageOf } from '../commands/coverage.js';

/**
 * Every query the language reference shows must parse — except the ones in
 * its Errors section, which must fail exactly as shown.
 */
const doc = readFileSync(new URL('../../docs/language.md', import.meta.url), 'utf8');
const [before, errorsAndAfter = ''] = doc.split('\n## Errors\n');
const [errorsSection = '', after = ''] = errorsAndAfter.split('\n## Canonical form\n');

function queriesIn(markdown: string): string[] {
  const found: string[] = [];
  const QUERY = /^(\* \| )?(mlmodel|serving)\b/;
  // Syntax templates (`mlmodel summary NAME [f1,f2…]`) and command lines are not queries.
  const TEMPLATE = /\b(NAME|NEW|options)\b|\[|--/;
  for (const m of markdown.matchAll(/`([^`\n]+)`/g)) if (QUERY.test(m[1]!) && !TEMPLATE.test(m[1]!)) found.push(m[1]!);
  for (const block of markdown.matchAll(/```\n([\s\S]*?)```/g)) {
    const text = block[1]!.replace(/\\\n/g, ' \n');
    for (const line of text.split(/\n(?=\S)/)) if (QUERY.test(line.trim())) found.push(line.trim());
  }
  return found;
}

describe('docs/language.md', () => {
  const examples = [...queriesIn(before!), ...queriesIn(after)];

  it('shows plenty of examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(15);
  });

  it.each(examples)('parses %s', (q) => {
    // An example may hold several statements (`a; b`): each is cut out by the one splitter, then
    // parsed. (Continued lines were joined above, so only a `;` example goes through the splitter.)
    const statements = q.includes(';') ? splitScript(q) : [{ text: q, line: 1 }];
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expect(parse(s.text).kind).toBe('query');
  });

  it('shows errors exactly as the parser renders them', () => {
    for (const block of errorsSection.matchAll(/```\n([\s\S]*?)```/g)) {
      const lines = block[1]!.replace(/^\$ .*\n/, '').trimEnd().split('\n');
      const header = lines[0]!;
      const shown = lines[1]!.slice(2);
      let rendered = '';
      try {
        parse(shown);
      } catch (e) {
        expect(e).toBeInstanceOf(ParseError);
        const origin = header.startsWith('parse error at -c,') ? '-c' : undefined;
        rendered = (e as ParseError).render(origin ? { origin } : {});
      }
      expect(rendered).toBe(lines.join('\n'));
    }
  });
});

describe('docs/commands', () => {
  const dir = new URL('../../docs/commands/', import.meta.url);
  const pages = readdirSync(dir).filter((f) => f.endsWith('.md'));

  it('has a page per command of the command list, and no other', () => {
    expect(pages.sort()).toEqual(COMMANDS.map(docsPageOf).sort());
  });

  it.each(pages)('every query typed at a prompt in %s parses', (page) => {
    const text = readFileSync(new URL(page, dir), 'utf8');
    const typed = [...text.matchAll(/^> (.+)$/gm)].map((m) => m[1]!);
    expect(typed.length).toBeGreaterThan(0);
    for (const q of typed) expect(parse(q).kind).toBe('query');
  });
});
