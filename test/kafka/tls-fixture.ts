// A throwaway CA, a broker certificate for 127.0.0.1 and a client certificate, made with the
// openssl CLI in a temp folder for the tests that run their own TLS broker.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TlsFixture {
  dir: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Broker PEM key store (key + certificate) and trust store (CA) files. */
  brokerKeystore: string;
  brokerTruststore: string;
  remove(): void;
}

export function makeTlsFixture(): TlsFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-tls-'));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test-ca');
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, subject, ext] of [['server', '/CN=127.0.0.1', ['-extfile', 'server.ext']], ['client', '/CN=node-red', []]] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', ...ext);
  }
  fs.writeFileSync(f('broker-keystore.pem'), fs.readFileSync(f('server.key'), 'utf8') + fs.readFileSync(f('server.pem'), 'utf8'));
  return {
    dir,
    caPem: fs.readFileSync(f('ca.pem'), 'utf8'),
    clientCertPem: fs.readFileSync(f('client.pem'), 'utf8'),
    clientKeyPem: fs.readFileSync(f('client.key'), 'utf8'),
    brokerKeystore: f('broker-keystore.pem'),
    brokerTruststore: f('ca.pem'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
