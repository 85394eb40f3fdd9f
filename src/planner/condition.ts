import type { ComparisonOperator, Condition, Literal } from '../../grammar/ast.js';
import { MlmodelError } from '../errors.js';
import { ceilingOfStamp, stampDigits } from '../result/dates.js';
import { F, type FilterDoc, type Scalar } from '../store/filter.js';
import type { FieldSpec, Schema } from './schema.js';

/**
 * Compiles a `where` condition into a filter document. Only names the schema
 * knows become fields, only our own operators appear, and every value is a
 * literal converted to the field's type — so this one compiler serves the
 * store (for `mlmodel list`) and in-memory tables alike.
 */
export function compileCondition(c: Condition, schema: Schema): FilterDoc {
  switch (c.kind) {
    case 'and':
      return F.and(...c.operands.map((o) => compileCondition(o, schema)));
    case 'or':
      return F.or(...c.operands.map((o) => compileCondition(o, schema)));
    case 'not':
      return F.not(compileCondition(c.operand, schema));
    case 'compare': {
      const field = schema.resolve(c.field);
      if (field.type === 'date' && c.value.kind === 'number') return stampComparison(field.path, c.op, c.value.value, c.field);
      const both = field.type === 'any' ? asBoolean(c.value) : undefined;
      if (both !== undefined && (c.op === '=' || c.op === '!=')) {
        const either = F.in(field.path, [both, String(c.value.value)]);
        return c.op === '=' ? either : F.not(either);
      }
      return compare(field.path, c.op, convert(field, c.value, c.field));
    }
    case 'like': {
      const field = schema.resolve(c.field);
      if (field.type !== 'string' && field.type !== 'string[]' && field.type !== 'any') {
        throw invalid(`like matches text, and ${c.field} holds ${describe(field)}`, c.field);
      }
      return F.like(field.path, c.pattern);
    }
    case 'in': {
      const field = schema.resolve(c.field);
      if (field.type === 'date') {
        return F.or(
          ...c.values.map((v) =>
            v.kind === 'number' ? stampComparison(field.path, '=', v.value, c.field) : F.eq(field.path, convert(field, v, c.field)),
          ),
        );
      }
      const values = c.values.map((v) => convert(field, v, c.field));
      if (field.type === 'any') {
        for (const v of c.values) {
          const b = asBoolean(v);
          if (b !== undefined) values.push(b);
        }
      }
      return F.in(field.path, values);
    }
  }
}

/**
 * The language has no boolean literal (`true` is a word), but a param or
 * tag logged from code can hold a boolean (`lr=0.01 nesterov=true` from the
 * console logs true, a Python client's True too) — so on those open fields
 * `= true` / `= false` (any case, quoted or not) matches the boolean and the
 * text alike. Typed fields convert through their type as before.
 */
function asBoolean(lit: Literal): boolean | undefined {
  if (lit.kind !== 'string') return undefined;
  const text = lit.value.toLowerCase();
  return text === 'true' ? true : text === 'false' ? false : undefined;
}

function compare(path: string, op: ComparisonOperator, value: Scalar): FilterDoc {
  switch (op) {
    case '=':
      return F.eq(path, value);
    case '!=':
      return F.ne(path, value);
    case '>':
      return F.gt(path, value);
    case '>=':
      return F.gte(path, value);
    case '<':
      return F.lt(path, value);
    case '<=':
      return F.lte(path, value);
  }
}

/**
 * `create > 20191001000000`: the time's yyyyMMddHHmmss number compared with
 * the given one, at one-second resolution, as half-open ranges of instants.
 */
function stampComparison(path: string, op: ComparisonOperator, n: number, name: string): FilterDoc {
  const stamp = stampDigits(n);
  if (stamp === undefined) {
    throw invalid(`${name} is a time: compare it with a yyyyMMddHHmmss number like 20191119001122 (or its first 8, 10 or 12 digits), or a quoted '2019/11/19 00:11:22'`, name);
  }
  const from = ceilingOfStamp(stamp);
  const next = ceilingOfStamp(stamp + 1);
  switch (op) {
    case '=':
      return F.and(F.gte(path, from), F.lt(path, next));
    case '!=':
      return F.or(F.lt(path, from), F.gte(path, next));
    case '>':
      return F.gte(path, next);
    case '>=':
      return F.gte(path, from);
    case '<':
      return F.lt(path, from);
    case '<=':
      return F.lt(path, next);
  }
}

function convert(field: FieldSpec, lit: Literal, name: string): Scalar {
  switch (field.type) {
    case 'number': {
      if (lit.kind === 'number') return lit.value;
      const n = Number(lit.value);
      if (lit.value.trim() !== '' && Number.isFinite(n)) return n;
      throw invalid(`${name} holds numbers, and ${JSON.stringify(lit.value)} is not one`, name);
    }
    case 'string':
    case 'string[]':
      return lit.kind === 'number' ? String(lit.value) : lit.value;
    case 'boolean': {
      const text = String(lit.value).toLowerCase();
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      throw invalid(`${name} is true or false, not ${JSON.stringify(String(lit.value))}`, name);
    }
    case 'date': {
      const d = lit.kind === 'string' ? parseTime(lit.value) : undefined;
      if (d === undefined) throw invalid(`${JSON.stringify(String(lit.value))} is not a time; write 2019/11/19 00:11:22 in quotes, or 20191119001122`, name);
      return d;
    }
    case 'any':
      return lit.value;
  }
}

const DISPLAY_TIME = /^(\d{4})[/-](\d{2})[/-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** `2019/11/19 00:11:22`, `2019-11-19 00:11`, `2019/11/19` — local time, as displayed. */
function parseTime(text: string): Date | undefined {
  const m = DISPLAY_TIME.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1);
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Reject 2019/02/30 rather than rolling it into March.
  return date.getMonth() === Number(mo) - 1 && date.getDate() === Number(d) ? date : undefined;
}

function describe(field: FieldSpec): string {
  return field.type === 'date' ? 'times' : field.type === 'number' ? 'numbers' : field.type === 'boolean' ? 'true/false' : 'values';
}

function invalid(message: string, field: string): MlmodelError {
  return new MlmodelError('INVALID_ARGUMENT', message, { field });
}
