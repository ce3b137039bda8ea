import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/stack/binaries.js';
import { createTestApp, type TestContext } from '../helpers/context.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestApp();
  // Some traffic, so the histograms and counters have samples.
  await ctx.app.inject({ method: 'POST', url: '/api/v1/documents', payload: { content: 'counted words' } });
  await ctx.app.handoff.settled(); // its job is enqueued behind the answer
  await ctx.app.inject({ method: 'GET', url: '/api/v1/documents/01900000-0000-7000-8000-000000000000' });
});
afterAll(async () => {
  await ctx?.close();
});

describe('GET /metrics', () => {
  it('exposes the HTTP, document, stage and queue series', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    expect(text).toMatch(
      /ingestd_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/documents",status_code="202"\} 1/,
    );
    expect(text).toMatch(/route="\/api\/v1\/documents\/:id",status_code="404"/);
    expect(text).toMatch(/^ingestd_documents_accepted_total 1$/m);
    expect(text).toContain('# TYPE ingestd_documents_completed_total counter');
    expect(text).toContain('# TYPE ingestd_processing_stage_duration_seconds histogram');
    expect(text).toMatch(/^ingestd_queue_jobs\{state="waiting"\} 1$/m);
    expect(text).toMatch(/^ingestd_queue_oldest_waiting_age_seconds \d/m);
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('passes promtool check metrics', async () => {
    const promtool = findExecutable('promtool');
    expect(promtool, 'promtool is installed by `ingestd setup` (Debian package prometheus)').toBeDefined();
    const { body } = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    const result = spawnSync(promtool as string, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('GET /docs', () => {
  it('serves the OpenAPI document with the documents routes', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const spec = response.json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/documents',
        '/api/v1/documents/batch',
        '/api/v1/documents/{id}',
        '/api/v1/documents/{id}/chunks',
      ]),
    );
    // content or url: exactly one is required, which the schema states as a refinement.
    expect(
      Object.keys(
        spec.paths['/api/v1/documents'].post.requestBody.content['application/json'].schema.properties,
      ),
    ).toEqual(expect.arrayContaining(['content', 'url']));
    const ui = await ctx.app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
  });
});
