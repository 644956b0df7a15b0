/** The `dsr` command line: one module per command group, output through a printer. */
import { Command, CommanderError } from 'commander';
import { DsrError } from '../functions/core/errors';
import { LocalEngineError } from '../local/errors';
import { approvalCommands } from './commands/approval';
import { bundleCommand } from './commands/bundle';
import { cancelCommand } from './commands/cancel';
import { changeCommands } from './commands/changes';
import { consoleCommand } from './commands/console';
import { deadlineCommands } from './commands/deadlines';
import { demoCommand } from './commands/demo';
import { historyCommand } from './commands/history';
import { localCommand } from './commands/local';
import { receiptCommand } from './commands/receipt';
import { requestCommands } from './commands/request';
import { retentionCommands } from './commands/retention';
import { logsCommand } from './commands/logs';
import { CliError, cliPrincipal, EXIT, parsePrincipal, stdPrinter, type Printer } from './context';

export function buildProgram(printer: Printer, setExit: (code: number) => void): Command {
  const output = { writeOut: (s: string) => printer.out(s.trimEnd()), writeErr: (s: string) => printer.err(s.trimEnd()) };
  const program = new Command('dsr')
    .description('Subject Rights Orchestrator: start and follow data-subject requests, on AWS or locally')
    .option('--as <principal>', 'act as support or auditor (or DSR_AS): read only what that role may; on a local engine also sign with its credentials, its policy enforced')
    .exitOverride()
    .configureOutput(output);
  program.addCommand(localCommand(printer, setExit));
  for (const cmd of requestCommands(printer, setExit)) program.addCommand(cmd);
  for (const cmd of approvalCommands(printer, setExit)) program.addCommand(cmd);
  for (const cmd of changeCommands(printer, setExit)) program.addCommand(cmd);
  for (const cmd of deadlineCommands(printer, setExit)) program.addCommand(cmd);
  program.addCommand(cancelCommand(printer, setExit));
  program.addCommand(historyCommand(printer));
  for (const cmd of retentionCommands(printer, setExit)) program.addCommand(cmd);
  program.addCommand(logsCommand(printer, setExit));
  program.addCommand(receiptCommand(printer, setExit));
  program.addCommand(bundleCommand(printer, setExit));
  program.addCommand(consoleCommand(printer));
  program.addCommand(demoCommand(printer, (args) => main(['node', 'dsr', ...args], printer)));
  // Every level, so a subcommand's usage errors reach the printer too (and tests see them).
  const override = (cmd: Command): void => {
    cmd.exitOverride().configureOutput(output);
    cmd.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

/** `--as X` or `--as=X` anywhere before a `--` (commander parses it too, for help and checking). */
function principalArgument(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length && argv[i] !== '--'; i++) {
    if (argv[i] === '--as') return argv[i + 1] ?? '';
    if (argv[i].startsWith('--as=')) return argv[i].slice('--as='.length);
  }
  return undefined;
}

export async function main(argv: string[], printer: Printer = stdPrinter): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(printer, (code) => {
    exitCode = code;
  });
  try {
    // Read before commander runs the action, so the clients it builds carry the principal.
    const person = parsePrincipal(principalArgument(argv) ?? process.env.DSR_AS, principalArgument(argv) !== undefined ? '--as' : 'DSR_AS');
    await cliPrincipal.run(person, () => program.parseAsync(argv));
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof CliError) {
      printer.err(`dsr: ${err.message}`);
      return err.exitCode;
    }
    if (err instanceof LocalEngineError) {
      printer.err(`dsr: ${err.message}`);
      return EXIT.environment;
    }
    if (err instanceof DsrError) {
      printer.err(`dsr: ${err.message}`);
      return EXIT.usage;
    }
    const e = err as Error & { $metadata?: unknown };
    if (e.name === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(e.message)) || (e as { code?: string }).code === 'ECONNREFUSED') {
      printer.err('dsr: cannot reach the endpoints; is the local engine running? (npx dsr local up --data DIR --detach)');
      return EXIT.environment;
    }
    printer.err(`dsr: ${e.name}: ${e.message}`);
    return EXIT.failed;
  }
}
