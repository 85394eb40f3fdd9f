import { describe, expect, it } from 'vitest';
import { type Query } from '../../grammar/index.js';
import { parse } from '../../src/language.js';

/**
 * Every command line, BNF production and example of the IRIS `mlmodel`
 * reference (shared/seeds/004_…), and the language additions of DESIGN §3,
 * with the AST each must produce.
 */
const q = (command: Query['command'], stages: Query['stages'] = []): Query => ({ kind: 'query', command, stages });

describe('IRIS reference: mlmodel list', () => {
  it('parses the example and the BNF `LIST`', () => {
    expect(parse('mlmodel list')).toEqual(q({ kind: 'list' }));
  });

  it('accepts the BNF empty alternative: a bare `mlmodel` lists', () => {
    expect(parse('mlmodel')).toEqual(q({ kind: 'list' }));
  });

  it('matches LIST = (?i)list case-insensitively, and the command word too', () => {
    expect(parse('MLMODEL LIST')).toEqual(q({ kind: 'list' }));
    expect(parse('MlModel LiSt')).toEqual(q({ kind: 'list' }));
  });
});

describe('IRIS reference: mlmodel summary', () => {
  it('parses `mlmodel summary model_name` and the example', () => {
    expect(parse('mlmodel summary model_name')).toEqual(q({ kind: 'summary', model: { name: 'model_name' }, fields: null }));
    expect(parse('mlmodel summary mnist_v1')).toEqual(q({ kind: 'summary', model: { name: 'mnist_v1' }, fields: null }));
  });

  it('parses `SUMMARY model_name fields` with `fields COMMA field`', () => {
    expect(parse('mlmodel summary mnist_v1 id')).toEqual(q({ kind: 'summary', model: { name: 'mnist_v1' }, fields: ['id'] }));
    expect(parse('mlmodel summary mnist_v1 id,name,serving_name')).toEqual(
      q({ kind: 'summary', model: { name: 'mnist_v1' }, fields: ['id', 'name', 'serving_name'] }),
    );
    expect(parse('mlmodel summary mnist_v1 cdate , mdate')).toEqual(
      q({ kind: 'summary', model: { name: 'mnist_v1' }, fields: ['cdate', 'mdate'] }),
    );
  });

  it('reads WORD as IRIS does: anything but , space | ( ) quotes and =', () => {
    expect(parse('mlmodel summary 모델_v1.2-최종')).toEqual(q({ kind: 'summary', model: { name: '모델_v1.2-최종' }, fields: null }));
    expect(parse('mlmodel summary a/b:c{d}[e]')).toEqual(q({ kind: 'summary', model: { name: 'a/b:c{d}[e]' }, fields: null }));
  });
});

describe('IRIS reference: mlmodel delete and stop', () => {
  it('parses `DELETE model_name` and the example', () => {
    expect(parse('mlmodel delete model_name')).toEqual(q({ kind: 'delete', model: { name: 'model_name' } }));
    expect(parse('mlmodel delete mnist_v1')).toEqual(q({ kind: 'delete', model: { name: 'mnist_v1' } }));
  });

  it('parses `STOP model_name` and the example', () => {
    expect(parse('mlmodel stop model_name')).toEqual(q({ kind: 'stop', model: { name: 'model_name' } }));
    expect(parse('mlmodel stop mnist_v1')).toEqual(q({ kind: 'stop', model: { name: 'mnist_v1' } }));
  });
});

describe('IRIS reference: mlmodel import and export', () => {
  it('parses the import parameter line with its placeholders', () => {
    expect(
      parse(
        'mlmodel import name=mnist_v1 type=tf category=classification algorithm=deep format=saved_model path=OBJECTSTORAGE.{CONNECTOR_NAME}:{KEY}',
      ),
    ).toEqual(
      q({
        kind: 'import',
        options: [
          { key: 'name', value: 'mnist_v1' },
          { key: 'type', value: 'tf' },
          { key: 'category', value: 'classification' },
          { key: 'algorithm', value: 'deep' },
          { key: 'format', value: 'saved_model' },
          { key: 'path', value: 'OBJECTSTORAGE.{CONNECTOR_NAME}:{KEY}' },
        ],
      }),
    );
  });

  it('parses the import example', () => {
    expect(
      parse(
        'mlmodel import name=tf_clothes type=tf category=classification algorithm=deep format=saved_model path=OBJECTSTORAGE.MIN_AI:USERS/root/clothes/model.tar',
      ),
    ).toEqual(
      q({
        kind: 'import',
        options: [
          { key: 'name', value: 'tf_clothes' },
          { key: 'type', value: 'tf' },
          { key: 'category', value: 'classification' },
          { key: 'algorithm', value: 'deep' },
          { key: 'format', value: 'saved_model' },
          { key: 'path', value: 'OBJECTSTORAGE.MIN_AI:USERS/root/clothes/model.tar' },
        ],
      }),
    );
  });

  it('parses the export parameter line and example', () => {
    expect(parse('mlmodel export name=mnist_v1 path=OBJECTSTORAGE.{CONNECTOR_NAME}:{KEY}')).toEqual(
      q({
        kind: 'export',
        options: [
          { key: 'name', value: 'mnist_v1' },
          { key: 'path', value: 'OBJECTSTORAGE.{CONNECTOR_NAME}:{KEY}' },
        ],
      }),
    );
    expect(parse('mlmodel export name=mnist_v1 path=OBJECTSTORAGE.MIN_AI:USERS/root/tf_mnist.tar')).toEqual(
      q({
        kind: 'export',
        options: [
          { key: 'name', value: 'mnist_v1' },
          { key: 'path', value: 'OBJECTSTORAGE.MIN_AI:USERS/root/tf_mnist.tar' },
        ],
      }),
    );
  });

  it('accepts the BNF empty `options` alternative', () => {
    expect(parse('mlmodel import')).toEqual(q({ kind: 'import', options: [] }));
    expect(parse('mlmodel export')).toEqual(q({ kind: 'export', options: [] }));
  });

  it('accepts `WORD EQ SQ_TERM_SQ`: every character IRIS allows inside quotes, Hangul included', () => {
    const inside = 'aZ09가힣 _-[]{}().:,=';
    expect(parse(`mlmodel import name=x description='${inside}'`)).toEqual(
      q({
        kind: 'import',
        options: [
          { key: 'name', value: 'x' },
          { key: 'description', value: inside },
        ],
      }),
    );
  });

  it('accepts double quotes and backslash escapes, a superset of SQ_TERM_SQ', () => {
    expect(parse(`mlmodel import parameter="{\\"epochs\\": 3}" label='it\\'s'`)).toEqual(
      q({
        kind: 'import',
        options: [
          { key: 'parameter', value: '{"epochs": 3}' },
          { key: 'label', value: "it's" },
        ],
      }),
    );
  });

  it('allows spaces around `=` in options', () => {
    expect(parse('mlmodel export name = m path = /tmp/m.tar')).toEqual(
      q({
        kind: 'export',
        options: [
          { key: 'name', value: 'm' },
          { key: 'path', value: '/tmp/m.tar' },
        ],
      }),
    );
  });
});

describe('IRIS reference: mlmodel deploy', () => {
  it('parses `DEPLOY model_name options` and both examples', () => {
    expect(parse("mlmodel deploy model_name label='stable'")).toEqual(
      q({ kind: 'deploy', model: { name: 'model_name' }, options: [{ key: 'label', value: 'stable' }] }),
    );
    expect(parse("mlmodel deploy mnist_v1 label='unstable'")).toEqual(
      q({ kind: 'deploy', model: { name: 'mnist_v1' }, options: [{ key: 'label', value: 'unstable' }] }),
    );
    expect(parse("mlmodel deploy mnist_v1 label='stable'")).toEqual(
      q({ kind: 'deploy', model: { name: 'mnist_v1' }, options: [{ key: 'label', value: 'stable' }] }),
    );
  });

  it('accepts deploy with no options', () => {
    expect(parse('mlmodel deploy mnist_v1')).toEqual(q({ kind: 'deploy', model: { name: 'mnist_v1' }, options: [] }));
  });
});

describe('DESIGN §3 additions', () => {
  it('parses rename with and without AS', () => {
    const expected = q({ kind: 'rename', model: { name: 'mnist_v1' }, to: 'mnist_v2' });
    expect(parse('mlmodel rename mnist_v1 as mnist_v2')).toEqual(expected);
    expect(parse('mlmodel rename mnist_v1 AS mnist_v2')).toEqual(expected);
    expect(parse('mlmodel rename mnist_v1 mnist_v2')).toEqual(expected);
  });

  it('lets a model be called `as`, in either place', () => {
    expect(parse('mlmodel rename a as')).toEqual(q({ kind: 'rename', model: { name: 'a' }, to: 'as' }));
    expect(parse('mlmodel rename as as as')).toEqual(q({ kind: 'rename', model: { name: 'as' }, to: 'as' }));
    expect(parse('mlmodel rename a as as')).toEqual(q({ kind: 'rename', model: { name: 'a' }, to: 'as' }));
  });

  it('parses serving status', () => {
    expect(parse('serving status mnist_v1')).toEqual(q({ kind: 'servingStatus', model: { name: 'mnist_v1' } }));
    expect(parse('SERVING STATUS mnist_v1')).toEqual(q({ kind: 'servingStatus', model: { name: 'mnist_v1' } }));
  });

  it('accepts and drops the leading `* |`', () => {
    expect(parse('* | mlmodel list')).toEqual(parse('mlmodel list'));
    expect(parse('*|mlmodel list|head 1')).toEqual(parse('mlmodel list | head 1'));
  });

  it('reads name@version and name@alias wherever a model is named', () => {
    expect(parse('mlmodel summary mnist@3')).toEqual(q({ kind: 'summary', model: { name: 'mnist', version: 3 }, fields: null }));
    expect(parse('mlmodel deploy mnist@champion')).toEqual(
      q({ kind: 'deploy', model: { name: 'mnist', alias: 'champion' }, options: [] }),
    );
    expect(parse('serving status mnist@2')).toEqual(q({ kind: 'servingStatus', model: { name: 'mnist', version: 2 } }));
  });

  it('keeps keywords usable as names', () => {
    expect(parse('mlmodel summary list')).toEqual(q({ kind: 'summary', model: { name: 'list' }, fields: null }));
    expect(parse('mlmodel delete where')).toEqual(q({ kind: 'delete', model: { name: 'where' } }));
    expect(parse('mlmodel summary status status, head, sort')).toEqual(
      q({ kind: 'summary', model: { name: 'status' }, fields: ['status', 'head', 'sort'] }),
    );
    expect(parse('mlmodel deploy deploy label=list')).toEqual(
      q({ kind: 'deploy', model: { name: 'deploy' }, options: [{ key: 'label', value: 'list' }] }),
    );
    expect(parse('mlmodel list | where status = stop | sort desc desc')).toEqual(
      q({ kind: 'list' }, [
        { kind: 'where', condition: { kind: 'compare', field: 'status', op: '=', value: { kind: 'string', value: 'stop' } } },
        { kind: 'sort', keys: [{ field: 'desc', direction: 'desc' }] },
      ]),
    );
  });

  it('reads a keyword-like word as a name: `listing` is not `list` + `ing`', () => {
    expect(parse('mlmodel summary listing')).toEqual(q({ kind: 'summary', model: { name: 'listing' }, fields: null }));
    expect(parse('mlmodel summary ascending')).toEqual(q({ kind: 'summary', model: { name: 'ascending' }, fields: null }));
  });
});

describe('pipeline stages', () => {
  it('parses the product example', () => {
    expect(parse('mlmodel list | where type = tf | sort -modified | head 5')).toEqual(
      q({ kind: 'list' }, [
        { kind: 'where', condition: { kind: 'compare', field: 'type', op: '=', value: { kind: 'string', value: 'tf' } } },
        { kind: 'sort', keys: [{ field: 'modified', direction: 'desc' }] },
        { kind: 'head', count: 5 },
      ]),
    );
  });

  it('compares numbers as numbers, IRIS dates included', () => {
    expect(parse('mlmodel list | where saved_date > 201807000000').stages[0]).toEqual({
      kind: 'where',
      condition: { kind: 'compare', field: 'saved_date', op: '>', value: { kind: 'number', value: 201807000000 } },
    });
    expect(parse("mlmodel list | where id = '5'").stages[0]).toEqual({
      kind: 'where',
      condition: { kind: 'compare', field: 'id', op: '=', value: { kind: 'string', value: '5' } },
    });
  });

  it('lexes `a>5` as three tokens and reads every operator', () => {
    const ops: Array<[string, string]> = [
      ['=', '='],
      ['==', '='],
      ['!=', '!='],
      ['<>', '!='],
      ['>', '>'],
      ['>=', '>='],
      ['<', '<'],
      ['<=', '<='],
    ];
    for (const [written, op] of ops) {
      expect(parse(`mlmodel list | where a${written}5`).stages[0]).toEqual({
        kind: 'where',
        condition: { kind: 'compare', field: 'a', op, value: { kind: 'number', value: 5 } },
      });
    }
  });

  it('gives not > and > or their usual precedence, and parentheses override it', () => {
    expect(parse('mlmodel list | where not a = 1 and b = 2 or c = 3').stages[0]).toEqual({
      kind: 'where',
      condition: {
        kind: 'or',
        operands: [
          {
            kind: 'and',
            operands: [
              { kind: 'not', operand: { kind: 'compare', field: 'a', op: '=', value: { kind: 'number', value: 1 } } },
              { kind: 'compare', field: 'b', op: '=', value: { kind: 'number', value: 2 } },
            ],
          },
          { kind: 'compare', field: 'c', op: '=', value: { kind: 'number', value: 3 } },
        ],
      },
    });
    expect(parse('mlmodel list | where a = 1 and (b = 2 or c = 3)').stages[0]).toEqual({
      kind: 'where',
      condition: {
        kind: 'and',
        operands: [
          { kind: 'compare', field: 'a', op: '=', value: { kind: 'number', value: 1 } },
          {
            kind: 'or',
            operands: [
              { kind: 'compare', field: 'b', op: '=', value: { kind: 'number', value: 2 } },
              { kind: 'compare', field: 'c', op: '=', value: { kind: 'number', value: 3 } },
            ],
          },
        ],
      },
    });
  });

  it('parses like, in, and their negations, with nested fields', () => {
    expect(parse("mlmodel list | where name like 'mnist%' and type in (tf, onnx, 'r') and parameter.epochs not in (1, 2)").stages[0]).toEqual({
      kind: 'where',
      condition: {
        kind: 'and',
        operands: [
          { kind: 'like', field: 'name', pattern: 'mnist%' },
          {
            kind: 'in',
            field: 'type',
            values: [
              { kind: 'string', value: 'tf' },
              { kind: 'string', value: 'onnx' },
              { kind: 'string', value: 'r' },
            ],
          },
          {
            kind: 'not',
            operand: {
              kind: 'in',
              field: 'parameter.epochs',
              values: [
                { kind: 'number', value: 1 },
                { kind: 'number', value: 2 },
              ],
            },
          },
        ],
      },
    });
    expect(parse('mlmodel list | where name NOT LIKE %test%').stages[0]).toEqual({
      kind: 'where',
      condition: { kind: 'not', operand: { kind: 'like', field: 'name', pattern: '%test%' } },
    });
  });

  it('parses fields, multi-key sort with asc/desc, and head 0', () => {
    expect(parse('mlmodel list | fields name, type | sort type asc, -modified, name DESC | head 0').stages).toEqual([
      { kind: 'fields', fields: ['name', 'type'] },
      {
        kind: 'sort',
        keys: [
          { field: 'type', direction: 'asc' },
          { field: 'modified', direction: 'desc' },
          { field: 'name', direction: 'desc' },
        ],
      },
      { kind: 'head', count: 0 },
    ]);
  });

  it('accepts stages after any command', () => {
    expect(parse('mlmodel summary mnist_v1 | where name = type').stages).toHaveLength(1);
  });

  it('compares Hangul in words and in quotes', () => {
    expect(parse("mlmodel list | where category = 분류 or label = '레이블 값'").stages[0]).toEqual({
      kind: 'where',
      condition: {
        kind: 'or',
        operands: [
          { kind: 'compare', field: 'category', op: '=', value: { kind: 'string', value: '분류' } },
          { kind: 'compare', field: 'label', op: '=', value: { kind: 'string', value: '레이블 값' } },
        ],
      },
    });
  });

  it('spans lines: whitespace includes newlines', () => {
    expect(parse('mlmodel list\n  | where type = tf\n  | head 2')).toEqual(parse('mlmodel list | where type = tf | head 2'));
  });
});

describe('registry commands beyond IRIS', () => {
  it('parses versions, tag, untag, alias, unalias', () => {
    expect(parse('mlmodel versions mnist_v1').command).toEqual({ kind: 'versions', model: { name: 'mnist_v1' } });
    expect(parse('mlmodel tag mnist_v1 stable, prod').command).toEqual({ kind: 'tag', model: { name: 'mnist_v1' }, tags: ['stable', 'prod'] });
    expect(parse('mlmodel untag mnist_v1@2 stable').command).toEqual({ kind: 'untag', model: { name: 'mnist_v1', version: 2 }, tags: ['stable'] });
    expect(parse('mlmodel alias mnist_v1@3 champion').command).toEqual({ kind: 'alias', model: { name: 'mnist_v1', version: 3 }, alias: 'champion' });
    expect(parse('mlmodel unalias mnist_v1 champion').command).toEqual({ kind: 'unalias', model: { name: 'mnist_v1' }, alias: 'champion' });
  });

  it('parses files, pull, verify and fsck with their options', () => {
    expect(parse("mlmodel files mnist_v1@champion include='*.pb' sortby=size").command).toEqual({
      kind: 'files',
      model: { name: 'mnist_v1', alias: 'champion' },
      options: [
        { key: 'include', value: '*.pb' },
        { key: 'sortby', value: 'size' },
      ],
    });
    expect(parse('mlmodel pull mnist_v1 to=/tmp/m overwrite=true').command).toEqual({
      kind: 'pull',
      model: { name: 'mnist_v1' },
      options: [
        { key: 'to', value: '/tmp/m' },
        { key: 'overwrite', value: 'true' },
      ],
    });
    expect(parse('mlmodel verify mnist_v1@2').command).toEqual({ kind: 'verify', model: { name: 'mnist_v1', version: 2 } });
    expect(parse('mlmodel fsck').command).toEqual({ kind: 'fsck', options: [] });
    expect(parse('mlmodel fsck repair=true').command).toEqual({ kind: 'fsck', options: [{ key: 'repair', value: 'true' }] });
  });

  it('keeps the new keywords usable as names', () => {
    expect(parse('mlmodel summary files').command).toEqual({ kind: 'summary', model: { name: 'files' }, fields: null });
    expect(parse('mlmodel tag tag tag').command).toEqual({ kind: 'tag', model: { name: 'tag' }, tags: ['tag'] });
    expect(parse('mlmodel list | where tags = stable').stages[0]).toEqual({
      kind: 'where',
      condition: { kind: 'compare', field: 'tags', op: '=', value: { kind: 'string', value: 'stable' } },
    });
  });

  it('refuses an alias that is a number or has an @', () => {
    expect(() => parse('mlmodel alias m@2 3')).toThrow("an alias is a name, not a number and without '@'");
  });
});
