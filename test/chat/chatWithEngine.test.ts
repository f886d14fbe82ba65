import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatController } from '../../src/chat/ChatController.js';
import { ChatSession } from '../../src/chat/ChatSession.js';
import { EngineWorker } from '../../src/engine/worker/EngineWorker.js';
import { PERSONAS, STYLIST } from '../helpers/paths.js';
import { shippedPersona, styleScore } from '../helpers/stylistModel.js';

const ASK = 'Please thank Sam for the lovely flowers.';

describe('the chat on the embedded model (engine worker)', () => {
  let engine: EngineWorker;
  beforeAll(async () => {
    engine = await EngineWorker.start({ model: STYLIST });
  });
  afterAll(async () => {
    await engine?.close();
  });

  async function newChat(opts: ConstructorParameters<typeof ChatSession>[1] = {}) {
    const session = new ChatSession(engine.info, { persona: await shippedPersona('formal'), ...opts });
    return new ChatController(engine, session, { personaDirs: [PERSONAS], maxNewTokens: 48 });
  }

  it('answers at alpha 0, and with steering off at any alpha, exactly as the unsteered model does', async () => {
    const [baseline] = await engine.generate([{ prompt: [{ role: 'user', content: ASK }], maxNewTokens: 48, sampling: { seed: 0 } }]).result;
    const chat = await newChat();
    expect((await chat.ask(ASK)).text).toBe(baseline.text.trim());
    const off = await newChat({ alpha: 5, steering: false });
    expect((await off.ask(ASK)).text).toBe(baseline.text.trim());
  });

  it('reads a casual answer lower on the formal vector than a formal one', async () => {
    // The ends of the persona's recommended (measured coherent) range.
    const [lo, hi] = (await shippedPersona('formal')).meta.alphaRange;
    const neg = await newChat({ alpha: lo });
    const pos = await newChat({ alpha: hi });
    const a = await neg.ask(ASK);
    const b = await pos.ask(ASK);
    expect(styleScore(a.text).formality).toBeLessThan(styleScore(b.text).formality);
    expect(a.projection!).toBeLessThan(0);
    expect(a.projection!).toBeLessThan(b.projection!);
  });

  it('stops an answer mid-stream and answers the next message with the stopped one in the history', async () => {
    const chat = await newChat({ alpha: 8 });
    const abort = new AbortController();
    let pieces = 0;
    const stopped = await chat.ask('Hello', { signal: abort.signal, onPiece: () => ++pieces === 5 && abort.abort() });
    expect(stopped.stopped).toBe(true);
    expect(stopped.tokens).toBeLessThan(20);
    chat.session.setAlpha(0);
    const next = await chat.ask('Hello again');
    expect(next.stopped).toBe(false);
    expect(chat.session.messages().map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });
});
