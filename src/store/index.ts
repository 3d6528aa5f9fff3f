// store: persistence. SQLite (better-sqlite3, WAL) by default; modules add their tables via migrations.
export { openStore } from './sqlite.ts';
export type { Store, Migrations, SqliteDatabase } from './sqlite.ts';
