import { isDataRejectedError } from '../errors.js';
import type { NewDocument, VersionOutcome } from '../store/documents.js';
import { commitAndEnqueue, type HandoffDeps } from './handoff.js';

export interface GroupCommitOptions {
  /** Most documents committed by one statement. Default 256 */
  maxDocuments?: number;
  /** Most commits in flight at once (each on its own connection). Default 2 */
  maxInFlight?: number;
}

interface Waiting {
  document: NewDocument;
  resolve: (outcome: VersionOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for single-document requests: documents that arrive while earlier commits are in
 * flight are gathered and committed together, by one INSERT, one WAL flush and one queue round
 * trip, and each request is answered once its own row is durable. Self-clocking, with no timer:
 * with nothing in flight a document is committed at once (no added latency when the service is
 * quiet), and the busier it gets the larger the groups, which is when it pays.
 *
 * Documents with an externalId may be new versions of earlier ones; they take the versioning
 * path one by one. A group the database refuses for its data (one bad row) is retried one
 * document at a time, so only the bad one fails.
 */
export class GroupCommit {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private readonly maxDocuments: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly deps: HandoffDeps,
    options: GroupCommitOptions = {},
  ) {
    this.maxDocuments = options.maxDocuments ?? 256;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  /** Commits the document (with others arriving meanwhile) and enqueues its job. */
  submit(document: NewDocument): Promise<VersionOutcome> {
    if (document.externalId !== null) {
      return commitAndEnqueue(this.deps, [document]).then(([outcome]) => outcome as VersionOutcome);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ document, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.maxDocuments);
      this.inFlight++;
      this.commitGroup(group).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    try {
      const outcomes = await commitAndEnqueue(
        this.deps,
        group.map((waiting) => waiting.document),
      );
      for (const [i, waiting] of group.entries()) waiting.resolve(outcomes[i] as VersionOutcome);
    } catch (error) {
      if (group.length > 1 && isDataRejectedError(error)) {
        // One row spoilt the statement: commit each on its own so only that one fails.
        await Promise.all(
          group.map((waiting) =>
            commitAndEnqueue(this.deps, [waiting.document]).then(
              ([outcome]) => waiting.resolve(outcome as VersionOutcome),
              waiting.reject,
            ),
          ),
        );
        return;
      }
      for (const waiting of group) waiting.reject(error);
    }
  }
}
