import { chatCompletionsUrl, postChatCompletion } from '../../util/postChatCompletion.js';
import { GeneratorError, type ChatGenerator } from './generateArtifacts.js';

/**
 * Where and how to reach an OpenAI-compatible chat endpoint.
 *
 * @example const o: OpenAIChatOptions = { baseURL: 'http://localhost:8080/v1', model: 'local' };
 */
export interface OpenAIChatOptions {
  /** The API root, e.g. "https://api.openai.com/v1" or "http://localhost:8000/v1". */
  baseURL: string;
  /** Sent as a bearer token when given (local servers usually need none). */
  apiKey?: string;
  model: string;
  /** Abort a request after this long (default 300 000 ms). */
  timeoutMs?: number;
  /** Extra HTTP headers. */
  headers?: Record<string, string>;
}

function describeBody(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const msg = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message);
    if (typeof msg === 'string' && msg) return msg;
  } catch {
    // not JSON: show the text itself
  }
  const t = body.trim().replace(/\s+/g, ' ');
  return t.length > 300 ? `${t.slice(0, 300)}…` : t || '(empty body)';
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return ' Check the API key.';
  if (status === 404) return ' Check the base URL (it usually ends in /v1) and the model name.';
  if (status === 429) return ' The endpoint is rate-limiting; wait and try again.';
  return '';
}

/**
 * A `ChatGenerator` over any OpenAI-compatible endpoint (`POST {baseURL}/chat/completions`:
 * OpenAI, vLLM, llama.cpp's server, Ollama, LM Studio, the toolkit's own server), using global
 * `fetch`. HTTP failures, unreachable servers and unexpected bodies are `GeneratorError`s that say
 * what to check.
 *
 * @example
 * const gen = openAIChatGenerator({ baseURL: 'https://api.openai.com/v1', apiKey: process.env.OPENAI_API_KEY, model: 'gpt-4.1-mini' });
 * const text = await gen([{ role: 'user', content: 'Say hi.' }], { temperature: 0 });
 */
export function openAIChatGenerator(options: OpenAIChatOptions): ChatGenerator {
  const url = chatCompletionsUrl(options.baseURL);
  const timeoutMs = options.timeoutMs ?? 300_000;
  return async (messages, opts) => {
    const body: Record<string, unknown> = { model: options.model, messages };
    if (opts.temperature !== undefined) body.temperature = opts.temperature;
    if (opts.maxTokens !== undefined) body.max_tokens = opts.maxTokens;
    let res: Response;
    try {
      res = await postChatCompletion(options, body, AbortSignal.timeout(timeoutMs));
    } catch (err) {
      const e = err as Error & { cause?: { message?: string; code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new GeneratorError(`Cannot reach the chat endpoint ${url}: ${why}.`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) {
      throw new GeneratorError(
        `The chat endpoint ${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}: ${describeBody(text)}.${hintFor(res.status)}`,
      );
    }
    let content: unknown;
    try {
      const j = JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] };
      content = j.choices?.[0]?.message?.content;
    } catch {
      throw new GeneratorError(`The chat endpoint ${url} did not answer JSON: ${describeBody(text)}`);
    }
    if (typeof content !== 'string') {
      throw new GeneratorError(`The chat endpoint ${url} answered without choices[0].message.content (is it OpenAI-compatible?): ${describeBody(text)}`);
    }
    return content;
  };
}
