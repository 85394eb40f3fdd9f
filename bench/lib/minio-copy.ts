/**
 * The floor for moving an object through a client: the `minio` client
 * streaming one object get → put, as a user's script would copy it
 * (stat for the size, then getObject piped into putObject).
 *
 *   node dist/bench/lib/minio-copy.js http://ACCESS:SECRET@host:port SRC_BUCKET SRC_KEY DST_BUCKET DST_KEY
 */
import { Client } from 'minio';

const [url, srcBucket, srcKey, dstBucket, dstKey] = process.argv.slice(2) as [string, string, string, string, string];
const u = new URL(url);
const client = new Client({
  endPoint: u.hostname,
  port: Number(u.port),
  useSSL: u.protocol === 'https:',
  accessKey: decodeURIComponent(u.username),
  secretKey: decodeURIComponent(u.password),
});
const { size } = await client.statObject(srcBucket, srcKey);
const body = await client.getObject(srcBucket, srcKey);
await client.putObject(dstBucket, dstKey, body, size);
