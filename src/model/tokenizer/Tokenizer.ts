import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { ModelFileError, PersonaError } from '../../errors.js';

export interface ChatTemplateMessage {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  /** Qwen3 thinking: off by default. */
  enableThinking?: boolean;
  extra?: Record<string, unknown>;
}

type Raw = Record<string, unknown>;

function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Raw).content === 'string') return (v as Raw).content as string;
  return null;
}

const END_OF_TURN = ['<|im_end|>', '<end_of_turn>', '<|eot_id|>', '<|end|>', '</s>', '<|endoftext|>'];

/**
 * A model's tokenizer (`tokenizer.json`, through @huggingface/tokenizers) and chat template
 * (`chat_template.jinja` or `tokenizer_config.json`, through @huggingface/jinja).
 *
 * @example
 * const tok = await loadTokenizer('models/stylist');
 * const ids = tok.encodeChat([{ role: 'user', content: 'Hi' }]);
 */
export class Tokenizer {
  private template: Template | null;
  readonly eosTokenIds: number[];
  readonly endOfTurnIds: number[];
  readonly padTokenId: number | null;
  readonly bosTokenId: number | null;
  private readonly specials: Record<string, string>;

  constructor(private readonly hf: HfTokenizer, private readonly tokConfig: Raw, templateSource: string | null, modelConfig: Raw, genConfig: Raw) {
    this.template = templateSource ? new Template(templateSource) : null;
    const id = (s: string | null) => (s === null ? undefined : hf.token_to_id(s));
    const eos = new Set<number>();
    const eosTok = id(tokenString(tokConfig.eos_token));
    if (eosTok !== undefined) eos.add(eosTok);
    for (const src of [modelConfig.eos_token_id, genConfig.eos_token_id]) {
      for (const v of Array.isArray(src) ? src : [src]) if (typeof v === 'number') eos.add(v);
    }
    this.eosTokenIds = [...eos];
    this.endOfTurnIds = END_OF_TURN.map((t) => hf.token_to_id(t)).filter((x): x is number => x !== undefined && x !== id(tokenString(tokConfig.pad_token)));
    const pad = id(tokenString(tokConfig.pad_token));
    this.padTokenId = pad ?? this.eosTokenIds[0] ?? null;
    this.bosTokenId = id(tokenString(tokConfig.bos_token)) ?? null;
    this.specials = {};
    for (const k of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const s = tokenString(tokConfig[k]);
      if (s !== null) this.specials[k] = s;
    }
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.hf.encode(text, { add_special_tokens: opts.addSpecialTokens ?? false }).ids;
  }

  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    return this.hf.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /** Renders the chat template (Qwen3 thinking off unless asked). */
  applyChatTemplate(messages: ChatTemplateMessage[], opts: ChatTemplateOptions = {}): string {
    if (!this.template) {
      throw new PersonaError('This model has no chat template (no chat_template.jinja and none in tokenizer_config.json). Use a plain prompt instead (renderPlainPrompt).');
    }
    return this.template.render({
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? true,
      enable_thinking: opts.enableThinking ?? false,
      ...this.specials,
      ...(opts.extra ?? {}),
    });
  }

  /** Token ids of a rendered chat (the template supplies BOS and specials; none are added again). */
  encodeChat(messages: ChatTemplateMessage[], opts: ChatTemplateOptions = {}): number[] {
    if (!this.template) return this.encode(renderPlainPrompt(messages), { addSpecialTokens: true });
    return this.encode(this.applyChatTemplate(messages, opts), { addSpecialTokens: false });
  }
}

/** A template-free prompt for models without a chat template. */
export function renderPlainPrompt(messages: ChatTemplateMessage[]): string {
  return messages.map((m) => (m.role === 'user' ? m.content : m.role === 'system' ? `${m.content}\n` : m.content)).join('\n') + '\n';
}

async function readJson(file: string, required: boolean, what: string): Promise<Raw> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    if (required) throw new ModelFileError(what);
    return {};
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Loads `tokenizer.json` + `tokenizer_config.json` (+ `chat_template.jinja`) from a model folder.
 *
 * @example const tok = await loadTokenizer('models/stylist'); tok.decode(tok.encode('hello'));
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const tj = await readJson(
    path.join(dir, 'tokenizer.json'),
    true,
    `No tokenizer.json in ${dir}. A fast tokenizer file (tokenizer.json) is required; slow sentencepiece-only tokenizers (tokenizer.model) are not supported.`,
  );
  const tc = await readJson(path.join(dir, 'tokenizer_config.json'), false, '');
  const mc = await readJson(path.join(dir, 'config.json'), false, '');
  const gc = await readJson(path.join(dir, 'generation_config.json'), false, '');
  let template: string | null = null;
  try {
    template = await fs.readFile(path.join(dir, 'chat_template.jinja'), 'utf8');
  } catch {
    const t = tc.chat_template;
    if (typeof t === 'string') template = t;
    else if (Array.isArray(t)) template = (t.find((x: Raw) => x.name === 'default') as Raw | undefined)?.template as string ?? null;
  }
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(tj, tc);
  } catch (err) {
    throw new ModelFileError(`tokenizer.json in ${dir} could not be loaded: ${(err as Error).message}`, { cause: err });
  }
  return new Tokenizer(hf, tc, template, mc, gc);
}
