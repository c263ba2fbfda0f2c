// Types for server.mjs (plain JS so that `npm run demo` needs no build step).
export interface StartedServer {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  port: number;
  close(): Promise<void>;
}
export interface ServerOptions {
  /** URL prefix ('/app/') -> a directory on disk, or in-memory files by their path below the prefix. */
  mounts: Record<string, string | Map<string, Uint8Array | string>>;
  /** Send COOP/COEP so that the page is cross-origin isolated (default false). */
  isolated?: boolean;
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}
export function startServer(opts: ServerOptions): Promise<StartedServer>;
