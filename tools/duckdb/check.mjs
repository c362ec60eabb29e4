// check.mjs reads Parquet files with DuckDB, a reader independent of the Go
// library that wrote them, and prints one JSON line per file: its rows, its
// columns with DuckDB's type for each, the columns whose Parquet type is
// TIMESTAMP(NANOS, UTC), its row groups, its key-value
// metadata and the first rows (-limit N, default 1000) as text cells that the
// Go test (capture/parquet_test.go) compares with the records of the
// .ncap.gz file of the same run:
//
//   timestamps  epoch_ns(c)        (nanoseconds, as the record holds them)
//   BLOB        lower(hex(c))      (as net dump -json prints bytes)
//   lists       len(c)
//   maps        cardinality(c)
//   structs     "struct", or null when the record has no such message
//   the rest    CAST(c AS VARCHAR)
//
// usage: node check.mjs [-limit N] [-list file] [file.parquet...]
// (-list: a file naming one Parquet file per line, for more files than a
// command line holds)
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
let limit = 1000;
for (;;) {
  if (args[0] === '-limit') {
    limit = Number(args[1]);
    args.splice(0, 2);
  } else if (args[0] === '-list') {
    const list = readFileSync(args[1], 'utf8').split('\n').filter((l) => l !== '');
    args.splice(0, 2, ...list);
  } else {
    break;
  }
}

const quote = (name) => '"' + name.replaceAll('"', '""') + '"';
const lit = (s) => "'" + s.replaceAll("'", "''") + "'";

function cell(name, type) {
  const c = quote(name);
  if (type.endsWith('[]')) return `CAST(len(${c}) AS VARCHAR)`;
  if (type.startsWith('MAP(')) return `CAST(cardinality(${c}) AS VARCHAR)`;
  if (type.startsWith('STRUCT(')) return `CASE WHEN ${c} IS NULL THEN NULL ELSE 'struct' END`;
  if (type.startsWith('TIMESTAMP')) return `CAST(epoch_ns(${c}) AS VARCHAR)`;
  if (type === 'BLOB') return `lower(hex(${c}))`;
  return `CAST(${c} AS VARCHAR)`;
}

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await instance.connect();
for (const file of args) {
  const src = `read_parquet(${lit(file)})`;
  const desc = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjects();
  const columns = desc.map((r) => ({ name: r.column_name, type: r.column_type }));
  const rows = Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM ${src}`)).getRowObjects()[0].n);
  const groups = Number((await conn.runAndReadAll(
    `SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata(${lit(file)})`)).getRowObjects()[0].n);
  const kv = {};
  for (const r of (await conn.runAndReadAll(
    `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${lit(file)})`)).getRowObjects()) {
    if (r.k.startsWith('netcap.')) kv[r.k] = r.v;
  }
  // The Parquet logical type, not DuckDB's reading of it: DuckDB shows
  // TIMESTAMP(NANOS, UTC) as TIMESTAMP WITH TIME ZONE, at microseconds.
  const nanos = (await conn.runAndReadAll(
    `SELECT name FROM parquet_schema(${lit(file)}) WHERE logical_type LIKE '%isAdjustedToUTC=1%NANOS=NanoSeconds%'`))
    .getRowObjects().map((r) => r.name);
  let values = [];
  if (columns.length > 0 && limit > 0) {
    const sql = `SELECT ${columns.map((c) => cell(c.name, c.type)).join(', ')} FROM ${src} LIMIT ${limit}`;
    values = (await conn.runAndReadAll(sql)).getRows().map((r) => r.map((v) => (v === null ? null : String(v))));
  }
  process.stdout.write(JSON.stringify({ file, rows, groups, columns, nanos, kv, values }) + '\n');
}
