import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidArgumentError } from '../../errors.js';
import type { ChatMessage } from '../../engine/LanguageModel.js';

/**
 * One conversation to monitor or screen: the prompt as chat messages (ending with a user turn) and,
 * when the line had one, the assistant's response to it.
 *
 * @example const s: ChatSample = { line: 3, id: 'a7', messages: [{ role: 'user', content: 'Hi' }], response: 'Hello!' };
 */
export interface ChatSample {
  /** 1-based line number in the file (the sample's identity when it has no `id`). */
  line: number;
  id?: string;
  messages: ChatMessage[];
  response?: string;
}

const ROLES = new Set(['system', 'user', 'assistant']);

/**
 * Parses one JSONL line in any of the layouts chat datasets use:
 * `{"messages": [{role, content}, …]}` (a final assistant message is the response; OpenAI
 * fine-tuning files, persona_vectors' training data), `{"system"?, "user", "assistant"?}` (the
 * data/stylist prompt files; `response` and `prompt` are accepted for `assistant` and `user`).
 * `id` (string or number) is kept. Errors name the file and line.
 *
 * @example parseChatLine('{"user": "Hi", "assistant": "Hello"}', 'data.jsonl', 1); // { line: 1, messages: [user Hi], response: 'Hello' }
 */
export function parseChatLine(text: string, file: string, line: number): ChatSample {
  const where = `${file}:${line}`;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${where}: not valid JSON (${(err as Error).message}).`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidArgumentError(`${where}: expected a JSON object with "messages" or "user".`);
  const o = raw as Record<string, unknown>;
  const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : undefined;
  const str = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new InvalidArgumentError(`${where}: "${k}" must be a string.`);
    return v;
  };
  if (o.messages !== undefined) {
    if (!Array.isArray(o.messages) || o.messages.length === 0) throw new InvalidArgumentError(`${where}: "messages" must be a non-empty array.`);
    const messages: ChatMessage[] = o.messages.map((m, i) => {
      const mm = m as Record<string, unknown>;
      if (!mm || typeof mm !== 'object' || !ROLES.has(mm.role as string) || typeof mm.content !== 'string') {
        throw new InvalidArgumentError(`${where}: messages[${i}] must be {"role": "system"|"user"|"assistant", "content": "…"}.`);
      }
      return { role: mm.role as ChatMessage['role'], content: mm.content };
    });
    let response: string | undefined;
    if (messages[messages.length - 1].role === 'assistant') response = messages.pop()!.content;
    if (messages.length === 0 || messages[messages.length - 1].role !== 'user')
      throw new InvalidArgumentError(`${where}: the prompt must end with a user message (before the optional final assistant reply).`);
    return { line, id, messages, response };
  }
  const user = str('user') ?? str('prompt');
  if (user === undefined) throw new InvalidArgumentError(`${where}: expected "messages" or "user" (or "prompt").`);
  const system = str('system');
  const response = str('assistant') ?? str('response');
  const messages: ChatMessage[] = [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: user }];
  return { line, id, messages, response };
}

/**
 * Streams the samples of a JSONL file one line at a time (blank lines skipped), so a dataset of
 * any size is read in constant memory.
 *
 * @example for await (const s of readChatJsonl('data.jsonl')) console.log(s.line, s.response?.length);
 */
export async function* readChatJsonl(file: string): AsyncGenerator<ChatSample> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err: NodeJS.ErrnoException) =>
      reject(new InvalidArgumentError(`Cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}.`)),
    );
  });
  await opened;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      if (text.trim() === '') continue;
      yield parseChatLine(text, file, n);
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}
