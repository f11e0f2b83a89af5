/** A small Server-Sent Events reader over fetch, for tests: it keeps every event and comment it reads. */

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
  /** When it was read (performance.now()). */
  atMs: number;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retryMs: number | undefined;
  ended = false;
  private waiters: (() => void)[] = [];
  private constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {}

  /** Opens the stream; rejects with the status and body when it is not a 200 text/event-stream. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const controller = new AbortController();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    if (res.status !== 200) {
      const body = await res.text();
      throw Object.assign(new Error(`stream answered ${res.status}: ${body}`), { status: res.status, body });
    }
    const c = new SseClient(res, controller);
    void c.read();
    return c;
  }

  private async read(): Promise<void> {
    const reader = this.response.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          this.block(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
    this.wake();
  }

  private block(block: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    let isEvent = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') this.retryMs = Number(value);
      if (field === 'data') isEvent = true;
    }
    if (isEvent) this.events.push({ id, event, data: data.join('\n'), atMs: performance.now() });
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Events of a kind (`event:` name), data parsed. */
  of(event: string): { id: string | undefined; data: any }[] {
    return this.events.filter((e) => e.event === event).map((e) => ({ id: e.id, data: JSON.parse(e.data) }));
  }

  /** Resolves once `test` holds (checked on every block read), or rejects after `timeoutMs`. */
  async until<T>(test: () => T | undefined | false, timeoutMs = 10_000, what = 'the expected events'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = test();
      if (v) return v;
      if (this.ended) throw new Error(`the stream ended before ${what}; events: ${JSON.stringify(this.events.map((e) => e.event))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; events so far: ${JSON.stringify(this.events.map((e) => [e.event, e.data.slice(0, 120)]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.controller.abort();
  }
}
