export {
  buildRunReport,
  type ObjectReport,
  type ReportConflict,
  type ReportFailure,
  type ReportMatchIssue,
  type RunReport,
} from './build.js';
export { formatNumber, formatSeconds, formatTable, formatValue, shorten, type TableColumn } from './format.js';
export { escapeHtml } from './html.js';
export { COUNT_COLUMNS, countColumns, defuseFormula, isReportFormat, REPORT_FORMATS, renderReport, type ReportFormat } from './render.js';
export { listRunsTable } from './runs-table.js';
