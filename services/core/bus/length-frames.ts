/**
 * FrameReader splits a byte stream of 4-byte little-endian length-prefixed frames, calling
 * `onFrame` with each body (a view into the received chunk when it arrived whole).
 */
export class FrameReader {
  readonly #onFrame: (body: Buffer) => void;
  #pending: Buffer | undefined;

  constructor(onFrame: (body: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    let at = 0;
    while (buf.length - at >= 4) {
      const length = buf.readUInt32LE(at);
      if (buf.length - at - 4 < length) break;
      this.#onFrame(buf.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    this.#pending = at === buf.length ? undefined : buf.subarray(at);
  }
}
