import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  GROUP_JOB_MAX_VERSIONS,
  type PlannedJob,
  PROCESS_VERSIONS_JOB,
  PROCESSING_QUEUE,
  planJobs,
} from '../../src/queue/jobs.js';
import { DocumentQueue } from '../../src/queue/producer.js';
import { eventually, silentLogger, uniqueName } from '../helpers/context.js';

// A queue of its own (its own prefix) that no worker consumes: jobs stay where they are put.
let redis: Redis;
let queue: DocumentQueue;
beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  queue = new DocumentQueue(redis, uniqueName('producer'), silentLogger);
});
afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
});

const version = () => ({ documentId: randomUUID(), version: 1, tenantId: 'default' });

describe('planJobs', () => {
  it('groups versions in order, up to GROUP_JOB_MAX_VERSIONS a job; a version left alone gets its own job', () => {
    const versions = Array.from({ length: GROUP_JOB_MAX_VERSIONS * 2 + 1 }, version);
    const jobs = planJobs(versions);
    expect(jobs.map((job) => job.versions.length)).toEqual([
      GROUP_JOB_MAX_VERSIONS,
      GROUP_JOB_MAX_VERSIONS,
      1,
    ]);
    expect(jobs.flatMap((job) => job.versions)).toEqual(versions);
    const last = versions.at(-1) as ReturnType<typeof version>;
    expect(jobs[2]?.jobId).toBe(`${last.documentId}-v1`);
    expect(jobs[0]?.jobId).toMatch(new RegExp(`^${versions[0]?.documentId}-v1-group-[0-9a-f]{16}$`));
    // Another group that starts with the same version is another job.
    const regrouped = planJobs([versions[0] as ReturnType<typeof version>, version()]);
    expect(regrouped[0]?.jobId).not.toBe(planJobs(versions.slice(0, 2))[0]?.jobId);
    expect(planJobs(versions.slice(0, 2))[0]?.jobId).toBe(planJobs(versions.slice(0, 2))[0]?.jobId);
  });
});

describe('reviveJobs', () => {
  it('leaves a version in a live group job alone and enqueues those whose job, own or group, is gone', async () => {
    const grouped = [version(), version()];
    const [group] = planJobs(grouped);
    await queue.enqueuePlanned([group as NonNullable<typeof group>]);
    const added = await queue.queue.getJob(group?.jobId as string);
    expect(added?.name).toBe(PROCESS_VERSIONS_JOB);

    const withoutJob = version();
    const inVanishedGroup = { ...version(), groupJobId: 'no-such-job-group' };
    const revived = await queue.reviveJobs([
      { ...(grouped[0] as ReturnType<typeof version>), groupJobId: group?.jobId as string },
      withoutJob,
      inVanishedGroup,
    ]);
    expect(revived).toBe(2);
    const own = async (v: { documentId: string }) => queue.queue.getJob(`${v.documentId}-v1`);
    expect(await own(grouped[0] as ReturnType<typeof version>)).toBeUndefined();
    expect(await own(withoutJob)).toBeDefined();
    expect(await own(inVanishedGroup)).toBeDefined();

    // Once the group job is gone, its versions are revived too.
    await added?.remove();
    expect(
      await queue.reviveJobs([
        { ...(grouped[1] as ReturnType<typeof version>), groupJobId: group?.jobId as string },
      ]),
    ).toBe(1);
  });

  it('revives the versions of a group job that completed or failed, and leaves a delayed one alone', async () => {
    // A queue of its own, with a consumer that completes one group job and fails the other.
    const finishing = new DocumentQueue(redis, uniqueName('producer-finished'), silentLogger);
    const [done, failed, delayed] = [
      planJobs([version(), version()]),
      planJobs([version(), version()]),
      planJobs([version(), version()]),
    ].map((jobs) => jobs[0] as PlannedJob) as [PlannedJob, PlannedJob, PlannedJob];
    const consumer = new Worker(
      PROCESSING_QUEUE,
      async (job) => {
        if (job.id === failed.jobId) throw new UnrecoverableError('failed on purpose');
      },
      { connection: redis.duplicate(), prefix: finishing.queue.opts.prefix as string },
    );
    try {
      await finishing.enqueuePlanned([done, failed]);
      await finishing.queue.add(
        PROCESS_VERSIONS_JOB,
        { versions: delayed.versions },
        { jobId: delayed.jobId, delay: 60_000 },
      );
      await eventually(async () => {
        const states = await Promise.all([done, failed].map((job) => finishing.queue.getJobState(job.jobId)));
        return states.join() === 'completed,failed' ? true : undefined;
      });
      const stranded = [done, failed, delayed].map((job) => ({
        ...(job.versions[0] as ReturnType<typeof version>),
        groupJobId: job.jobId,
      }));
      expect(await finishing.reviveJobs(stranded)).toBe(2);
      const own = async (v: { documentId: string }) => finishing.queue.getJob(`${v.documentId}-v1`);
      expect(await own(stranded[0] as ReturnType<typeof version>)).toBeDefined();
      expect(await own(stranded[1] as ReturnType<typeof version>)).toBeDefined();
      expect(await own(stranded[2] as ReturnType<typeof version>)).toBeUndefined();
    } finally {
      await consumer.close();
      await finishing.close();
    }
  });
});
