import type { ILLkLookaheadStrategyConstructor, ILookaheadStrategy, ILookaheadValidationError, IOrAlt, Rule, TokenType } from 'chevrotain';
import { LLkLookaheadStrategy } from './chevrotain.js';

type AlternationOptions = Parameters<ILookaheadStrategy['buildLookaheadForAlternation']>[0];
type OptionalOptions = Parameters<ILookaheadStrategy['buildLookaheadForOptional']>[0];

/**
 * Chevrotain's own LL(k) lookahead, with each decision's function built the
 * first time the parser reaches it rather than all at once in
 * performSelfAnalysis. Computing every alternative's lookahead paths was
 * most of the cost of building the parser — paid at every process start for
 * thirty-odd command rules of which one query reaches one or two. The
 * functions built are Chevrotain's, so parsing decides exactly as before;
 * the validations (run by the tests) are the inner strategy's, unchanged.
 */
export class LazyLookaheadStrategy implements ILookaheadStrategy {
  private readonly inner: InstanceType<ILLkLookaheadStrategyConstructor>;

  constructor(options: { maxLookahead: number }) {
    this.inner = new LLkLookaheadStrategy(options);
  }

  validate(options: { rules: Rule[]; tokenTypes: TokenType[]; grammarName: string }): ILookaheadValidationError[] {
    return this.inner.validate(options);
  }

  buildLookaheadForAlternation(options: AlternationOptions): (orAlts?: IOrAlt<unknown>[]) => number | undefined {
    const inner = this.inner;
    let built: ((orAlts?: IOrAlt<unknown>[]) => number | undefined) | undefined;
    return function (this: unknown, orAlts?: IOrAlt<unknown>[]) {
      const fn = (built ??= inner.buildLookaheadForAlternation(options));
      return fn.call(this, orAlts);
    };
  }

  buildLookaheadForOptional(options: OptionalOptions): () => boolean {
    const inner = this.inner;
    let built: (() => boolean) | undefined;
    return function (this: unknown) {
      const fn = (built ??= inner.buildLookaheadForOptional(options));
      return fn.call(this);
    };
  }
}
