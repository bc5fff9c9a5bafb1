/**
 * The running process: the admin server and the current Sidecar graph. A reload builds the new
 * graph only from a valid config; an invalid one is refused and the old graph keeps running.
 */
import { AdminServer } from './admin/admin-server.js';
import { loadConfig, type Config } from './config/load.js';
import { SIGNALS } from './otlp/signals.js';
import { redactUrl } from './config/print.js';
import { ConfigError } from './errors.js';
import { fileExportDirectory } from './exporters/index.js';
import type { Logger } from './logger.js';
import { Telemetry } from './metrics/telemetry.js';
import { Sidecar } from './sidecar.js';
import { METRICS } from './metrics/catalogue.js';

export class Runtime {
  readonly telemetry = new Telemetry();
  private admin?: AdminServer;
  private sidecar?: Sidecar;
  private reloading: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private config: Config,
    private readonly log: Logger,
  ) {}

  get currentConfig(): Config {
    return this.config;
  }

  get adminAddress() {
    return this.admin?.address;
  }

  async start(): Promise<void> {
    this.setQueueLimit(this.config);
    this.admin = this.createAdmin(this.config);
    await this.admin.start();
    this.sidecar = new Sidecar(this.config, { log: this.log, telemetry: this.telemetry });
    await this.sidecar.start();
    logExportDestination(this.config, this.log);
    this.log.info({ config: this.config.source ?? '(defaults)' }, 'tracetail started');
  }

  /** Re-read the config file; refuse an invalid one and keep running the old config. */
  reload(env: Record<string, string | undefined> = process.env): Promise<void> {
    this.reloading = this.reloading.then(() => this.doReload(env));
    return this.reloading;
  }

  private async doReload(env: Record<string, string | undefined>): Promise<void> {
    if (this.stopped) return;
    let next: Config;
    try {
      next = loadConfig({ file: this.config.source ?? undefined, env });
    } catch (err) {
      if (err instanceof ConfigError) {
        this.log.error({ problems: err.issues }, `reload refused, keeping the running config: ${err.message}`);
        return;
      }
      throw err;
    }
    this.log.level = next.log_level;
    const deadline = Date.now() + next.shutdown_timeout;
    await this.sidecar?.stop(deadline);
    if (this.stopped) return;
    const candidate = new Sidecar(next, { log: this.log, telemetry: this.telemetry });
    try {
      await candidate.start();
    } catch (err) {
      this.log.error({ err }, 'reload failed while starting the new config; restarting the previous one');
      this.sidecar = new Sidecar(this.config, { log: this.log, telemetry: this.telemetry });
      await this.sidecar.start();
      return;
    }
    if (!sameEndpoint(this.config, next)) {
      await this.admin?.stop();
      this.admin = this.createAdmin(next);
      await this.admin.start();
    }
    this.sidecar = candidate;
    this.config = next;
    this.setQueueLimit(next);
    logExportDestination(next, this.log);
    this.log.info({ config: next.source }, 'configuration reloaded');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const deadline = Date.now() + this.config.shutdown_timeout;
    await this.reloading.catch(() => undefined);
    await this.sidecar?.stop(deadline);
    await this.admin?.stop();
  }

  /** The queue's bound as a metric, so that an alert or a panel can tell how full the queue is. */
  private setQueueLimit(config: Config): void {
    this.telemetry
      .gauge(METRICS.exportQueueMaxBytes)
      .set(config.storage.max_queue_bytes);
  }

  private createAdmin(config: Config): AdminServer {
    return new AdminServer({
      endpoint: config.metrics.endpoint,
      maxConnections: config.limits.max_connections,
      telemetry: this.telemetry,
      log: this.log.child({ component: 'admin' }),
      readiness: () => {
        const reasons = this.sidecar?.notReadyReasons() ?? ['starting'];
        return { ready: reasons.length === 0, reasons };
      },
    });
  }
}

/** Where exports go, said at start: the OTLP URLs, or a warning when it is files that no backend reads. */
function logExportDestination(config: Config, log: Logger): void {
  if (!config.export.enabled) return; // the sidecar says so itself
  const otlp = SIGNALS.flatMap((signal) => {
    const target = config.exportTargets[signal];
    return target ? [[signal, redactUrl(target.url)] as const] : [];
  });
  if (otlp.length > 0) log.info(Object.fromEntries(otlp), 'exporting over OTLP/HTTP');
  const toFiles = SIGNALS.filter((signal) => !config.exportTargets[signal]);
  if (toFiles.length === 0) return;
  const directory = fileExportDirectory(config);
  const { max_files, max_file_bytes } = config.export.file;
  log.warn(
    { signals: toFiles, directory, max_files, max_file_bytes },
    `no OTLP endpoint: ${toFiles.join(', ')} go to OTLP JSON files in ${directory} (${max_files} per signal at most, the oldest removed), not to a backend; set export.otlp.endpoint or OTEL_EXPORTER_OTLP_ENDPOINT`,
  );
}

function sameEndpoint(a: Config, b: Config): boolean {
  return a.metrics.endpoint.host === b.metrics.endpoint.host && a.metrics.endpoint.port === b.metrics.endpoint.port;
}
