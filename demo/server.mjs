// A small static server for the demo page and the browser tests, on loopback only.
//
// `mounts` maps URL prefixes ('/app/') to a directory on disk or to in-memory files (for
// bundles that esbuild built with write: false). With `isolated: true` every response carries
// the COOP/COEP headers that make the page cross-origin isolated (SharedArrayBuffer, and so
// wasm threads); without them the page is not isolated, as on most static hosts.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/**
 * @param {{ mounts: Record<string, string | Map<string, Uint8Array | string>>, isolated?: boolean, port?: number, host?: string }} opts
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function startServer({ mounts, isolated = false, port = 0, host = '127.0.0.1' }) {
  // Longest prefix first, so '/app/' wins over '/'.
  const table = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = createServer(async (req, res) => {
    const headers = { 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, headers).end();
        return;
      }
      let path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (path.endsWith('/')) path += 'index.html';
      const body = await lookup(table, path);
      if (body === null) {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${path}\n`);
        return;
      }
      const type = TYPES[extname(path)] ?? 'application/octet-stream';
      res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { ...headers, 'Content-Type': 'text/plain' }).end(String(err));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve(undefined));
    }),
  };
}

/** The bytes served for `path`, or null. */
async function lookup(table, path) {
  for (const [prefix, target] of table) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    if (target instanceof Map) {
      const hit = target.get(rest);
      if (hit !== undefined) return hit;
      continue;
    }
    const file = normalize(join(target, rest));
    if (file !== normalize(target) && !file.startsWith(normalize(target + sep))) continue; // no '..' escapes
    try {
      if ((await stat(file)).isFile()) return await readFile(file);
    } catch {
      // not here: try a shorter prefix
    }
  }
  return null;
}
