// The wasm runtime and thread pool as both demo workers start them.
import * as sg from 'simdgrad';

/** The thread-pool API (reached through a cast so that the demo builds without it too). */
interface ThreadsInfo { threads: number; workers: number; reason: string | null }
interface ThreadsApi {
  setThreads(n: number): void;
  threadsInfo(): ThreadsInfo;
  startThreads(): Promise<ThreadsInfo>;
}

export interface RuntimeInfo { build: string; threads: number; isolated: boolean; note: string | null }

export async function loadRuntime(threads: number, status: (text: string) => void): Promise<RuntimeInfo> {
  status('loading the wasm kernels…');
  // The wasm files are served next to this bundle: pass their URLs explicitly (the pattern
  // for esbuild, CDNs and strict CSP; see the README).
  await sg.init({
    wasm: {
      simd: new URL('./simdgrad-simd.wasm', import.meta.url),
      relaxed: new URL('./simdgrad-relaxed.wasm', import.meta.url),
    },
  });
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  // Threads need a shared memory, so a cross-origin isolated page (COOP/COEP headers);
  // elsewhere the library runs on this one thread and threadsInfo().reason says why.
  const api = sg as unknown as Partial<ThreadsApi>;
  let n = 1;
  let note: string | null = 'this build of simdgrad has no threads';
  if (typeof api.setThreads === 'function' && typeof api.threadsInfo === 'function') {
    // Default: leave a core to the page and the browser (the pool's workers compete with them;
    // bench/ has the measurements).
    api.setThreads(threads > 0 ? threads : Math.max(1, (navigator.hardwareConcurrency || 1) - 1));
    const info = typeof api.startThreads === 'function' ? await api.startThreads() : api.threadsInfo();
    n = info.reason === null ? Math.min(info.threads, info.workers + 1) : 1;
    note = info.reason;
  }
  return { build: sg.build(), threads: n, isolated, note };
}
