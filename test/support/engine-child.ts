/**
 * A separate process that runs one engine command on a project given as JSON, for tests that kill a run
 * (SIGKILL) or change the process time zone. With FERRY_TEST_KILL_AFTER_WRITES=N it kills itself right
 * after the target answered its Nth write call, before the ledger records the outcome: the worst moment.
 */
import { readFileSync } from 'node:fs';
import { createConnector } from '../../src/connectors/registry.js';
import type { Connector } from '../../src/core/connector.js';
import { ProgressStream } from '../../src/core/progress.js';
import { Engine } from '../../src/engine/index.js';
import { Ledger } from '../../src/ledger/index.js';
import type { ProjectFile } from '../../src/project/types.js';

const [projectPath, baseDir = process.cwd(), command] = process.argv.slice(2);
const project = JSON.parse(readFileSync(projectPath!, 'utf8')) as ProjectFile;
const killAfter = Number(process.env.FERRY_TEST_KILL_AFTER_WRITES ?? 0);

function killable(connector: Connector): Connector {
  if (!killAfter) return connector;
  let writes = 0;
  const after = <T>(result: T): T => {
    writes += 1;
    if (writes >= killAfter) process.kill(process.pid, 'SIGKILL');
    return result;
  };
  return {
    kind: connector.kind,
    capabilities: () => connector.capabilities(),
    check: () => connector.check(),
    describe: () => connector.describe(),
    read: (object, options) => connector.read(object, options),
    readByIds: (object, ids, fields) => connector.readByIds(object, ids, fields),
    create: async (object, inputs) => after(await connector.create(object, inputs)),
    update: async (object, inputs) => after(await connector.update(object, inputs)),
    delete: async (object, ids) => after(await connector.delete(object, ids)),
    ensureExternalId: connector.ensureExternalId?.bind(connector),
    findByExternalIds: connector.findByExternalIds?.bind(connector),
    now: connector.now?.bind(connector),
    close: () => connector.close(),
  };
}

const ledger = await Ledger.open(project.state!, { baseDir });
const source = createConnector(project.source, { baseDir, role: 'source' });
const target = killable(createConnector(project.target, { baseDir, role: 'target' }));
const engine = new Engine({ project, source, target, ledger, progress: new ProgressStream() });
try {
  const result =
    command === 'delta'
      ? await engine.delta({ createNew: true, updateChanged: true })
      : command === 'undo'
        ? await engine.undo(Number(process.argv[5]))
        : await engine.migrate();
  process.stdout.write(JSON.stringify(result));
} finally {
  await source.close();
  await target.close();
  await ledger.close();
}
