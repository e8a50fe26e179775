import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import { FerryError } from '../../core/errors.js';
import { createWizardApp } from './app.js';
import { Scrubber } from './errors.js';
import { JobManager } from './jobs.js';
import { WizardProject } from './project.js';
import { Access } from './security.js';
import { defaultUiDir } from './static.js';

export interface WizardServerOptions {
  /** Absolute path of ferry.yaml (it need not exist yet). */
  projectPath: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** --state, as the CLI takes it. */
  state?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Loopback only: 127.0.0.1 (default), localhost or ::1. */
  host?: string;
  /** The built page (default dist/wizard-ui in the package). */
  uiDir?: string;
  /** `job` events per second at most (default 4). */
  jobEventsPerSecond?: number;
}

export interface WizardServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  /** The URL to open once: origin + /?token=... */
  url: string;
  /** A session for scripts in this process (tests): as if the URL had been opened. */
  issueSession(): string;
  jobs: JobManager;
  /** Pauses a running job (it stays resumable), waits for it to stop, and closes everything. */
  close(): Promise<void>;
}

export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

/** Starts `ferry serve`'s server on a loopback address. */
export async function startWizardServer(options: WizardServerOptions): Promise<WizardServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.includes(host)) {
    throw new FerryError('USAGE', `--host must be a loopback address (${LOOPBACK_HOSTS.join(', ')}): the wizard is for this machine only.`, { value: host });
  }
  const scrub = new Scrubber();
  const project = new WizardProject({ projectPath: options.projectPath, cwd: options.cwd, env: options.env, ...(options.state ? { state: options.state } : {}) }, scrub);
  const jobs = new JobManager(project, scrub, options.jobEventsPerSecond);
  const access = new Access();
  const { app, closeStreams } = createWizardApp({ project, jobs, access, scrub, uiDir: options.uiDir ?? defaultUiDir() });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === 'EADDRINUSE'
          ? new FerryError('USAGE', `Port ${options.port} is in use; choose another with --port.`, { value: options.port })
          : new FerryError('INTERNAL', `Cannot listen on ${host}:${options.port ?? 0}: ${error.message}`),
      );
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  access.setPort(port, host);
  const shownHost = host === '::1' ? '[::1]' : host;
  const origin = `http://${shownHost}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    origin,
    port,
    url: `${origin}/?token=${access.oneTimeToken}`,
    issueSession: () => access.issueSession(),
    jobs,
    close: () =>
      (closing ??= (async () => {
        if (jobs.isActive()) {
          try {
            jobs.pause();
          } catch {
            // it finished meanwhile
          }
        }
        await jobs.settled();
        closeStreams();
        jobs.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await project.close();
      })()),
  };
}
