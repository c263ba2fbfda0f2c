#!/usr/bin/env node
// `npm run demo`: serves the MNIST demo page on localhost.
//   --port N        (default 8080; 0 picks a free one)
//   --host H        (default 127.0.0.1)
//   --no-isolation  serve without the COOP/COEP headers (the page then runs on one thread)
import { startServer } from './server.mjs';
import { demoMounts } from './build.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const port = Number(opt('--port', process.env.PORT ?? '8080'));
const host = opt('--host', '127.0.0.1');
const isolated = !args.includes('--no-isolation');

try {
  const server = await startServer({ mounts: await demoMounts(), isolated, port, host });
  console.log(`simdgrad demo: ${server.url}/`);
  console.log(`  quick run: ${server.url}/?epochs=1&steps=40   (options: epochs, train, val, test, batch, steps, lr, seed, threads, autostart)`);
  console.log(`  VAE tab:   ${server.url}/#vae   (options: vaeSteps, vaeSeconds (default 30), vaeBatch, vaeLatent, vaeHidden, vaeLr)`);
  console.log(`  ${isolated ? 'cross-origin isolated (COOP/COEP headers): wasm threads allowed' : 'not cross-origin isolated: one thread'}; Ctrl+C stops`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
