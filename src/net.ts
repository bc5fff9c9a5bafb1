/** Listening and closing, with errors that name the config key of the address. */
import type { Server } from 'node:net';
import type { Endpoint } from './config/schema.js';
import { EnvironmentError } from './errors.js';

export function listenTcp(server: Server, endpoint: Endpoint, configKey: string): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const reason = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new EnvironmentError(`${configKey}: cannot listen on ${endpoint.host}:${endpoint.port}: ${reason}`, { cause: err }));
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(addr && typeof addr === 'object' ? { host: addr.address, port: addr.port } : endpoint);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(endpoint.port, endpoint.host);
  });
}

/** The URL a person or an SDK reaches a bound TCP address at; a wildcard address is this machine. */
export function httpUrl(bound: Endpoint, path = ''): string {
  const host = bound.host === '0.0.0.0' || bound.host === '::' ? 'localhost' : bound.host.includes(':') ? `[${bound.host}]` : bound.host;
  return `http://${host}:${bound.port}${path}`;
}

/** Stop accepting, let in-flight requests finish for up to `graceMs`, then cut what is left. */
export function closeServer(server: Server & { closeIdleConnections?: () => void; closeAllConnections?: () => void }, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections?.(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections?.();
  });
}
