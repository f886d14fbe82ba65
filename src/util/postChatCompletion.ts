/**
 * The one client of OpenAI-compatible `POST {baseURL}/chat/completions` endpoints, shared by the
 * prompt generator (`openAIChatGenerator`), the LLM judge (`createJudgeScorer`) and the serving load
 * test (`fetchChatStream`). Each caller keeps its own reading of the reply and its own error policy
 * (the judge retries, the generator says what to check, the load test streams).
 */

/** Where an OpenAI-compatible chat endpoint is and how to call it. */
export interface ChatEndpoint {
  /** The API root, e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8080/v1". */
  baseURL: string;
  /** Sent as a bearer token when given (local servers usually need none). */
  apiKey?: string;
  /** Extra HTTP headers. */
  headers?: Record<string, string>;
  /** The fetch to use (default: global fetch). */
  fetch?: typeof fetch;
}

/**
 * The chat-completions URL under an API root (trailing slashes dropped).
 *
 * @example chatCompletionsUrl('http://127.0.0.1:8080/v1/'); // 'http://127.0.0.1:8080/v1/chat/completions'
 */
export function chatCompletionsUrl(baseURL: string): string {
  return `${baseURL.replace(/\/+$/, '')}/chat/completions`;
}

/**
 * POSTs a chat-completions request body as JSON, with the endpoint's key and headers; the response
 * is the caller's to read (JSON or a server-sent event stream).
 *
 * @example const res = await postChatCompletion({ baseURL: 'http://127.0.0.1:8080/v1' }, { model: 'stylist', messages: [{ role: 'user', content: 'Hi' }] });
 */
export function postChatCompletion(endpoint: ChatEndpoint, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...endpoint.headers };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  return (endpoint.fetch ?? globalThis.fetch)(chatCompletionsUrl(endpoint.baseURL), { method: 'POST', headers, body: JSON.stringify(body), signal });
}
