/**
 * Reading a judge's reply the way the persona-vectors paper does (Chen et al. 2025, appendix on
 * evaluation): the score is Σ p·k / Σ p over the first token's top log-probabilities that are
 * integers k in 0..100, none below 0.25 of mass; replies without log-probabilities are read as text.
 */

/** A top-logprob entry as OpenAI-compatible servers return it. */
export interface TopLogprob {
  token: string;
  logprob: number;
}

const INTEGER_TOKEN = /^\s*(\d{1,3})\s*$/;

/**
 * The paper's aggregation: Σ p·k / Σ p over top-logprob tokens that are integers k in 0..100
 * (p = e^logprob; tokens equal after trimming add up), `null` when Σ p < `minMass`.
 *
 * @example weightedScore([{ token: '80', logprob: Math.log(0.5) }, { token: '90', logprob: Math.log(0.5) }]); // { value: 85, mass: 1 }
 */
export function weightedScore(tops: readonly TopLogprob[], minMass = 0.25): { value: number | null; mass: number } {
  let mass = 0;
  let sum = 0;
  for (const { token, logprob } of tops) {
    const m = INTEGER_TOKEN.exec(token);
    if (!m || !Number.isFinite(logprob)) continue;
    const k = Number(m[1]);
    if (k > 100) continue;
    const p = Math.exp(logprob);
    mass += p;
    sum += p * k;
  }
  return { value: mass >= minMass && mass > 0 ? sum / mass : null, mass };
}

/**
 * Whether a reply is the judge's REFUSAL (or, cut to one token, the start of it: `REF`, `REFUS`).
 *
 * @example isRefusal('REF'); // true
 */
export function isRefusal(reply: string): boolean {
  const t = reply.trim().toUpperCase();
  return t.includes('REFUSAL') || (t.length >= 2 && 'REFUSAL'.startsWith(t));
}

/**
 * Reads a score from reply text: the first number in it, when that number is in 0..100.
 *
 * @example parseScoreText('Score: 85.'); // 85
 * @example parseScoreText('no idea'); // null
 */
export function parseScoreText(reply: string): number | null {
  const m = /(-?\d+(?:\.\d+)?)/.exec(reply);
  if (!m) return null;
  const v = Number(m[1]);
  return v >= 0 && v <= 100 ? v : null;
}

/** A reply that was not what the OpenAI protocol promises (worth retrying). */
export class ProtocolError extends Error {}
/** The first choice of a chat completion: its text, finish reason and first-token top log-probabilities. */
export interface Completion {
  content: string;
  finishReason: string | null;
  tops: TopLogprob[] | null;
}

/** Extracts the first choice's text and first-token top logprobs from a chat completion body. */
export function readCompletion(body: unknown): Completion {
  const choice = (body as { choices?: unknown[] } | null)?.choices?.[0] as Record<string, unknown> | undefined;
  if (!choice || typeof choice !== 'object') {
    const err = (body as { error?: { message?: string } } | null)?.error?.message;
    throw new ProtocolError(err ? `the endpoint replied with an error: ${err}` : 'the reply has no choices[0]');
  }
  const message = choice.message as { content?: unknown } | undefined;
  const content = typeof message?.content === 'string' ? message.content : typeof choice.text === 'string' ? choice.text : '';
  const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
  const lp = choice.logprobs as Record<string, unknown> | null | undefined;
  let tops: TopLogprob[] | null = null;
  if (lp && typeof lp === 'object') {
    const first = Array.isArray(lp.content) ? (lp.content[0] as Record<string, unknown> | undefined) : undefined;
    if (first && Array.isArray(first.top_logprobs) && first.top_logprobs.length > 0) {
      tops = (first.top_logprobs as Array<Record<string, unknown>>)
        .filter((t) => typeof t.token === 'string' && typeof t.logprob === 'number')
        .map((t) => ({ token: t.token as string, logprob: t.logprob as number }));
    } else if (first && typeof first.token === 'string' && typeof first.logprob === 'number') {
      tops = [{ token: first.token, logprob: first.logprob }];
    } else if (Array.isArray(lp.top_logprobs) && lp.top_logprobs[0] && typeof lp.top_logprobs[0] === 'object') {
      // legacy completions layout: [{ token: logprob, ... }] per position
      tops = Object.entries(lp.top_logprobs[0] as Record<string, unknown>)
        .filter(([, v]) => typeof v === 'number')
        .map(([token, v]) => ({ token, logprob: v as number }));
    }
  }
  return { content, finishReason, tops };
}
