/** Tests of the run store skip, visibly, where the optional SQLite driver could not be built at install. */
import { createRequire } from 'node:module';

export const noSqlite: string | false = (() => {
  try {
    createRequire(import.meta.url)('better-sqlite3');
    return false;
  } catch {
    return 'better-sqlite3 is not installed (it needs a C++ compiler at npm install)';
  }
})();
