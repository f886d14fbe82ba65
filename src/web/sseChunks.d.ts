/**
 * Yields the parsed JSON of each `data: ...` line of a server-sent event stream, until `data: [DONE]`
 * or the end of the stream; a chunk carrying `error` throws its message. The rest of the stream is
 * cancelled when the reading stops. Plain JavaScript (`sseChunks.js`), shared with the web page.
 *
 * @example for await (const chunk of sseChunks<ChunkLike>(res.body)) console.log(chunk.choices);
 */
export function sseChunks<T = unknown>(body: ReadableStream<Uint8Array>): AsyncGenerator<T, void, undefined>;
