/**
 * A server-sent-events body: `send(obj)` writes `data: <json>` (a string as it is, e.g. `[DONE]`),
 * `end()` closes it; `onCancel` runs when the client goes away. Sends after either are dropped.
 *
 * @example const { body, send, end } = sseBody(() => ac.abort()); send({ ok: true }); send('[DONE]'); end();
 */
export function sseBody(onCancel: () => void): { body: ReadableStream<Uint8Array>; send: (obj: unknown) => void; end: () => void } {
  const enc = new TextEncoder();
  let open = true;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      open = false;
      onCancel();
    },
  });
  return {
    body,
    send: (obj) => {
      if (open) controller.enqueue(enc.encode(`data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n\n`));
    },
    end: () => {
      if (open) controller.close();
      open = false;
    },
  };
}
