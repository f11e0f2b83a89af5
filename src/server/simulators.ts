/**
 * The log simulator per project: a run ticks every `batchIntervalMs` and its lines are ingested
 * like a `text/plain` body (source `simulator`), each batch stored before the next tick. Timers are
 * cleared when a run is stopped, when it completes and when the server closes.
 */
import { randomUUID } from 'node:crypto';
import { LogSimulator, type SimulatorStartOptions, type SimulatorStatus } from '../core/simulate/simulator.js';
import type { IngestQueue } from '../worker/queue.js';
import { parseTextBody, type BodyLimits } from './ingest-body.js';
import { publishAndWait } from './publish.js';

export const SIMULATOR_SOURCE = 'simulator';

interface Slot {
  sim: LogSimulator;
  timer: ReturnType<typeof setInterval> | undefined;
  shipping: Promise<void> | undefined;
}

export interface SimulatorHostDeps {
  queue: IngestQueue;
  limits: BodyLimits;
  now: () => number;
  ingestTimeoutMs: number;
  onError?: (err: unknown) => void;
}

export class SimulatorHost {
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  constructor(private readonly deps: SimulatorHostDeps) {}

  private slot(projectId: string): Slot {
    let s = this.slots.get(projectId);
    if (!s) {
      s = { sim: new LogSimulator({ clock: { now: this.deps.now } }), timer: undefined, shipping: undefined };
      this.slots.set(projectId, s);
    }
    return s;
  }

  /** Starts a run for the project; throws SimulatorError (VIGIL_SIMULATOR_RUNNING, VIGIL_SIMULATOR_OPTIONS). */
  start(projectId: string, options: SimulatorStartOptions): SimulatorStatus {
    const s = this.slot(projectId);
    const status = s.sim.start(options);
    if (this.closed) return s.sim.stop();
    this.clearTimer(s);
    s.timer = setInterval(() => this.onTick(projectId, s), status.batchIntervalMs);
    return status;
  }

  stop(projectId: string): SimulatorStatus {
    const s = this.slots.get(projectId);
    if (!s) return this.slot(projectId).sim.status();
    this.clearTimer(s);
    return s.sim.stop();
  }

  status(projectId: string): SimulatorStatus {
    return (this.slots.get(projectId) ?? this.slot(projectId)).sim.status();
  }

  /** Stops every run and waits for batches being shipped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots.values()) {
      this.clearTimer(s);
      s.sim.stop();
    }
    await Promise.all([...this.slots.values()].map((s) => s.shipping?.catch(() => undefined)));
  }

  /** Running timers (for tests and health). */
  activeTimers(): number {
    let n = 0;
    for (const s of this.slots.values()) if (s.timer !== undefined) n++;
    return n;
  }

  private clearTimer(s: Slot): void {
    if (s.timer !== undefined) clearInterval(s.timer);
    s.timer = undefined;
  }

  private onTick(projectId: string, s: Slot): void {
    if (s.shipping) return; // the previous batch is still being stored: its lines come with the next tick
    const lines = s.sim.tick();
    if (!s.sim.running) this.clearTimer(s);
    if (lines.length === 0) return;
    s.shipping = this.ship(projectId, s.sim, lines).finally(() => {
      s.shipping = undefined;
    });
  }

  private async ship(projectId: string, sim: LogSimulator, lines: string[]): Promise<void> {
    const parsed = parseTextBody(Buffer.from(lines.join('\n'), 'utf8'), this.deps.limits);
    if (parsed.rejected > 0) sim.markFailed(parsed.rejected, parsed.errors[0]?.message);
    if (parsed.records.length === 0) return;
    try {
      await publishAndWait(this.deps.queue, { id: randomUUID(), fresh: true, projectId, source: SIMULATOR_SOURCE, receivedAtMs: this.deps.now(), records: parsed.records }, this.deps.ingestTimeoutMs, this.deps.onError);
      sim.markShipped(parsed.records.length);
    } catch (err) {
      sim.markFailed(parsed.records.length, (err as Error).message);
    }
  }
}
