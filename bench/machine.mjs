// The machine the bench runs on, and how busy the rest of it is.
//
// The bench runs on shared 2-core machines: another process that takes a core for a few
// seconds (a test run, a build) halves a two-thread figure and blurs every other one. So the
// driver (run.mjs) watches, around every sample batch it asks a worker for, how much CPU the
// processes that are NOT this bench used (Linux /proc: the machine's busy time minus that
// of the bench's own processes and threads, steal time counted as busy); a batch taken while
// they used more than QUIET_CORES is thrown away and taken again once the machine is quiet.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** A batch is "quiet" when other processes used at most this many cores during it. */
export const QUIET_CORES = 0.25;

const HZ = 100; // USER_HZ: the unit of /proc's CPU times on every Linux

/**
 * Busy CPU time of the whole machine and of the given processes (all their threads, plus the
 * children they have waited for), in seconds, from /proc; null where there is no /proc.
 */
export function cpuSnapshot(pids) {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all of them but idle and iowait.
    const busy = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3] - cpu[4];
    let ours = 0;
    for (const pid of pids) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
        // utime, stime, cutime, cstime: fields 14 to 17 of the man page.
        ours += Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
      } catch {
        // the process has ended
      }
    }
    return { busy: busy / HZ, ours: ours / HZ, t: performance.now() / 1000 };
  } catch {
    return null;
  }
}

/** Cores used by other processes between two snapshots (null without /proc or too short a window). */
export function otherCores(a, b) {
  if (a === null || b === null || b.t - a.t < 0.05) return null;
  return Math.max(0, (b.busy - a.busy) - (b.ours - a.ours)) / (b.t - a.t);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits (up to maxMs) until other processes used at most QUIET_CORES over a 0.5 s window;
 * returns the milliseconds waited.
 */
export async function waitQuiet(pids, maxMs) {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const a = cpuSnapshot(pids);
    await sleep(500);
    const o = otherCores(a, cpuSnapshot(pids));
    if (o === null || o <= QUIET_CORES) break;
  }
  return performance.now() - t0;
}

/** The CPU's model name. */
export function cpuModel() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m);
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}
