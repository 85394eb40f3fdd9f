/**
 * The floor of one-durable-commit-per-request logging over HTTP, for
 * bench:tracking: a bare node:http server (its own process, like `mlmodel
 * serve`) that reads each POST's JSON body, does one bare durable SQLite
 * commit (a row inserted and a row updated, WAL, synchronous = FULL — what a
 * logged point costs at the least) and answers a one-row JSON result. No
 * language, no runner, no tracking tables: what is left of a request's time
 * is the round trip and the disk's commit, with the gap between commits that
 * a client sending one request at a time leaves.
 *
 *   node durable-http-floor.js DB PORT
 */
import { createServer } from 'node:http';
import { bareCommitter } from './bare-commit.js';

const [dbPath, port] = process.argv.slice(2);
if (!dbPath || !port) throw new Error('usage: durable-http-floor DB PORT');
const floor = bareCommitter(dbPath, 'WAL');

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let status = 200;
    let answer: string;
    if (req.method === 'POST') {
      const text = Buffer.concat(chunks).toString('utf8');
      JSON.parse(text);
      floor.commit(text);
      answer = JSON.stringify({ fields: [{ name: 'ok', type: 'INTEGER' }], results: [[1]] });
    } else if (req.method === 'GET') {
      answer = JSON.stringify({ fields: [], results: [] });
    } else {
      status = 405;
      answer = '{}';
    }
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  floor.close();
  process.exit(0);
});
