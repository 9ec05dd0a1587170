/** `npm run serve -- [--port N] [--host H --allow-remote] [--data-dir DIR]`: browser mode. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createApp } from '../../app.ts';
import { startBrowserServer } from '../../transport/ws.ts';
import { CliUsageError, type CliCommand } from '../types.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'serve the workbench UI and API to a browser (127.0.0.1, tokened URL)',
  usage: [
    'Usage: npm run serve -- [--port N] [--host ADDR --allow-remote] [--static DIR] [--data-dir DIR]',
    '',
    'Starts the services and an HTTP + WebSocket server. Open the printed URL (it carries a per-launch token).',
    '  --port N         port to listen on (default 5757; 0 picks a free one)',
    '  --host ADDR      address to listen on (default 127.0.0.1)',
    '  --allow-remote   required with a --host other than loopback: anyone with the token can control the app',
    '  --static DIR     the built renderer (default out/web)',
    '  --no-pretrained  do not install the shipped pretrained models into this data directory',
  ].join('\n'),
  async run(args, ctx) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          port: { type: 'string', default: '5757' },
          host: { type: 'string', default: '127.0.0.1' },
          'allow-remote': { type: 'boolean', default: false },
          static: { type: 'string' },
          token: { type: 'string' },
          'no-pretrained': { type: 'boolean', default: false },
        },
        strict: true,
      }));
    } catch (err) {
      throw new CliUsageError((err as Error).message);
    }
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new CliUsageError(`--port must be 0..65535, not "${values.port}"`);
    const app = await createApp({
      dataDir: ctx.dataDir,
      mode: 'browser',
      pretrainedDir: values['no-pretrained'] ? undefined : path.join(repoRoot, 'resources/models'),
    });
    const server = await startBrowserServer({
      router: app.router,
      hub: app.hub,
      log: app.log,
      staticDir: values.static ?? path.join(repoRoot, 'out/web'),
      host: values.host,
      port,
      allowRemote: values['allow-remote'],
      token: values.token,
    });
    if (ctx.json)
      ctx.stdout(
        JSON.stringify({ url: server.url, port: server.port, host: server.host, dataDir: ctx.dataDir }),
      );
    else
      ctx.stdout(
        `NCA Workbench is serving ${ctx.dataDir}\n\n    ${server.url}\n\nOpen that URL in a browser. Ctrl+C stops.`,
      );
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    await server.close();
    await app.close();
    return 0;
  },
};
