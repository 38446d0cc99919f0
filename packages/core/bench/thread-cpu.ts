/**
 * CPU time per thread of this process, from Linux's /proc/self/task/<tid>/stat, for the rows with
 * many validations in flight: there the wall clock hides where the time goes, and what bounds a
 * validator on few cores is the CPU each validation costs the main thread and everything else (the
 * threadpool verifying, V8's helper threads collecting garbage). Undefined elsewhere (no /proc).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** CPU ticks per thread id. */
type Ticks = Map<string, number>;

/** A snapshot to pass to {@link cpuSince}, or undefined where threads cannot be read. */
export interface CpuMark {
  readonly ticks: Ticks;
  readonly usage: NodeJS.CpuUsage;
}

const TASKS = '/proc/self/task';
const available = existsSync(TASKS);

/** Cores this process may use: what a CPU ceiling divides by. */
export const CORES = availableParallelism();

function ticks(): Ticks {
  const out: Ticks = new Map();
  for (const tid of readdirSync(TASKS)) {
    let stat: string;
    try {
      stat = readFileSync(`${TASKS}/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // Fields after the parenthesised name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(tid, Number(fields[11]) + Number(fields[12]));
  }
  return out;
}

export function cpuMark(): CpuMark | undefined {
  return available ? { ticks: ticks(), usage: process.cpuUsage() } : undefined;
}

/**
 * µs of CPU per operation since `mark`: on the main thread, and on all other threads together.
 * Ticks are scaled by the process's own CPU count over the same span (so no USER_HZ is assumed).
 */
export function cpuSince(
  mark: CpuMark | undefined,
  ops: number,
): { main: number; others: number } | undefined {
  if (!mark || ops <= 0) return undefined;
  const now = ticks();
  const usage = process.cpuUsage(mark.usage);
  let main = 0;
  let others = 0;
  for (const [tid, t] of now) {
    const spent = t - (mark.ticks.get(tid) ?? 0);
    if (tid === String(process.pid)) main += spent;
    else others += spent;
  }
  const total = main + others;
  if (total === 0) return undefined;
  const usPerTick = (usage.user + usage.system) / total;
  return { main: (main * usPerTick) / ops, others: (others * usPerTick) / ops };
}
