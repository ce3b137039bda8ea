import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createTestConfig } from '../helpers/context.js';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

function ingestd(databaseUrl: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [cli, 'keys', ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('ingestd keys', () => {
  it('creates a key (alone on the last line), lists it without its secret, and revokes it', async () => {
    const config = await createTestConfig({ AUTH_REQUIRED: 'true', API_KEY_CACHE_MS: '0' });
    const app = await buildApp({ config });
    try {
      const created = ingestd(
        config.DATABASE_URL,
        'create',
        '--tenant',
        'acme',
        '--scopes',
        'ingest,read',
        '--name',
        'loader',
      );
      expect(created.status, created.stderr).toBe(0);
      const key = created.stdout.trimEnd().split('\n').at(-1) as string;
      expect(key).toMatch(/^ingestd_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      const prefix = key.split('_')[1] as string;

      const posted = await app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        headers: { authorization: `Bearer ${key}` },
        payload: { content: 'from the loader' },
      });
      expect(posted.statusCode).toBe(202);

      const listed = ingestd(config.DATABASE_URL, 'list', '--tenant', 'acme');
      expect(listed.status).toBe(0);
      expect(listed.stdout).toContain(prefix);
      expect(listed.stdout).toContain('ingest,read');
      expect(listed.stdout).toContain('loader');
      // The secret is base64url, so it may itself hold '_': it is everything after the prefix.
      const secret = key.slice(`ingestd_${prefix}_`.length);
      expect(secret).toHaveLength(43);
      expect(listed.stdout).not.toContain(secret);

      expect(ingestd(config.DATABASE_URL, 'revoke', prefix).status).toBe(0);
      expect(ingestd(config.DATABASE_URL, 'list').stdout).toMatch(/revoked/);
      const refused = await app.inject({
        method: 'GET',
        url: '/api/v1/documents',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(refused.statusCode).toBe(401);
      // Revoking twice, or an unknown key, is an error.
      expect(ingestd(config.DATABASE_URL, 'revoke', prefix).status).not.toBe(0);
    } finally {
      await app.close();
    }
  });

  it('refuses unknown scopes and bad tenant names with exit code 2', async () => {
    const config = await createTestConfig();
    const badScope = ingestd(config.DATABASE_URL, 'create', '--tenant', 'acme', '--scopes', 'ingest,root');
    expect(badScope.status).toBe(2);
    expect(badScope.stderr).toContain('--scopes');
    const badTenant = ingestd(config.DATABASE_URL, 'create', '--tenant', 'a b');
    expect(badTenant.status).toBe(2);
  });
});
