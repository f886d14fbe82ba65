import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One grading request as the served judge reads it. */
export interface JudgeRequest {
  /** `coherence` for the default coherence prompt, `trait` for any other (the default trait prompt or a trait file's eval_prompt). */
  kind: 'trait' | 'coherence';
  question: string;
  answer: string;
  prompt: string;
}

/**
 * A small OpenAI-protocol judge on 127.0.0.1 (the pattern of the traitScoring and evaluate tests):
 * `grade` turns each request into the one-token reply, sent with its log-probability as
 * `createJudgeScorer` asks for it. Every request is kept in `requests`.
 */
export async function serveJudge(grade: (r: JudgeRequest) => string): Promise<{ url: string; requests: JudgeRequest[]; close: () => Promise<void> }> {
  const requests: JudgeRequest[] = [];
  const between = (text: string, a: string, b: string) => {
    const i = text.indexOf(a);
    const j = text.indexOf(b, i);
    return i < 0 || j < 0 ? '' : text.slice(i + a.length, j).trim();
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const prompt: string = JSON.parse(body).messages[0].content;
      const r: JudgeRequest = {
        kind: prompt.includes('for coherence only') ? 'coherence' : 'trait',
        question: between(prompt, '[QUESTION START]', '[QUESTION END]'),
        answer: between(prompt, '[ANSWER START]', '[ANSWER END]'),
        prompt,
      };
      requests.push(r);
      const token = grade(r);
      const reply = {
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: token },
            finish_reason: 'stop',
            logprobs: { content: [{ token, logprob: 0, top_logprobs: [{ token, logprob: 0 }] }] },
          },
        ],
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A trait grade by words: 85 when the answer reads like a letter (dear, regards, sincerely), else 10. */
export const formalGrade = (answer: string) => (/\b(dear|regards|sincerely)\b/i.test(answer) ? '85' : '10');
