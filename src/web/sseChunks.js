// The one reader of a chat-completions server-sent event stream, shared by the page (app.js, which
// the server serves unbundled from this folder) and by the serving load test (src/bench/serveLoad.ts,
// which imports it from here; the types are in sseChunks.d.ts). Plain JavaScript so the browser can
// load it as it is.

/**
 * Yields the parsed JSON of each `data: ...` line of a server-sent event stream, until `data: [DONE]`
 * or the end of the stream; a chunk carrying `error` throws its message. The rest of the stream is
 * cancelled when the reading stops.
 *
 * @example for await (const chunk of sseChunks(res.body)) console.log(chunk.choices);
 * @param {ReadableStream<Uint8Array>} body
 */
export async function* sseChunks(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const data = line.slice(6);
          if (data === '[DONE]') return;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message);
          yield chunk;
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
