import { createConnector } from '../../src/connectors/registry.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import type { ProjectFile } from '../../src/project/types.js';

/**
 * What one CLI invocation gets: fresh connectors (from the registry, as `ferry` builds them), the ledger and an
 * engine over the project; everything is closed when `work` ends.
 */
export async function withEngine<T>(dir: string, project: ProjectFile, work: (engine: Engine, ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await Ledger.open(project.state!, { baseDir: dir });
  const source = createConnector(project.source, { baseDir: dir, role: 'source' });
  const target = createConnector(project.target, { baseDir: dir, role: 'target' });
  try {
    return await work(new Engine({ project, source, target, ledger, progress: new ProgressStream() }), ledger);
  } finally {
    await source.close();
    await target.close();
    await ledger.close();
  }
}
