/**
 * Parquet reading and writing for the catalog, through hyparquet and hyparquet-writer (pure
 * JavaScript, no native build, maintained together; see services/backtest/README.md for why).
 * Files are written to a temporary name and renamed, so a reader never sees half a file.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { asyncBufferFromFile, parquetRead } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";

export type ColumnType = "INT64" | "DOUBLE" | "STRING" | "INT32" | "BOOLEAN";

export interface Column {
  name: string;
  type: ColumnType;
  data: ArrayLike<unknown>;
}

/** writeParquet writes columns (all the same length) atomically; `meta` goes into the footer. */
export function writeParquet(
  path: string,
  columns: readonly Column[],
  meta: Record<string, string> = {},
): void {
  mkdirSync(dirname(path), { recursive: true });
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c) => ({
      name: c.name,
      data: (c.type === "INT64"
        ? Array.from(c.data as ArrayLike<bigint>)
        : Array.from(c.data)) as never,
      type: c.type,
      nullable: false,
    })),
    kvMetadata: Object.entries(meta).map(([key, value]) => ({ key, value })),
    createdBy: "tradepipe",
  });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, new Uint8Array(buffer));
  renameSync(tmp, path);
}

/** readColumns reads the named columns of a file, whole, as arrays indexed by row. */
export async function readColumns(
  path: string,
  names: readonly string[],
): Promise<{ rows: number; columns: Record<string, ArrayLike<unknown>> }> {
  const file = await asyncBufferFromFile(path);
  const parts = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
  let rows = 0;
  await parquetRead({
    file,
    columns: [...names],
    onChunk: (chunk) => {
      let list = parts.get(chunk.columnName);
      if (list === undefined) {
        list = [];
        parts.set(chunk.columnName, list);
      }
      list.push({ rowStart: chunk.rowStart, data: chunk.columnData as ArrayLike<unknown> });
      if (chunk.rowEnd > rows) rows = chunk.rowEnd;
    },
  });
  const columns: Record<string, ArrayLike<unknown>> = {};
  for (const name of names) {
    const list = parts.get(name);
    if (list === undefined) throw new Error(`${path}: no column "${name}"`);
    if (list.length === 1 && list[0]!.rowStart === 0) {
      columns[name] = list[0]!.data;
      continue;
    }
    const all = new Array<unknown>(rows);
    for (const p of list) for (let i = 0; i < p.data.length; i++) all[p.rowStart + i] = p.data[i];
    columns[name] = all;
  }
  return { rows, columns };
}
