import type { IToken } from 'chevrotain';
import { createTokenInstance } from './chevrotain.js';
import * as T from './tokens.js';

/**
 * Content assist (what may come next) and the completeness check re-run the
 * grammar over the tokens before a position, and Chevrotain's content assist
 * is worse than linear in their number. Asked for every reported issue and
 * every step of the walk to the breaking token, it made a long invalid query
 * take seconds per kilobyte. So a position is described from a window of at
 * most WINDOW_LIMIT tokens: the tokens themselves while they fit (exactly as
 * before for any ordinary query), and past that a condensed stand-in that the
 * grammar treats alike, or nothing (the issue then names no alternatives).
 */
export const WINDOW_LIMIT = 128;


const X = synthetic(T.Word, 'x');
const EQ = synthetic(T.Eq, '=');
const ONE = synthetic(T.Word, '1');

function synthetic(type: IToken['tokenType'], image: string): IToken {
  return createTokenInstance(type, image, NaN, NaN, NaN, NaN, NaN, NaN);
}

/**
 * A `where` condition condensed as it is read. The grammar expects the same
 * after an `and` or `or` as at the start of the condition (inside the same
 * parentheses), the same after a `,` of an `in (…)` list as after its `(`,
 * and the same after any closed group as after `(x = 1)`. So each open
 * parenthesis keeps only the tokens since its last such restart, and a
 * closed one is replaced by a one-predicate stand-in.
 */
interface Frame {
  readonly list: boolean;
  tail: IToken[];
}

class ConditionWindow {
  private readonly frames: Frame[] = [{ list: false, tail: [] }];
  private previous: IToken | undefined;

  constructor(private readonly head: readonly IToken[]) {}

  push(token: IToken): void {
    const top = this.frames[this.frames.length - 1]!;
    const type = token.tokenType;
    if ((type === T.And || type === T.Or) && !top.list) top.tail = [];
    else if (type === T.Comma && top.list) top.tail = [];
    else if (type === T.LParen) {
      top.tail.push(token);
      this.frames.push({ list: this.previous?.tokenType === T.In, tail: [] });
    } else if (type === T.RParen && this.frames.length > 1) {
      const closed = this.frames.pop()!;
      this.frames[this.frames.length - 1]!.tail.push(...(closed.list ? [ONE] : [X, EQ, ONE]), token);
    } else top.tail.push(token);
    this.previous = token;
  }

  tokens(): IToken[] | undefined {
    let length = this.head.length;
    for (const f of this.frames) length += f.tail.length;
    if (length > WINDOW_LIMIT) return undefined;
    return [...this.head, ...this.frames.flatMap((f) => f.tail)];
  }
}

/**
 * The window for positions `index`, `index + 1`, … of one token vector,
 * advanced one token at a time so that walking forward costs nothing per
 * step beyond the window itself.
 */
export class AssistWindow {
  private index: number;
  /** The tokens of the window so far while they fit, from the last `|` on. */
  private plain: IToken[] | undefined;
  private condition: ConditionWindow | undefined;
  /** Where the condition's own tokens begin, after `| where`. */
  private conditionFrom = Infinity;

  /** `standIn` replaces the command before a stage (`mlmodel list`): stages do not depend on it. */
  constructor(
    private readonly all: readonly IToken[],
    index: number,
    standIn: readonly IToken[],
  ) {
    let pipe = -1;
    for (let i = index - 1; i >= 0; i--) {
      if (all[i]!.tokenType === T.Pipe) {
        pipe = i;
        break;
      }
    }
    const start = pipe >= 0 ? pipe : 0;
    const head = pipe >= 0 ? standIn : [];
    this.index = start;
    this.plain = [...head];
    const stage = all[start + 1];
    if (pipe >= 0 && stage?.tokenType === T.Where) {
      this.condition = new ConditionWindow([...standIn, all[pipe]!, stage]);
      this.conditionFrom = start + 2;
    }
    this.advanceTo(index);
  }

  /** The window for the current position, or undefined if none fits. */
  tokens(): IToken[] | undefined {
    return this.plain ? [...this.plain] : this.condition?.tokens();
  }

  /** Moves the position one token on. */
  advance(): void {
    this.advanceTo(this.index + 1);
  }

  private advanceTo(index: number): void {
    for (; this.index < index && this.index < this.all.length; this.index++) {
      const token = this.all[this.index]!;
      if (this.plain) {
        this.plain.push(token);
        if (this.plain.length > WINDOW_LIMIT) this.plain = undefined;
      }
      if (this.index >= this.conditionFrom) this.condition!.push(token);
    }
  }
}
