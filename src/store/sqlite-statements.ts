import type Database from 'better-sqlite3';

/** Distinct statements a connection keeps prepared; past it the cache starts over, so queries of many shapes only ever cost a re-prepare. */
const MAX_STATEMENTS = 256;

/**
 * `sql` prepared on `db` once and kept in `cache`, one cache per connection (a
 * statement belongs to the connection that compiled it): the planners emit
 * the same few shapes again and again, and compiling costs more than running
 * an indexed lookup. Used by the metadata store's connection, its stream
 * readers and the tracking store's connection.
 */
export function preparedOnce(db: Database.Database, cache: Map<string, Database.Statement>, sql: string): Database.Statement {
  let stmt = cache.get(sql);
  if (!stmt) {
    if (cache.size >= MAX_STATEMENTS) cache.clear();
    stmt = db.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}
