import { describe, expect, it } from 'vitest';
import { generalHelp, helpTopics, topicHelp } from '../../../console/repl/help.js';
import { ACTION_KEYWORDS, STAGE_KEYWORDS } from '../../../grammar/index.js';
import { parse } from '../../../src/language.js';

describe('help', () => {
  it('has a page for every action, serving and every stage, each with its grammar', () => {
    expect(helpTopics()).toEqual([...ACTION_KEYWORDS, 'serving', ...STAGE_KEYWORDS]);
    for (const topic of helpTopics()) {
      const page = topicHelp(topic);
      expect(page, topic).toBeDefined();
      const grammar = topic === 'serving' ? 'SERVING STATUS' : STAGE_KEYWORDS.includes(topic as never) ? `| ${topic.toUpperCase()}` : `mlmodel `;
      expect(page, topic).toContain(grammar);
    }
  });

  it("prints the parser's grammar with its sub-rules, IRIS style", () => {
    expect(topicHelp('summary')).toContain('  mlmodel SUMMARY model_ref [name_list]\n  model_ref : NAME\n  name_list : NAME (\',\' NAME)*');
    expect(topicHelp('rename')).toContain('mlmodel RENAME model_ref [AS] NEW_NAME');
    expect(topicHelp('import')).toContain("option_assignment : KEY '=' value\n  value : NAME | QUOTED");
    expect(topicHelp('where')).toContain("predicate : FIELD (op value | [NOT] LIKE value | [NOT] IN '(' value (',' value)* ')')");
    expect(topicHelp('sort')).toContain('sort_key : NAME [ASC | DESC]');
    expect(topicHelp('STATUS')).toBe(topicHelp('serving'));
    expect(topicHelp('nonsense')).toBeUndefined();
  });

  it('gives examples that parse, for every described command', () => {
    const examples = Object.values(TOPICS).flatMap((t) => t.examples);
    expect(examples.length).toBeGreaterThan(12);
    for (const e of examples) expect(() => parse(e), e).not.toThrow();
    for (const [topic, info] of Object.entries(TOPICS)) expect(topicHelp(topic)).toContain(info.examples[0]);
  });

  it('lists commands, stages and the console keys', () => {
    const h = generalHelp();
    for (const a of ACTION_KEYWORDS) expect(h).toMatch(new RegExp(`^  mlmodel ${a} `, 'm'));
    expect(h).toContain('serving status');
    expect(h).toContain('Ctrl-R');
    expect(h).toContain('\\x');
  });
});
