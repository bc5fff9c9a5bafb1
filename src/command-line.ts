/** The command line: arguments, signals and exit codes (the README's Command line), nothing else. */
import { parseArgs } from 'node:util';
import { loadConfig } from './config/load.js';
import { printConfig } from './config/print.js';
import { ConfigError, EnvironmentError, UsageError } from './errors.js';
import { createLogger, LOG_FORMATS, type LogFormat } from './logger.js';
import { Runtime } from './runtime.js';
import { VERSION } from './version.js';

const HELP = `tracetail ${VERSION} - a telemetry sidecar: tails logs, receives spans, joins them, exports OTLP.

Usage:
  tracetail [run] [--config FILE]          run the sidecar
  tracetail check-config [--config FILE]   validate and print the effective config (secrets redacted)
  tracetail --version | --help

Options:
  -c, --config FILE   YAML config file (optional: defaults and OTEL_* environment variables alone work)
  --log-format F      tracetail's own log on stderr: json, pretty (one line a person reads), or
                      auto (the default: pretty when stderr is a terminal, else json)
  -h, --help          show this help
  -v, --version       show the version

Exit codes: 0 clean stop, 1 bad config or unusable environment, 2 usage error.
Signals: SIGTERM/SIGINT stop cleanly within shutdown_timeout; SIGHUP reloads the config file.
`;

const EXIT = { ok: 0, config: 1, usage: 2 } as const;

function parse(argv: string[]): { command: 'run' | 'check-config' | 'help' | 'version'; config?: string; logFormat: LogFormat } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'log-format': { type: 'string', default: 'auto' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const format = values['log-format'];
  if (format !== 'auto' && !(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--log-format must be auto, ${LOG_FORMATS.join(' or ')}, not ${JSON.stringify(format)}`);
  const logFormat = format === 'auto' ? (process.stderr.isTTY ? 'pretty' : 'json') : (format as LogFormat);
  if (values.help) return { command: 'help', logFormat };
  if (values.version) return { command: 'version', logFormat };
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const command = positionals[0] ?? 'run';
  if (command !== 'run' && command !== 'check-config') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  return { command, config: values.config, logFormat };
}

function describeConfigError(err: ConfigError, file: string | undefined): string {
  return `invalid configuration${file ? ` in ${file}` : ''}:\n${err.issues.map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parse(argv);
  } catch (err) {
    process.stderr.write(`tracetail: ${(err as Error).message}\n\n${HELP}`);
    return EXIT.usage;
  }
  if (args.command === 'help') {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (args.command === 'version') {
    process.stdout.write(`tracetail ${VERSION}\n`);
    return EXIT.ok;
  }

  if (args.command === 'check-config') {
    try {
      const config = loadConfig({ file: args.config });
      process.stdout.write(printConfig(config));
      process.stderr.write(`tracetail: configuration ${args.config ?? '(defaults)'} is valid\n`);
      return EXIT.ok;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`tracetail: ${describeConfigError(err, args.config)}\n`);
      return EXIT.config;
    }
  }

  const log = createLogger(undefined, args.logFormat);
  let config;
  try {
    config = loadConfig({ file: args.config });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log.fatal({ problems: err.issues }, describeConfigError(err, args.config));
    return EXIT.config;
  }
  log.level = config.log_level;

  const runtime = new Runtime(config, log);
  let stopping = false;
  const stopped = new Promise<number>((resolve) => {
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second stop signal: exiting now');
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      stopping = true;
      log.info({ signal, timeout_ms: runtime.currentConfig.shutdown_timeout }, 'stopping');
      const deadline = setTimeout(() => {
        log.error('shutdown_timeout reached; what was not sent stays in the on-disk queue');
        resolve(EXIT.ok);
      }, runtime.currentConfig.shutdown_timeout);
      deadline.unref();
      runtime.stop().then(
        () => resolve(EXIT.ok),
        (err: unknown) => {
          log.error({ err }, 'error while stopping');
          resolve(EXIT.ok);
        },
      );
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
  });
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading configuration');
    runtime.reload().catch((err: unknown) => log.error({ err }, 'reload failed'));
  });

  try {
    await runtime.start();
  } catch (err) {
    // The environment's faults are the user's to fix: their message says what, a stack would not.
    if (err instanceof EnvironmentError) log.fatal({ code: (err.cause as NodeJS.ErrnoException | undefined)?.code }, err.message);
    else log.fatal({ err }, `cannot start: ${(err as Error).message}`);
    await runtime.stop().catch(() => undefined);
    return EXIT.config;
  }
  return stopped;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Give pending stderr writes a tick, then leave even if a stray handle lingers.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`tracetail: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
