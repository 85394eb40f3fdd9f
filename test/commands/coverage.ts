import { existsSync, readFileSync } from 'node:fs';
import { complete, EMPTY_CATALOG } from '../../console/repl/complete.js';
import { helpTopics, topicHelp } from '../../console/repl/help.js';
import { createLanguage, type Language } from '../../grammar/language.js';
import type { CommandModule } from '../../src/commands/index.js';

/** The docs page of a command: docs/commands/<kind, kebab-case>.md (servingStatus → serving-status.md). */
export function docsPageOf(module: CommandModule): string {
  const kind = module.syntax.kind ?? module.syntax.keywords[0];
  return `${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.md`;
}

/**
 * Everything a command list must have for the rest of the project to derive
 * from it, as a list of problems (empty when all is well). The test runs it
 * on the real list, and on lists with one thing removed or broken to show
 * that each check fails.
 */
export function coverageProblems(
  modules: readonly CommandModule[],
  opts: { docsDir: URL; language?: Language; generatorKeywords: readonly string[]; fuzzerKeywords?: readonly string[] },
): string[] {
  const problems: string[] = [];
  const lang = opts.language ?? createLanguage(modules.map((m) => m.syntax));
  const topics = new Set(helpTopics());
  for (const m of modules) {
    const title = `${m.syntax.prefix ?? 'mlmodel'} ${m.syntax.keywords[0]}`;
    const page = new URL(docsPageOf(m), opts.docsDir);
    if (!existsSync(page)) {
      problems.push(`${title}: no docs page ${docsPageOf(m)}`);
    } else {
      const text = readFileSync(page, 'utf8');
      for (const key of Object.keys(m.syntax.options ?? {})) {
        if (!new RegExp(`(^|[^\\w])${key}([^\\w]|$)`, 'm').test(text)) problems.push(`${title}: docs page does not show option ${key}=`);
      }
      for (const k of m.syntax.keywords) if (!text.includes(k)) problems.push(`${title}: docs page does not name ${k}`);
    }
    for (const e of m.examples) {
      try {
        const ast = lang.parse(e);
        const again = lang.parse(lang.print(ast));
        if (JSON.stringify(again) !== JSON.stringify(ast)) problems.push(`${title}: example does not round-trip: ${e}`);
        if (!m.syntax.keywords.some((k) => ast.command.kind === (m.syntax.kind ?? k))) problems.push(`${title}: example is not this command: ${e}`);
      } catch (err) {
        problems.push(`${title}: example does not parse: ${e} (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    for (const k of m.syntax.keywords) {
      if (!topics.has(k) || topicHelp(k) === undefined) problems.push(`${title}: help has no topic ${k}`);
      if (!opts.generatorKeywords.includes(k)) problems.push(`${title}: the test generators never use ${k} as a name`);
      if (opts.fuzzerKeywords && !opts.fuzzerKeywords.includes(k)) problems.push(`${title}: the parser fuzzer never uses ${k}`);
      // Every keyword is also a name: a model may be called like a command.
      try {
        lang.parse(`mlmodel summary ${k}`);
      } catch {
        problems.push(`${title}: ${k} cannot be a model name`);
      }
    }
    const declared = Object.keys(m.syntax.options ?? {});
    if (declared.length > 0) {
      // The parts before the options, filled in: a model, a word (a sub-command's first word), a required list.
      const before = m.syntax.args.flatMap((a) =>
        a.kind === 'model' ? ['m'] : a.kind === 'word' ? [a.words?.[0] ?? 'w1'] : a.kind === 'names' && !a.optional ? ['x1'] : [],
      );
      const head = `${[title, ...before].join(' ')} `;
      const offered = complete(head, head.length, EMPTY_CATALOG).candidates;
      for (const key of declared) if (!offered.includes(key)) problems.push(`${title}: completion does not offer ${key}=`);
    }
    if (m.columns.length === 0) problems.push(`${title}: declares no result columns`);
  }
  return problems;
}
