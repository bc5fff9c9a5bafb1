/**
 * The listening side of the OTLP receivers: the connection cap, and binding to the configured
 * address: loopback TCP through `listenTcp`, or a Unix domain socket. For a socket: the parent directory is created, a stale socket file left by
 * a crash is removed (one a running process still answers on is not), a path that is not a socket
 * is refused, and the file gets the configured mode from the start (umask while binding, then
 * chmod). The socket file is removed again on close.
 */
import { connect, type Server } from 'node:net';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BaseComponent } from '../../component.js';
import type { ListenAddress } from '../../config/schema.js';
import { EnvironmentError } from '../../errors.js';
import { RateLimitedLog, type Logger } from '../../logger.js';
import { httpUrl, listenTcp } from '../../net.js';
import type { Receiver } from '../receiver.js';

interface Bound {
  /** How the listener line shows the address: "host:port" or the socket path. */
  endpoint: string;
  /** Where a client connects: `http://host:port` (an SDK's OTLP endpoint) or `unix:///absolute/path`. */
  url: string;
  /** For a Unix socket: removes the socket file if it is still the one bound here. */
  cleanup: () => void;
}

export interface ListenerOptions {
  /** The config key of the address, for the listener line and errors. */
  configKey: string;
  address: ListenAddress;
  socketMode?: number;
  maxConnections: number;
  /** Called for every connection closed on accept because `maxConnections` are open. */
  onRefused: () => void;
  log: Logger;
}

/**
 * What the OTLP receivers share about their listening socket: the connection cap (refusals counted
 * and logged once per interval), binding, the listener line, and removing a socket file on close.
 */
export class Listener {
  private bound?: Bound;

  constructor(
    private readonly server: Server,
    private readonly o: ListenerOptions,
  ) {
    const limitedLog = new RateLimitedLog(o.log);
    server.maxConnections = o.maxConnections;
    server.on('drop', () => {
      o.onRefused();
      limitedLog.warn('max-connections', { listener: o.configKey, max_connections: o.maxConnections }, 'connection refused: limits.max_connections reached');
    });
  }

  /** The bound address ("host:port" with the real port, or the socket path), once listening. */
  get endpoint(): string | undefined {
    return this.bound?.endpoint;
  }

  async listen(): Promise<void> {
    this.bound = await listenOn(this.server, this.o.address, this.o.configKey, this.o.socketMode);
    this.o.log.info({ listener: this.o.configKey, endpoint: this.bound.endpoint, url: this.bound.url }, 'listening');
  }

  /** After the server closed: remove the socket file. */
  cleanup(): void {
    this.bound?.cleanup();
  }
}

/** A receiver that is ready once its listener is bound, and removes its socket file on stop. */
export abstract class ListeningReceiver extends BaseComponent implements Receiver {
  protected abstract readonly listener: Listener;

  get ready(): boolean {
    return this.running && this.listener.endpoint !== undefined;
  }

  /** The bound address ("host:port" with the real port, or the socket path), once started. */
  get endpoint(): string | undefined {
    return this.listener.endpoint;
  }

  protected async doStart(): Promise<void> {
    await this.listener.listen();
  }

  protected async doStop(): Promise<void> {
    await this.close();
    this.listener.cleanup();
  }

  /** Stop taking connections and finish (or cut, after a grace period) those in flight. */
  protected abstract close(): Promise<void>;
}

async function listenOn(server: Server, address: ListenAddress, configKey: string, socketMode = 0o660): Promise<Bound> {
  if ('port' in address) {
    const bound = await listenTcp(server, address, configKey);
    return { endpoint: bound.host.includes(':') ? `[${bound.host}]:${bound.port}` : `${bound.host}:${bound.port}`, url: httpUrl(bound), cleanup: () => undefined };
  }
  const path = address.path;
  await prepareSocketPath(path, configKey);
  await listenUnix(server, path, socketMode, configKey);
  let ino: number;
  try {
    chmodSync(path, socketMode);
    ino = lstatSync(path).ino;
  } catch (err) {
    server.close();
    throw new EnvironmentError(`${configKey}: cannot set the mode of ${path}: ${(err as Error).message}`, { cause: err });
  }
  return {
    endpoint: path,
    url: `unix://${resolve(path)}`,
    cleanup: () => {
      try {
        if (lstatSync(path).ino === ino) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

async function prepareSocketPath(path: string, configKey: string): Promise<void> {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new EnvironmentError(`${configKey}: cannot create the directory of ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new EnvironmentError(`${configKey}: cannot inspect ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!isSocket) {
    throw new EnvironmentError(`${configKey}: ${path} exists and is not a Unix socket; refusing to replace it (remove it or choose another path)`);
  }
  if (await answers(path)) {
    throw new EnvironmentError(`${configKey}: ${path} is in use by a running process (another tracetail?)`);
  }
  try {
    unlinkSync(path); // stale: left behind by a process that did not stop cleanly
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new EnvironmentError(`${configKey}: cannot remove the stale socket ${path}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
    }
  }
}

/** Whether a process accepts connections on the socket (a stale one refuses them). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (live: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    };
    const timer = setTimeout(() => done(true), 1000);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function listenUnix(server: Server, path: string, mode: number, configKey: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new EnvironmentError(`${configKey}: cannot listen on ${path}: ${err.code ?? err.message}`, { cause: err }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // The socket file is created by bind() inside listen(); the umask keeps it from being more
    // open than `mode` for even an instant. Workers cannot change the umask: chmod alone then.
    let previous: number | undefined;
    try {
      previous = process.umask(0o777 & ~mode);
    } catch {
      previous = undefined;
    }
    try {
      server.listen(path);
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}
