/**
 * SIGINT/SIGTERM for the long-running commands (`vigil serve`, `vigil worker`): the first signal
 * runs the command's stop (bounded by a timeout that exits 1), a second one exits at once. The exit
 * code says whether everything was stored: 0 after a clean stop, 1 otherwise.
 */
export interface StopSignalOptions {
  timeoutMs: number;
  /** What stopping does, for the first message (`finishing requests, storing state`). */
  doing: string;
  /** Added to the "again" and "could not stop" messages: what happens to what was not stored. */
  unstored?: { again: string; timedOut: string };
  /** Stores and closes everything; resolves to the last message (`stopped …`). */
  stop: () => Promise<string>;
}

export interface StopSignals {
  /** Takes the one way out (false when a stop has begun already): for exits other than a signal. */
  claim(): boolean;
}

export function handleStopSignals(o: StopSignalOptions): StopSignals {
  let stopping = false;
  const claim = (): boolean => {
    if (stopping) return false;
    stopping = true;
    return true;
  };
  const write = (text: string): void => void process.stderr.write(`vigil: ${text}\n`);
  const stop = async (signal: string): Promise<void> => {
    if (!claim()) {
      write(`${signal} again; exiting without storing what is in memory${o.unstored?.again ?? ''}`);
      process.exit(1);
    }
    write(`${signal}: stopping (${o.doing})`);
    const timer = setTimeout(() => {
      write(`could not stop within ${o.timeoutMs / 1000} s; exiting${o.unstored?.timedOut ?? ''}`);
      process.exit(1);
    }, o.timeoutMs);
    timer.unref();
    try {
      write(await o.stop());
      process.exitCode = 0;
    } catch (err) {
      write(`error while stopping: ${(err as Error).message}`);
      process.exitCode = 1;
    }
    clearTimeout(timer);
    // nothing should hold the process now; if something does, do not hang
    setTimeout(() => process.exit(process.exitCode ?? 0), 1_000).unref();
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return { claim };
}
