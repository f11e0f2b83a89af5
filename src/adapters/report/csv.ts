/**
 * anomaly_report.csv: one row per anomalous line, the same rows as anomalies.json, written with
 * csv-stringify. RFC 4180: CRLF between records, fields with a comma, quote, CR or LF quoted and
 * quotes doubled; detectors and tags joined with `;`; a missing timestamp is an empty field.
 */
import { stringify as stringifySync } from 'csv-stringify/sync';
import { stringify, type Options as StringifyOptions, type Stringifier } from 'csv-stringify';
import type { AnomalyRow } from '../../core/analyze/report-types.js';

export const CSV_COLUMNS = ['file', 'line', 'timestamp', 'message', 'template', 'score', 'detectors', 'severity', 'reason', 'tags'] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

export interface CsvOptions {
  /**
   * Prefix cells that start with `=`, `+`, `-`, `@`, tab or CR with `'`, so a spreadsheet does not
   * run a log line as a formula. Off by default: the CSV then holds exactly what anomalies.json does.
   */
  escapeFormulas?: boolean;
}

/** One AnomalyRow as the CSV's cells, in CSV_COLUMNS order. */
export function csvRecord(row: AnomalyRow): string[] {
  return [
    row.file,
    String(row.line),
    row.timestamp ?? '',
    row.message,
    row.template,
    String(row.score),
    row.detectors.join(';'),
    row.severity,
    row.reason,
    row.tags.join(';'),
  ];
}

function options(opts: CsvOptions, header = true): StringifyOptions {
  return {
    header,
    columns: [...CSV_COLUMNS],
    record_delimiter: 'windows',
    quote_record_delimiter: true,
    escape_formulas: opts.escapeFormulas ?? false,
  };
}

/** The header line (with its CRLF): write it first, then one `anomalyCsvRow` per row. */
export function anomalyCsvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

/** Characters that make csv-stringify quote a cell (with our options: `,` delimiter, `"` quote and escape, CRLF records). */
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell exactly as csv-stringify writes it with our options (no formula escaping). */
function csvCell(v: string): string {
  if (!NEEDS_QUOTES.test(v)) return v;
  return `"${v.replaceAll('"', '""')}"`;
}

/**
 * One row as a CSV record (with its CRLF). `anomalyCsvHeader() + rows.map(anomalyCsvRow).join('')` equals `anomalyCsv(rows)`.
 * Written here rather than by csv-stringify (per row it cost more than judging the line): the same
 * bytes, checked against csv-stringify in the tests; formula escaping still goes through it.
 */
export function anomalyCsvRow(row: AnomalyRow, opts: CsvOptions = {}): string {
  if (opts.escapeFormulas) return stringifySync([csvRecord(row)], options(opts, false));
  // csvRecord's cells, without the array (numbers never need quotes)
  return `${csvCell(row.file)},${row.line},${csvCell(row.timestamp ?? '')},${csvCell(row.message)},${csvCell(row.template)},${row.score},${csvCell(row.detectors.join(';'))},${csvCell(row.severity)},${csvCell(row.reason)},${csvCell(row.tags.join(';'))}\r\n`;
}

/** The whole CSV for `rows` (header line first). */
export function anomalyCsv(rows: readonly AnomalyRow[], opts: CsvOptions = {}): string {
  return stringifySync(rows.map(csvRecord), options(opts));
}

/**
 * A streaming writer for runs with more rows than fit in memory: write AnomalyRow objects, pipe the
 * result to a file. The header is written even when no row is.
 */
export function anomalyCsvStream(opts: CsvOptions = {}): { write(row: AnomalyRow): boolean; end(): void; stream: Stringifier } {
  const stream = stringify(options(opts));
  return {
    write: (row) => stream.write(csvRecord(row)),
    end: () => {
      stream.end();
    },
    stream,
  };
}
