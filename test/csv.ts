/** Reads a CSV text (RFC 4180 quoting) into objects keyed by the header row; for test fixtures. */
import { parse } from 'csv-parse/sync';

export function parseCsv(text: string): Record<string, string>[] {
  return parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
}
