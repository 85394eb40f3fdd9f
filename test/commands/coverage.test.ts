import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, type CommandModule } from '../../src/commands/index.js';
import { language } from '../../src/language.js';
import { KEYWORDS } from '../grammar/arbitraries.js';
import { coverageProblems, docsPageOf } from './coverage.js';

const docsDir = new URL('../../docs/commands/', import.meta.url);
const keywords = KEYWORDS.map((k) => k.toLowerCase());
const fuzzerKeywords = language.tokens.keywords.map((t) => String(t.LABEL));

describe('the command list', () => {
  it('has every module of src/commands/ in it, once', async () => {
    const dir = new URL('../../src/commands/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !['index.ts', 'command.ts'].includes(f));
    const declared: CommandModule[] = [];
    for (const f of files) {
      const mod = (await import(new URL(f, dir).href)) as Record<string, unknown>;
      const commands = Object.values(mod).filter((v): v is CommandModule => typeof v === 'object' && v !== null && 'syntax' in v && 'execute' in v);
      expect(commands.length, `${f} declares one command`).toBe(1);
      declared.push(commands[0]!);
    }
    expect(new Set(COMMANDS).size).toBe(COMMANDS.length);
    for (const c of declared) expect(COMMANDS, c.syntax.keywords[0]).toContain(c);
    expect(COMMANDS).toHaveLength(declared.length);
  });

  it('gives every command a docs page, parsing and round-tripping examples, help, completion of every option, and its keywords to the generators', () => {
    expect(coverageProblems(COMMANDS, { docsDir, language, generatorKeywords: keywords, fuzzerKeywords })).toEqual([]);
    // And the docs folder has no page for a command that does not exist.
    const pages = readdirSync(docsDir).filter((f) => f.endsWith('.md'));
    expect(pages.sort()).toEqual(COMMANDS.map(docsPageOf).sort());
  });

  it('fails each check when an entry is removed or broken', () => {
    const deploy = COMMANDS.find((c) => c.syntax.keywords[0] === 'deploy')!;
    // A new command nobody documented, with an example that does not parse and a keyword no generator knows.
    const stray: CommandModule = {
      ...deploy,
      syntax: { ...deploy.syntax, keywords: ['promote'] },
      examples: ['mlmodel promote m label=stable', 'mlmodel promote m label='],
    };
    const problems = coverageProblems([...COMMANDS, stray], { docsDir, generatorKeywords: keywords, fuzzerKeywords });
    expect(problems).toEqual(
      expect.arrayContaining([
        'mlmodel promote: no docs page promote.md',
        expect.stringMatching(/^mlmodel promote: example does not parse: mlmodel promote m label= /),
        'mlmodel promote: the test generators never use promote as a name',
        'mlmodel promote: the parser fuzzer never uses promote',
        'mlmodel promote: help has no topic promote',
      ]),
    );
    // A keyword dropped from the generators' list is reported.
    expect(coverageProblems(COMMANDS, { docsDir, language, generatorKeywords: keywords.filter((k) => k !== 'fsck') })).toEqual([
      'mlmodel fsck: the test generators never use fsck as a name',
    ]);
    // An option completion does not know (declared by a module the language was not built from) is reported.
    const withOption: CommandModule = { ...deploy, syntax: { ...deploy.syntax, options: { ...deploy.syntax.options, canary: { type: 'boolean', summary: 'x' } } } };
    const others = COMMANDS.filter((c) => c !== deploy);
    expect(coverageProblems([...others, withOption], { docsDir, language, generatorKeywords: keywords })).toEqual(
      expect.arrayContaining(['mlmodel deploy: completion does not offer canary=', 'mlmodel deploy: docs page does not show option canary=']),
    );
  });

  it('dispatches every AST kind to its module, and refuses an unknown kind instead of listing', async () => {
    for (const rule of language.commandRules) {
      for (const kind of rule.syntax.kind ? [rule.syntax.kind] : rule.syntax.keywords) expect(language.ruleFor(kind)).toBe(rule);
    }
    const { openRegistry } = await import('../../src/engine/registry.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const home = mkdtempSync(join(tmpdir(), 'mlmodel-dispatch-'));
    const registry = await openRegistry({ env: { MLMODEL_HOME: home } });
    try {
      await expect(registry.execute({ kind: 'query', command: { kind: 'promote' }, stages: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await registry.close();
    }
  });

  it('treats option keys as declared names only: __proto__, constructor and toString are unknown options', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(() => language.parse(`mlmodel deploy m ${key}=1`), key).toThrow(/has no option/);
      expect(() => language.parse(`mlmodel import ${key}=1`), key).toThrow(/has no option/);
    }
  });

  it('checks every option by its declared type, naming the valid values', () => {
    const bad: Array<[string, RegExp]> = [
      ['mlmodel fsck grace=abc', /grace=abc is not a duration/],
      ['mlmodel fsck grace=-99999999', /grace=-99999999 is not a duration/],
      ['mlmodel fsck repair=perhaps', /repair=perhaps is not a boolean; use repair=true or repair=false/],
      ['mlmodel export name=m path=/x overwrite=perhaps', /overwrite=perhaps is not a boolean/],
      ['mlmodel export name=m path=/x expires=0', /expires=0 is out of range: from 1 to 604800/],
      ['mlmodel export name=m path=/x expires=1.5', /expires=1.5 is not a whole number/],
      ['mlmodel export name=m@ path=/x', /name: a version number or alias is missing/],
      ['mlmodel import name=m type=keras path=/x', /type=keras is not one of r, sklearn, spark, tf, onnx/],
      ['mlmodel files m sortby=date', /sortby=date is not one of name, mod, size/],
      ['mlmodel deploy m lable=x', /mlmodel deploy has no option lable\. Did you mean label\?/],
      ['mlmodel fsck grace=1h grace=2h', /option grace is given twice/],
    ];
    for (const [q, message] of bad) expect(() => language.parse(q), q).toThrow(message);
    expect(language.parse('mlmodel fsck grace=2h repair=TRUE quick=no').command.options).toHaveLength(3);
  });
});
