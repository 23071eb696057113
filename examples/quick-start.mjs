import { Pool } from 'undici';
import { ClientPool } from 'clientpool';

const urls = (process.env.UPSTREAMS ?? 'http://127.0.0.1:8081,http://127.0.0.1:8082').split(',');
const pool = new ClientPool({ timeout: 2_000, retry: { attempts: 2 } }); // 2 s per attempt; 1 retry elsewhere
for (const url of urls) pool.add(new Pool(url), { name: new URL(url).host, close: (client) => client.close() });

try {
  for (let i = 0; i < 4; i++) {
    const text = await pool.run(async (client, call) => {
      const response = await client.request({ path: '/', method: 'GET', signal: call.signal });
      if (response.statusCode >= 500) {
        await response.body.dump(); // undici resolves on HTTP 503: throw, so the breaker and retry see it
        throw new Error(`HTTP ${response.statusCode} from ${call.clientName}`);
      }
      return response.body.text();
    }, { method: 'get_root' });
    console.log(text);
  }
} finally {
  await pool.close(); // waits for calls in flight, then closes every undici Pool
}
