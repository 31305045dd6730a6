// Runs the network tools (ip, nsenter, unshare, mount, nft, iptables) through
// the shared runner, plus iproute2 batches shared by concurrent callers.
import { CommandError, run } from '../../lib/exec.ts';

export { CommandError, hasCommand, run, runIgnoring } from '../../lib/exec.ts';

/** iproute2's marker after each failed line of a forced batch: "Command failed -:<line>". */
const BATCH_FAILURE = /^Command failed -:(\d+)$/;

/** Per-line errors of an `ip -force -batch` run, from its stderr: line number (1-based) → message. Pure. */
export function batchFailures(stderr: string): Map<number, string> {
  const failures = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = BATCH_FAILURE.exec(line.trim());
    if (m) {
      failures.set(Number(m[1]), pending.join('\n').trim() || 'failed');
      pending = [];
    } else if (line.trim()) pending.push(line.trim());
  }
  return failures;
}

type BatchJob = { lines: string[]; resolve(): void; reject(err: Error): void };

/**
 * Coalesces `ip` commands from concurrent callers into one `ip -force -batch`
 * process: starting a process costs milliseconds here, so 50 pods starting
 * at once share a few runs instead of making 50. Each caller learns only
 * about its own lines' failures.
 */
export class IpBatcher {
  #queue: BatchJob[] = [];
  #draining = false;

  run(lines: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ lines, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#queue.length > 0) {
      const jobs = this.#queue.splice(0);
      const input = `${jobs.flatMap((j) => j.lines).join('\n')}\n`;
      let failures = new Map<number, string>();
      try {
        await run(['ip', '-force', '-batch', '-'], { input });
      } catch (err) {
        failures = err instanceof CommandError ? batchFailures(err.stderr) : new Map();
        if (failures.size === 0) {
          for (const job of jobs) job.reject(err as Error);
          continue;
        }
      }
      let line = 1;
      for (const job of jobs) {
        const own = job.lines.map((text, i) => [text, failures.get(line + i)] as const).filter(([, e]) => e !== undefined);
        line += job.lines.length;
        if (own.length === 0) job.resolve();
        else job.reject(new CommandError(['ip', '-batch', ...own.map(([text]) => `"${text}"`)], 1, own.map(([, e]) => e).join('\n')));
      }
    }
    this.#draining = false;
  }
}
