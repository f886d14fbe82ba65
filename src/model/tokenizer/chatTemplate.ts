import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { ModelFileError, PersonaError } from '../../errors.js';
import { readJsonFile, readTextFile } from '../../util/readJsonFile.js';
import { ChatTemplateLimitError, renderTemplate, type TemplateLimits } from './renderTemplate.js';

/**
 * One chat turn as chat templates read it (`message.role`, `message.content`, ...).
 *
 * @example
 * const turn: ChatTemplateMessage = { role: 'assistant', content: 'Hello', reasoning_content: 'Greet back.' };
 */
export interface ChatTemplateMessage {
  role: string;
  content: string;
  /** An earlier assistant turn's thinking (Qwen3 templates read it). */
  reasoning_content?: string;
  tool_calls?: unknown[];
  name?: string;
  tool_call_id?: string;
}

/**
 * How to render a chat template.
 *
 * @example
 * tok.applyChatTemplate(messages, { addGenerationPrompt: true, enableThinking: true });
 */
export interface ChatTemplateOptions {
  /** Open the assistant turn after the messages (default true). */
  addGenerationPrompt?: boolean;
  /** Qwen3 thinking. Off by default: Qwen3 templates then append an empty `<think>` block. */
  enableThinking?: boolean;
  /** Tool definitions (JSON schemas) for templates that describe tools. */
  tools?: unknown[];
  /** More template variables; they override the ones set from the options. */
  extra?: Record<string, unknown>;
  /**
   * Trusted text only: special-token strings written inside message contents (`<|im_end|>`) become
   * special tokens, as in the template's own markers. Off by default, so a message can never close
   * its turn or open a `system` one (the contents are encoded as plain text, as OpenAI's API does).
   */
  allowSpecialTokens?: boolean;
  /** Bounds on the template's work (default `DEFAULT_TEMPLATE_LIMITS`). */
  limits?: TemplateLimits;
}

/**
 * Special token strings from `tokenizer_config.json`, as templates see them.
 *
 * @example
 * const specials: SpecialTokenStrings = { bos_token: '<bos>', eos_token: '<eos>' };
 */
export type SpecialTokenStrings = Record<string, string | string[]>;

/**
 * A model folder's chat template: its Jinja source and where it came from.
 *
 * @example
 * const t: ChatTemplateSource = { source: '{{ messages[0].content }}', origin: 'my-model/chat_template.jinja' };
 */
export interface ChatTemplateSource {
  source: string;
  /** The file (and key) it was read from, for error messages. */
  origin: string;
}

/**
 * The model has no chat template. `renderPlainPrompt` gives a template-free prompt instead.
 *
 * @example
 * try { tok.applyChatTemplate(messages); } catch (e) { if (e instanceof NoChatTemplateError) prompt = renderPlainPrompt(messages); }
 */
export class NoChatTemplateError extends ModelFileError {}

const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'pad_token', 'unk_token', 'sep_token', 'cls_token', 'mask_token'];

type Raw = Record<string, unknown>;

/**
 * The text of a special token in `tokenizer_config.json`: a string, or an `{content: ...}` object
 * (the older AddedToken layout). Null when absent.
 *
 * @example
 * specialTokenContent({ content: '<s>', lstrip: false }); // '<s>'
 */
export function specialTokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as Raw).content === 'string') return (value as Raw).content as string;
  return null;
}

/**
 * The special token strings a chat template may use, read from `tokenizer_config.json`:
 * `bos_token`, `eos_token`, `pad_token`, `unk_token`, `sep_token`, `cls_token`, `mask_token`,
 * `additional_special_tokens` (as transformers passes its `special_tokens_map`).
 *
 * @example
 * specialTokenStrings({ eos_token: '<|im_end|>', bos_token: null }); // { eos_token: '<|im_end|>' }
 */
export function specialTokenStrings(tokenizerConfig: Raw): SpecialTokenStrings {
  const out: SpecialTokenStrings = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const s = specialTokenContent(tokenizerConfig[key]);
    if (s !== null) out[key] = s;
  }
  const extra = tokenizerConfig.additional_special_tokens;
  if (Array.isArray(extra)) {
    out.additional_special_tokens = extra.map(specialTokenContent).filter((s): s is string => s !== null);
  }
  return out;
}

/**
 * Finds a model folder's chat template: `chat_template.jinja`, else `tokenizer_config.json`'s
 * `chat_template` (a string, or a list of `{name, template}` of which `default` is used), else
 * `chat_template.json` (`{"chat_template": ...}`). Null when there is none.
 *
 * @example
 * const t = await readChatTemplate('models/stylist', tokenizerConfig); // { source: '{%- for ...', origin: '.../tokenizer_config.json' }
 */
export async function readChatTemplate(dir: string, tokenizerConfig: Raw): Promise<ChatTemplateSource | null> {
  const jinjaFile = path.join(dir, 'chat_template.jinja');
  const jinja = await readTextFile(jinjaFile, { errorClass: ModelFileError, optional: true });
  if (jinja !== undefined) return { source: jinja, origin: jinjaFile };

  const configFile = `${path.join(dir, 'tokenizer_config.json')} (chat_template)`;
  const fromConfig = pickTemplate(tokenizerConfig.chat_template, configFile);
  if (fromConfig !== null) return { source: fromConfig, origin: configFile };

  const jsonFile = path.join(dir, 'chat_template.json');
  const parsed = await readJsonFile(jsonFile, { errorClass: ModelFileError, optional: true });
  if (parsed !== undefined) {
    const t = pickTemplate((parsed as Raw | null)?.chat_template, jsonFile);
    if (t !== null) return { source: t, origin: jsonFile };
  }
  return null;
}

function pickTemplate(value: unknown, origin: string): string | null {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return null;
  const named = value as { name?: unknown; template?: unknown }[];
  const chosen = named.find((t) => t?.name === 'default');
  if (typeof chosen?.template === 'string') return chosen.template;
  const names = named.map((t) => t?.name).filter((n) => typeof n === 'string');
  if (named.length > 0) {
    throw new ModelFileError(`${origin} lists chat templates (${names.join(', ')}) but none is named "default".`);
  }
  return null;
}

const parsed = new Map<string, Template>();

function parseTemplate(source: string, origin: string): Template {
  let t = parsed.get(source);
  if (t) return t;
  try {
    t = new Template(source);
  } catch (err) {
    throw new ModelFileError(`The chat template in ${origin} could not be parsed: ${(err as Error).message}`, { cause: err });
  }
  if (parsed.size >= 16) parsed.delete(parsed.keys().next().value as string);
  parsed.set(source, t);
  return t;
}

/**
 * Renders a Jinja chat template with @huggingface/jinja, passing the variables transformers passes:
 * `messages`, `add_generation_prompt`, `enable_thinking` (false unless asked), `tools` and the special
 * token strings. A template's `raise_exception(message)` becomes a `PersonaError` with that message;
 * a template that does more work than `opts.limits` allow, a `ChatTemplateLimitError`.
 *
 * @example
 * applyChatTemplate(source, [{ role: 'user', content: 'Hi' }], { specialTokens: { eos_token: '<|im_end|>' } });
 * // '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'
 */
export function applyChatTemplate(
  template: string,
  messages: readonly ChatTemplateMessage[],
  opts: ChatTemplateOptions & { specialTokens?: SpecialTokenStrings; origin?: string } = {},
): string {
  const origin = opts.origin ?? 'the chat template';
  const compiled = parseTemplate(template, origin);
  // raise_exception, range and strftime_now are globals that renderTemplate sets (bounded).
  const vars: Record<string, unknown> = {
    ...(opts.specialTokens ?? {}),
    messages,
    add_generation_prompt: opts.addGenerationPrompt ?? true,
    enable_thinking: opts.enableThinking ?? false,
  };
  if (opts.tools !== undefined) vars.tools = opts.tools;
  Object.assign(vars, opts.extra ?? {});
  try {
    return renderTemplate(compiled, vars, origin, opts.limits);
  } catch (err) {
    if (err instanceof ChatTemplateLimitError) throw err;
    throw new PersonaError(`The chat template (${origin}) could not render these messages: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * A template-free prompt for models that have no chat template: the messages' contents, one
 * paragraph each.
 *
 * @example
 * renderPlainPrompt([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]); // 'Be brief.\n\nHi'
 */
export function renderPlainPrompt(messages: readonly ChatTemplateMessage[]): string {
  return messages.map((m) => m.content).join('\n\n');
}
