/** Test helper: run a training job in-process and collect its messages, each checked against the protocol's schema. */
import { train, type CancelSignal } from '../../../src/engine/train';
import { EngineToMainSchema, type EngineToMain, type TrainJob } from '../../../src/shared/engine-protocol';

/** Train `job`, calling `onMsg` with each message as it comes; @returns every message in order. */
export async function runJob(job: TrainJob, onMsg?: (m: EngineToMain) => void, signal?: CancelSignal): Promise<EngineToMain[]> {
  const msgs: EngineToMain[] = [];
  await train(
    job,
    (m) => {
      EngineToMainSchema.parse(m);
      msgs.push(m);
      onMsg?.(m);
    },
    signal,
  );
  return msgs;
}
