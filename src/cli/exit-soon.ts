import { Socket } from 'node:net';
import type { CommandContext } from './context.js';
import { EXIT } from './exit-codes.js';

/** After its resources are closed, a command's process exits this long later even if something still holds it. */
const EXIT_GRACE_MS = 3_000;

/**
 * The last resort of a command that has closed everything it opened (`ferry worker` after its stop, a
 * `--queue` command after its run): if the process is still held open EXIT_GRACE_MS later, what holds it
 * is named on stderr (sockets by their peer: the database or a vendor's API) and the process exits with
 * its exit code. The timer is unref'd: a clean end exits before it. Only in Ferry's own process
 * (context.exitWhenDone), never in a test calling main().
 */
export function exitSoon(context: CommandContext, what: string): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap');
    const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
    const peers = handles.filter((handle): handle is Socket => handle instanceof Socket && handle.remotePort !== undefined).map((socket) => `${socket.remoteAddress}:${socket.remotePort}`);
    context.io.stderr.write(`${what}: still held open after stopping (${open.join(', ') || 'a pending job'}${peers.length > 0 ? `; sockets to ${peers.join(', ')}` : ''}); exiting.\n`);
    process.exit(process.exitCode ?? EXIT.ok);
  }, EXIT_GRACE_MS).unref();
}
