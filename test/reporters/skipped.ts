// A vitest reporter that ends the run with a visible line for every group of skipped tests and
// why they were skipped (the reason a test puts in its name as "[SKIPPED: …]"), so that a run
// without Chromium cannot pass for a full one.
import type { Reporter, TestModule } from 'vitest/node';

export default class SkippedReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const reasons = new Map<string, number>();
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        if (t.result().state !== 'skipped') continue;
        const why = /\[SKIPPED: ([^\]]+)\]/.exec(t.fullName)?.[1] ?? 'skipped without a stated reason';
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
    }
    for (const [why, n] of reasons) process.stdout.write(`\n${n} test${n === 1 ? '' : 's'} SKIPPED: ${why}\n`);
  }
}
