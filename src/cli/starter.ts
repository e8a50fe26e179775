/**
 * The commented ferry.yaml that `ferry init` writes. It is valid as written (two SQLite files next to it),
 * so `ferry check` and `ferry map` work right away once those files exist; the comments show the other
 * shapes. Secrets only ever come in through `${ENV_VAR}`.
 */
export const STARTER_PROJECT_FILE = `# Ferry project file. Docs: docs/project-file.md, docs/cli.md
#
# Next steps:
#   1. Point source and target at your two CRMs (below).
#   2. ferry check     connects to both sides and shows their schemas
#   3. ferry map       proposes the mapping into this file (your edits and comments are kept)
#   4. ferry match     links records that already exist in the target
#   5. ferry demo      migrates a small sample; ferry migrate does the rest
#
# No data yet? \`ferry sample-data --output source.db\` writes a sample CRM to try things with,
# or run \`ferry demo\` in an empty folder for the guided story.
version: 1

# Where the data comes from.
source:
  connector: sql
  dialect: sqlite
  # A SQLite file, relative to this file.
  path: source.db
  # PostgreSQL or MySQL/MariaDB instead: the URL (with its password) comes from an environment variable,
  # never from this file.
  #   dialect: postgres
  #   url: \${SOURCE_DATABASE_URL}
  # A read-only database user is enough for a source.
  #
  # A folder of CSV exports instead (one file per object):
  #   connector: csv
  #   path: exports/

# Where the data goes.
target:
  connector: sql
  dialect: sqlite
  path: target.db
  #   dialect: postgres
  #   url: \${TARGET_DATABASE_URL}

# The ledger (state: links, runs, journal). A SQLite file by default; a postgres:// URL for shared use,
# e.g. state: \${FERRY_STATE_URL}. \`--state\` on the command line overrides it.
state: .ferry/state.db

# Zone of source date-times that carry none (IANA name): CSV exports and transforms alike.
sourceTimeZone: UTC
# How the source writes numbers and numeric dates as text (BCP-47), e.g. de-DE for 1.234,56 and 31.12.2024.
# sourceLocale: de-DE

options:
  # Records per object that \`ferry demo\` migrates.
  demoSampleSize: 5
  pageSize: 500

# The mapping: \`ferry map\` fills this in from both schemas. Per object: target, fields (with transforms
# and value maps), match keys, and what happens to matched records (update | fill-empty | skip).
objects: {}
`;
