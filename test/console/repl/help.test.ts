import { describe, expect, it } from 'vitest';
import { generalHelp, helpExamples, helpTopics, topicHelp } from '../../../console/repl/help.js';
import { STAGE_KEYWORDS } from '../../../grammar/index.js';
import { COMMANDS } from '../../../src/commands/index.js';
import { language, parse } from '../../../src/language.js';

describe('help', () => {
  it('has a page for every keyword of every command, for serving and every stage, each with its grammar', () => {
    const keywords = [...new Set(COMMANDS.flatMap((c) => c.syntax.keywords))];
    expect(helpTopics()).toEqual(expect.arrayContaining([...keywords, 'serving', ...STAGE_KEYWORDS]));
    expect(helpTopics()).toHaveLength(keywords.length + 1 + STAGE_KEYWORDS.length);
    for (const topic of helpTopics()) {
      const page = topicHelp(topic);
      expect(page, topic).toBeDefined();
      const grammar = topic === 'serving' || topic === 'status' ? 'SERVING STATUS' : STAGE_KEYWORDS.includes(topic as never) ? `| ${topic.toUpperCase()}` : `mlmodel `;
      expect(page, topic).toContain(grammar);
    }
    // Every declared option is on its command's page, with its type.
    for (const c of COMMANDS) {
      for (const key of Object.keys(c.syntax.options ?? {})) expect(topicHelp(c.syntax.keywords[0]), key).toMatch(new RegExp(`^  ${key}=`, 'm'));
    }
  });

  it("prints the parser's grammar with its sub-rules, IRIS style", () => {
    expect(topicHelp('summary')).toContain('  mlmodel SUMMARY model_ref [name_list]\n  model_ref : NAME\n  name_list : NAME (\',\' NAME)*');
    expect(topicHelp('rename')).toContain('mlmodel RENAME model_ref [AS] NEW_MODEL_NAME');
    expect(topicHelp('import')).toContain("option_assignment : KEY '=' value\n  value : NAME | QUOTED");
    expect(topicHelp('where')).toContain("predicate : FIELD (op value | [NOT] LIKE value | [NOT] IN '(' value (',' value)* ')')");
    expect(topicHelp('sort')).toContain('sort_key : NAME [ASC | DESC]');
    expect(topicHelp('STATUS')).toBe(topicHelp('serving'));
    expect(topicHelp('nonsense')).toBeUndefined();
  });

  it('gives examples that parse, for every described command', () => {
    const examples = helpExamples();
    expect(examples.length).toBeGreaterThan(30);
    for (const e of examples) expect(() => parse(e), e).not.toThrow();
    for (const c of COMMANDS) for (const k of c.syntax.keywords) expect(topicHelp(k)).toContain(c.examples[0]);
  });

  it('lists commands, stages and the console keys', () => {
    const h = generalHelp();
    for (const r of language.commandRules) expect(h).toMatch(new RegExp(`^  ${r.prefix} ${r.syntax.keywords.join('\\|')} `, 'm'));
    expect(h).toContain('serving status');
    expect(h).toContain('Ctrl-R');
    expect(h).toContain('\\x');
  });
});
