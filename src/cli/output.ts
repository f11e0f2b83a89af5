/** Buffered writing to stdout that respects back-pressure (so `vigil mine | head` is fine). */
export class BufferedWriter {
  private buf: string[] = [];
  private size = 0;
  private closed = false;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout, private readonly flushChars = 1 << 16) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(s: string): void {
    if (this.closed) return;
    this.buf.push(s);
    this.size += s.length;
  }

  /** Writes what is buffered once it is large enough, waiting for the stream to drain. */
  async maybeFlush(): Promise<void> {
    if (this.size >= this.flushChars) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.closed || this.buf.length === 0) return;
    const chunk = this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (!this.out.write(chunk)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }
}
