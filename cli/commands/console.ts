/**
 * `dsr console --data DIR [--port N]`: the web console (page and API) against a local engine,
 * started (detached) if none runs for DIR, reused if one does. Prints the URL and the two local
 * users (support and auditor), whose passwords live in DIR/console-users.json.
 */
import path from 'node:path';
import { Command } from 'commander';
import { usersFile } from '../../console/api/auth';
import { startConsoleServer } from '../../console/server';
import { loadLocalEnv, type Printer } from '../context';
import { parsePositiveInt, startDetached } from './local';

export function consoleCommand(printer: Printer): Command {
  return new Command('console')
    .description('serve the web console (support and auditor pages and their API) against the local engine of DIR')
    .requiredOption('--data <dir>', 'the local engine\'s directory (started if it is not running)')
    .option('--port <n>', 'port to listen on (default: 8787; 0 picks a free one)', parsePositiveInt, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (opts: { data: string; port: number; host: string }) => {
      const dataDir = path.resolve(opts.data);
      await startDetached(dataDir, {});
      loadLocalEnv(dataDir);
      const server = await startConsoleServer({ dataDir, port: opts.port, host: opts.host, log: (line) => printer.err(line) });
      printer.out(`console: ${server.url}`);
      for (const u of server.users.users) printer.out(`  ${u.role.padEnd(8)} user ${u.user}  password ${u.password}`);
      printer.out(`  (users and passwords: ${usersFile(dataDir)}; stop with Ctrl-C)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
