import * as jinja from '@huggingface/jinja';
import type { Template } from '@huggingface/jinja';
import { ModelFileError } from '../../errors.js';

// The package's runtime types do not resolve under NodeNext (extensionless imports in its .d.ts), so
// the two classes used here are typed by hand.
interface JinjaEnvironment {
  set(name: string, value: unknown): unknown;
}
interface JinjaInterpreter {
  run(program: unknown): { value: unknown };
  evaluate(node: unknown, env: unknown): unknown;
}
const { Environment, Interpreter } = jinja as unknown as {
  Environment: new () => JinjaEnvironment;
  Interpreter: new (env: JinjaEnvironment) => JinjaInterpreter;
};

/**
 * Bounds on the work one chat-template render may do. A template comes from a model folder (a
 * downloaded file), so a loop over `range(1e8)` must end with an error, not run the process out of
 * memory.
 *
 * @example const limits: TemplateLimits = { maxSteps: 2_000_000, maxChars: 4 << 20, maxItems: 100_000, maxMs: 2000 };
 */
export interface TemplateLimits {
  /** Evaluated template nodes (expressions and statements), plus the items of every list built. */
  maxSteps: number;
  /** Characters of any string the template builds, the output included. */
  maxChars: number;
  /** Items of any list the template builds (`range(n)` included). */
  maxItems: number;
  /** Milliseconds one render may take. */
  maxMs: number;
}

/**
 * Defaults: Qwen3's template takes 200–500 thousand steps (0.2 s) for a 512-message chat, the most
 * the server accepts; 2 million leave room for longer chats and stop a runaway loop within seconds.
 * The output cap (16 Mi characters) is beyond any context window a model here has.
 */
export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = { maxSteps: 2_000_000, maxChars: 16 << 20, maxItems: 1_000_000, maxMs: 5000 };

/**
 * A chat template did more work than `TemplateLimits` allow (an endless or huge loop, a huge string).
 *
 * @example try { tok.applyChatTemplate(messages); } catch (e) { if (e instanceof ChatTemplateLimitError) console.error(e.message); }
 */
export class ChatTemplateLimitError extends ModelFileError {}

class LimitReached extends Error {}

/** The interpreter of @huggingface/jinja with a step counter, a clock and size checks on every value. */
class BoundedInterpreter extends Interpreter {
  private steps = 0;
  private calls = 0;
  private readonly deadline: number;

  constructor(
    env: JinjaEnvironment,
    private readonly limits: TemplateLimits,
  ) {
    super(env);
    this.deadline = Date.now() + limits.maxMs;
  }

  override evaluate(node: unknown, env: unknown): unknown {
    const l = this.limits;
    if (++this.steps > l.maxSteps) throw new LimitReached(`it evaluated more than ${l.maxSteps} template steps`);
    if ((++this.calls & 255) === 0 && Date.now() > this.deadline) throw new LimitReached(`it ran longer than ${l.maxMs} ms`);
    const value = super.evaluate(node, env);
    const v = (value as { value?: unknown } | undefined)?.value;
    if (typeof v === 'string' && v.length > l.maxChars) throw new LimitReached(`it built a string of more than ${l.maxChars} characters`);
    if (Array.isArray(v)) {
      if (v.length > l.maxItems) throw new LimitReached(`it built a list of more than ${l.maxItems} items`);
      // A loop walks the list without evaluating anything for an empty body: charge its items as steps.
      this.steps += v.length;
      if (v.length >= 256 && Date.now() > this.deadline) throw new LimitReached(`it ran longer than ${l.maxMs} ms`);
    }
    return value;
  }
}

/** `range()` as @huggingface/jinja has it, refusing lists longer than the limit before building them. */
function boundedRange(maxItems: number) {
  return (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) [start, stop] = [0, start];
    if (step === 0) throw new Error('range() step must not be zero');
    const n = Math.max(0, Math.ceil((stop - start) / step));
    if (!Number.isFinite(n) || n > maxItems) throw new LimitReached(`range() was asked for ${n} items (at most ${maxItems})`);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(start + i * step);
    return out;
  };
}

/** `strftime_now` as @huggingface/jinja has it (Llama 3.1's template writes today's date). */
function strftimeNow(format: string): string {
  const d = new Date();
  const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
  return format.replace(/%[YmdbBHM%]/g, (t) => {
    switch (t) {
      case '%Y':
        return String(d.getFullYear());
      case '%m':
        return pad2(d.getMonth() + 1);
      case '%d':
        return pad2(d.getDate());
      case '%b':
        return new Intl.DateTimeFormat(undefined, { month: 'short' }).format(d);
      case '%B':
        return new Intl.DateTimeFormat(undefined, { month: 'long' }).format(d);
      case '%H':
        return pad2(d.getHours());
      case '%M':
        return pad2(d.getMinutes());
      default:
        return '%';
    }
  });
}

/**
 * Renders a parsed template as `Template.render` does (same globals: `raise_exception`, `range`,
 * `strftime_now`, `true`/`True`, …), within `limits`. Throws `ChatTemplateLimitError` naming
 * `origin` when the template does more work than allowed.
 *
 * @example renderTemplate(new Template('{% for i in range(3) %}{{ i }}{% endfor %}'), {}, 'inline'); // '012'
 */
export function renderTemplate(template: Template, vars: Record<string, unknown>, origin: string, limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS): string {
  const env = new Environment();
  const globals: Record<string, unknown> = {
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (message: string) => {
      throw new Error(message);
    },
    range: boundedRange(limits.maxItems),
    strftime_now: strftimeNow,
  };
  for (const [k, v] of Object.entries(globals)) env.set(k, v);
  for (const [k, v] of Object.entries(vars)) {
    if (k in globals) continue;
    env.set(k, v);
  }
  try {
    return new BoundedInterpreter(env, limits).run(template.parsed).value as string;
  } catch (err) {
    if (err instanceof LimitReached || err instanceof RangeError) {
      const why = err instanceof LimitReached ? err.message : `it ran out of room (${(err as Error).message})`;
      throw new ChatTemplateLimitError(
        `The chat template in ${origin} was stopped: ${why}. ` +
          "A chat template should only format the messages; replace this one (chat_template.jinja or tokenizer_config.json's chat_template).",
        { cause: err },
      );
    }
    throw err;
  }
}
